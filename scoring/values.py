"""Long-format indicator values: reading, validation, period order and reshaping.

The long format is one row per (compound_id, indicator_id, period) with columns
``compound_id, housing_type, indicator_id, period, value``. Ids and periods are kept as strings;
periods sort numerically when they all look like numbers (2019, 2020 …) and as text otherwise
(ISO weeks ``2026-W05`` sort correctly as text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.errors import ScoringInputError
from scoring.structure import HOUSING_TYPES

VALUE_COLUMNS: tuple[str, ...] = ("compound_id", "housing_type", "indicator_id", "period", "value")
_TEXT_COLUMNS = VALUE_COLUMNS[:4]


def read_values_file(path: str | Path) -> pd.DataFrame:
    """Read a CSV or XLSX values file as text cells (validation parses them)."""
    path = Path(path)
    try:
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            return pd.read_excel(path, dtype=str, keep_default_na=False)
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, ValueError) as exc:
        raise ScoringInputError(f"cannot read values file: {exc}", file=str(path)) from exc


def validate_values(
    frame: pd.DataFrame, catalog: pd.DataFrame, *, source: str = "<values>", first_row: int = 2
) -> pd.DataFrame:
    """Check a long-format frame and return a clean copy (text ids, float values).

    Rejects, naming the row (``first_row`` is the number of the frame's first row in its file:
    2 for a spreadsheet with a header) and column: missing columns, empty cells, unknown housing
    types, unknown indicator ids, indicators the engine computes itself (source = change),
    non-numeric or infinite values, duplicate (compound, indicator, period) rows, and a compound
    given two housing types.
    """
    missing = [col for col in VALUE_COLUMNS if col not in frame.columns]
    if missing:
        raise ScoringInputError(
            "required column is missing", file=source, row=1, column=missing[0]
        )
    data = frame.loc[:, list(VALUE_COLUMNS)].reset_index(drop=True)
    check = _RowChecker(source, first_row)
    text = {col: _stripped_text(data[col]) for col in _TEXT_COLUMNS}
    for col in _TEXT_COLUMNS:
        check(text[col].isna() | (text[col] == ""), col, lambda _: "empty cell")
    kinds = text["housing_type"]
    check(
        ~kinds.isin(HOUSING_TYPES),
        "housing_type",
        lambda at: f"unknown housing type '{kinds.iloc[at]}' (use {', '.join(HOUSING_TYPES)})",
    )
    ids = text["indicator_id"]
    check(
        ~ids.isin(catalog.index),
        "indicator_id",
        lambda at: f"unknown indicator id '{ids.iloc[at]}' (not in the catalogue)",
    )
    check(
        ids.map(catalog["source"]).eq("change"),
        "indicator_id",
        lambda at: (
            f"'{ids.iloc[at]}' is computed by the engine from consecutive periods; "
            "leave it out of the values"
        ),
    )
    value = _numeric(data["value"])
    check(
        pd.Series(~np.isfinite(value)),
        "value",
        lambda at: f"'{data['value'].iloc[at]}' is not a number",
    )
    clean = pd.DataFrame({col: text[col].astype(str) for col in _TEXT_COLUMNS})
    clean["value"] = value
    _check_duplicates(clean, check)
    return clean


class _RowChecker:
    """Raise a ScoringInputError for the first row where a mask is true."""

    def __init__(self, source: str, first_row: int) -> None:
        self.source = source
        self.first_row = first_row

    def __call__(self, bad: pd.Series, column: str, message: Callable[[int], str]) -> None:
        flags = bad.to_numpy(dtype=bool, na_value=True)
        if flags.any():
            at = int(np.flatnonzero(flags)[0])
            raise ScoringInputError(message(at), file=self.source, row=self.row(at), column=column)

    def row(self, position: int) -> int:
        return self.first_row + position


def _stripped_text(column: pd.Series) -> pd.Series:
    """Return the column as text without surrounding blanks (work on distinct values only)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    cleaned = pd.Series(uniques, dtype="string").str.strip().to_numpy(dtype=object, na_value=None)
    out = np.where(codes >= 0, cleaned[np.maximum(codes, 0)] if len(cleaned) else None, None)
    return pd.Series(out, index=column.index, dtype="string")


def _check_duplicates(clean: pd.DataFrame, check: _RowChecker) -> None:
    key = ["compound_id", "indicator_id", "period"]

    def duplicate_of(at: int) -> str:
        same = (clean[key] == clean.loc[at, key]).all(axis=1).to_numpy()
        first = check.row(int(np.flatnonzero(same)[0]))
        return f"duplicate of row {first} (same compound, indicator and period)"

    combined = np.zeros(len(clean), dtype=np.int64)
    for col in key:
        codes, uniques = pd.factorize(clean[col])
        combined = combined * (len(uniques) + 1) + codes
    check(pd.Series(combined).duplicated(keep="first"), "indicator_id", duplicate_of)
    pairs = clean.drop_duplicates(["compound_id", "housing_type"])
    clash = pairs.index[pairs.duplicated("compound_id", keep="first").to_numpy()]

    def other_type(at: int) -> str:
        compound = clean.at[at, "compound_id"]
        first = clean.loc[clean["compound_id"] == compound, "housing_type"].iloc[0]
        return f"compound '{compound}' was given housing type '{first}' in an earlier row"

    check(pd.Series(clean.index.isin(clash)), "housing_type", other_type)


def _numeric(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=float, na_value=np.nan)
    parsed = pd.to_numeric(column.astype("string").str.strip(), errors="coerce")
    return parsed.to_numpy(dtype=float, na_value=np.nan)


def sort_periods(periods: Sequence[str] | pd.Index | pd.Series) -> list[str]:
    """Return the distinct period labels in time order."""
    labels = sorted(str(p) for p in pd.unique(np.asarray(periods, dtype=object)))
    numbers = pd.to_numeric(pd.Series(labels, dtype="string"), errors="coerce")
    if len(labels) and numbers.notna().all():
        return [label for _, label in sorted(zip(numbers.tolist(), labels, strict=True))]
    return labels


def housing_types_of(values: pd.DataFrame) -> pd.Series:
    """Return each compound's housing type (indexed by compound_id, sorted)."""
    pairs = values.drop_duplicates("compound_id").set_index("compound_id")["housing_type"]
    return pairs.sort_index().rename("housing_type")


def wide_values(values: pd.DataFrame, periods: Sequence[str], leaves: pd.Index) -> pd.DataFrame:
    """Return raw values as a (period, compound_id) x indicator frame for the given periods."""
    subset = values[values["period"].isin(list(periods))]
    wide = subset.pivot(index=["period", "compound_id"], columns="indicator_id", values="value")
    wide.columns.name = None
    return wide.reindex(columns=leaves).sort_index()
