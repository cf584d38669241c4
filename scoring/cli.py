"""``govbot index compute`` as a plain function: file in, file out, a summary back.

The ``govbot`` command (bot/cli.py) parses arguments and calls ``compute_index_file``; bad input
raises ``ScoringInputError`` (file, row, column) before anything is written, and the output file
appears whole or not at all (written beside the target, then renamed).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scoring.calibrate import SAMPLE_MODES
from scoring.catalog import load_catalog
from scoring.pipeline import compute_index
from scoring.values import read_values_file
from scoring.weights import WEIGHT_SCHEMES


@dataclass(frozen=True)
class ComputeSummary:
    """What ``compute_index_file`` did, for the command to print."""

    values_file: str
    out_file: str
    period: str
    compounds: int
    compounds_by_type: dict[str, int]
    thresholds_version: str
    weights: str
    sample: str
    seed: int
    draws: int
    mean_coverage: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_index_file(
    values_path: str | Path,
    out_path: str | Path,
    catalog_path: str | Path | None = None,
    weights: str = "equal",
    sample: str = "auto",
    seed: int = 0,
    draws: int = 1000,
) -> ComputeSummary:
    """Read long-format values (CSV/XLSX), score the latest period, write one row per compound.

    Output columns: compound_id, housing_type, period, total (0-100), management, vitality,
    satisfaction, progress (0-25 each), the eight sub-indices (0-1), coverage, rank_in_type,
    rank_low, rank_high. CSV unless ``out_path`` ends in .xlsx.
    """
    if weights not in WEIGHT_SCHEMES:
        raise ValueError(f"--weights must be one of {', '.join(WEIGHT_SCHEMES)}, not '{weights}'")
    if sample not in SAMPLE_MODES:
        raise ValueError(f"--sample must be one of {', '.join(SAMPLE_MODES)}, not '{sample}'")
    values_path, out_path = Path(values_path), Path(out_path)
    catalog = load_catalog(catalog_path)
    values = read_values_file(values_path)
    result = compute_index(
        values,
        catalog,
        weights=weights,
        sample=sample,
        seed=seed,
        draws=draws,
        source=str(values_path),
    )
    _write_atomically(result.table, out_path)
    counts = result.table["housing_type"].value_counts().sort_index()
    return ComputeSummary(
        values_file=str(values_path),
        out_file=str(out_path),
        period=result.snapshot.period,
        compounds=len(result.table),
        compounds_by_type={str(k): int(v) for k, v in counts.items()},
        thresholds_version=result.thresholds.version,
        weights=weights,
        sample=sample,
        seed=seed,
        draws=draws,
        mean_coverage=float(result.table["coverage"].mean()),
    )


def _write_atomically(table: pd.DataFrame, out_path: Path) -> None:
    partial = out_path.with_name(f".{out_path.name}.partial")
    try:
        if out_path.suffix.lower() == ".xlsx":
            table.to_excel(partial, index=False, engine="openpyxl")
        else:
            table.to_csv(partial, index=False, encoding="utf-8")
        os.replace(partial, out_path)
    finally:
        partial.unlink(missing_ok=True)
