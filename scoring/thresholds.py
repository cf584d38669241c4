"""Threshold sets: per housing type and indicator, the lower and upper bounds Z is measured on.

A ``ThresholdSet`` is frozen and versioned: the weekly job reuses one until someone rebuilds it,
so scores stay comparable week to week. It is plain data (``to_dict``/``to_json`` and back);
storing it is the caller's business.

How the bounds come from a type's sample (the paper: 最大值与最小值分别顺延10%):

- ``range`` (default): lower = min - 10% x (max - min), upper = max + 10% x (max - min).
  Extending by a share of the spread keeps the bounds in the indicator's own units and treats
  both ends alike, whatever the sign or scale of the values.
- ``multiplicative``: lower = min - 10% x |min|, upper = max + 10% x |max| (for non-negative
  values: min x 0.9 and max x 1.1). A literal reading of 顺延10%; it is unstable near zero.

Degenerate cases are recorded in the ``rule`` column and never divide by zero:

- ``no_data``: no sample compound of the type has the indicator; bounds are NaN, so the leaf is
  missing for that type and drops out of its sub-index (coverage shows it).
- ``natural_bounds``: the sample has no spread (all equal, or one compound) and the catalogue
  gives the quantity's natural range (shares and yes/no indicators: [0, 1]); those bounds are used.
- ``step``: no spread and no natural range. Z is 0.5 at the common value, 1 above it and 0 below
  it (reversed for negative indicators): better or worse than every sampled compound, or level.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

EXTENSIONS: tuple[str, ...] = ("range", "multiplicative")
TABLE_COLUMNS: tuple[str, ...] = (
    "housing_type",
    "indicator_id",
    "lower",
    "upper",
    "sample_min",
    "sample_max",
    "n_population",
    "n_sample",
    "n_observed",
    "rule",
)


@dataclass(frozen=True)
class ThresholdSet:
    """A versioned, frozen set of thresholds with the parameters and samples that built it."""

    version: str
    params: Mapping[str, Any]
    table: pd.DataFrame
    samples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        table: pd.DataFrame,
        params: Mapping[str, Any],
        samples: Mapping[str, tuple[str, ...]],
    ) -> ThresholdSet:
        """Build a set whose version is a digest of its content (same inputs, same version)."""
        table = table.loc[:, list(TABLE_COLUMNS)].reset_index(drop=True)
        body = _canonical(params, table, samples)
        version = "thr-" + hashlib.sha256(body.encode()).hexdigest()[:12]
        return cls(version, dict(params), table, {k: tuple(v) for k, v in samples.items()})

    def for_type(self, housing_type: str) -> pd.DataFrame:
        """Return this type's rows indexed by indicator id."""
        rows = self.table[self.table["housing_type"] == housing_type]
        return rows.set_index("indicator_id")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (NaN bounds become None)."""
        records = self.table.astype(object).where(self.table.notna(), None).to_dict("records")
        return {
            "version": self.version,
            "params": dict(self.params),
            "samples": {k: list(v) for k, v in self.samples.items()},
            "table": records,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ThresholdSet:
        table = pd.DataFrame(list(data["table"]), columns=list(TABLE_COLUMNS))
        for col in ("lower", "upper", "sample_min", "sample_max"):
            table[col] = pd.to_numeric(table[col]).astype(float)
        for col in ("n_population", "n_sample", "n_observed"):
            table[col] = table[col].astype(int)
        samples = {k: tuple(v) for k, v in data.get("samples", {}).items()}
        return cls(str(data["version"]), dict(data["params"]), table, samples)

    @classmethod
    def from_json(cls, text: str) -> ThresholdSet:
        return cls.from_dict(json.loads(text))


def _canonical(
    params: Mapping[str, Any], table: pd.DataFrame, samples: Mapping[str, tuple[str, ...]]
) -> str:
    rows = table.astype(object).where(table.notna(), None).to_dict("records")
    payload = {
        "params": params,
        "samples": {k: list(v) for k, v in samples.items()},
        "table": [{k: _plain(v) for k, v in row.items()} for row in rows],
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    return value


def threshold_bounds(
    sample_min: pd.Series,
    sample_max: pd.Series,
    natural: pd.Series,
    *,
    extension: str = "range",
    extend: float = 0.10,
) -> pd.DataFrame:
    """Return lower, upper and rule per indicator from the sample's min and max.

    ``natural`` holds each indicator's catalogue bounds (a (min, max) tuple or None).
    """
    if extension not in EXTENSIONS:
        raise ValueError(f"unknown threshold reading '{extension}' (use {', '.join(EXTENSIONS)})")
    lo = sample_min.to_numpy(dtype=float)
    hi = sample_max.to_numpy(dtype=float)
    if extension == "range":
        spread = hi - lo
        lower, upper = lo - extend * spread, hi + extend * spread
    else:
        lower, upper = lo - extend * np.abs(lo), hi + extend * np.abs(hi)
    has_natural = natural.reindex(sample_min.index).map(lambda b: b is not None).to_numpy(bool)
    no_data = np.isnan(lo) | np.isnan(hi)
    flat = ~no_data & (lo == hi)
    rule = np.select(
        [no_data, flat & has_natural, flat], ["no_data", "natural_bounds", "step"], "range"
    )
    natural_lo = [b[0] if b is not None else np.nan for b in natural.reindex(sample_min.index)]
    natural_hi = [b[1] if b is not None else np.nan for b in natural.reindex(sample_min.index)]
    lower = np.where(rule == "natural_bounds", natural_lo, np.where(rule == "step", lo, lower))
    upper = np.where(rule == "natural_bounds", natural_hi, np.where(rule == "step", lo, upper))
    return pd.DataFrame({"lower": lower, "upper": upper, "rule": rule}, index=sample_min.index)
