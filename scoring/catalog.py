"""Load and validate the indicator catalogue (``catalog.toml`` or a CSV with the same fields).

The catalogue is returned as a DataFrame indexed by indicator id, in file order, with one column
per field. Validation names the file, the entry (row, counted from 1) and the field (column).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from scoring.errors import ScoringInputError
from scoring.structure import (
    DIMENSIONS,
    DIRECTIONS,
    SCALINGS,
    SOURCES,
    SUBINDEX_DIMENSION,
)

REQUIRED_FIELDS: tuple[str, ...] = (
    "id",
    "zh",
    "en",
    "dimension",
    "subindex",
    "direction",
    "source",
    "unit",
    "scaling",
    "window_weeks",
)
OPTIONAL_FIELDS: dict[str, Any] = {
    "paper": "",
    "annualise": False,
    "bounds": None,
    "derive": "",
    "categories": (),
    "activity_types": (),
    "meeting_types": (),
    "field": "",
    "fields": "",
    "change_of": "",
}
CATALOG_COLUMNS: tuple[str, ...] = (*REQUIRED_FIELDS[1:], *OPTIONAL_FIELDS)
DERIVE_RULES: tuple[str, ...] = (
    "activity_count",
    "activity_sum",
    "party_volunteer_share",
    "issue_count",
    "closing_days",
    "deadline_compliance",
    "reopen_rate",
    "mean_rating",
    "checkin_rate",
)
_LIST_FIELDS = ("categories", "activity_types", "meeting_types")


def default_catalog_path() -> Path:
    """Return the path of the catalogue shipped with the package."""
    return Path(__file__).with_name("catalog.toml")


def load_catalog(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate a catalogue file (TOML ``[[indicator]]`` entries, or CSV)."""
    path = Path(path) if path is not None else default_catalog_path()
    name = str(path)
    try:
        if path.suffix.lower() == ".csv":
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
            records = [_csv_record(rec) for rec in raw.to_dict("records")]
        else:
            with path.open("rb") as handle:
                records = tomllib.load(handle).get("indicator", [])
    except (OSError, tomllib.TOMLDecodeError, pd.errors.ParserError) as exc:
        raise ScoringInputError(f"cannot read catalogue: {exc}", file=name) from exc
    return catalog_from_records(records, source=name)


def catalog_from_records(records: Sequence[Mapping[str, Any]], *, source: str) -> pd.DataFrame:
    """Validate catalogue entries and return them as a frame indexed by indicator id."""
    if not records:
        raise ScoringInputError("the catalogue has no indicators", file=source)
    rows = [_validated_entry(rec, row, source) for row, rec in enumerate(records, start=1)]
    catalog = pd.DataFrame(rows).set_index("id")
    _check_unique_ids(catalog, source)
    _check_change_targets(catalog, source)
    return catalog


def _csv_record(rec: Mapping[str, str]) -> dict[str, Any]:
    """Turn one CSV row into the TOML shapes: lists split on '|', numbers and booleans parsed."""
    out: dict[str, Any] = {key: value for key, value in rec.items() if value != ""}
    for key in _LIST_FIELDS:
        if key in out:
            out[key] = [part.strip() for part in out[key].split("|") if part.strip()]
    if "bounds" in out:
        out["bounds"] = [part.strip() for part in out["bounds"].split("|")]
    if "annualise" in out:
        out["annualise"] = out["annualise"].strip().lower() in {"1", "true", "yes"}
    return out


def _validated_entry(rec: Mapping[str, Any], row: int, source: str) -> dict[str, Any]:
    """Check one entry's fields and fill the optional ones with their defaults."""

    def fail(column: str, message: str) -> ScoringInputError:
        return ScoringInputError(message, file=source, row=row, column=column)

    for field in REQUIRED_FIELDS:
        if field not in rec or rec[field] in ("", None):
            raise fail(field, "required field is missing")
    unknown = sorted(set(rec) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise fail(unknown[0], "unknown field")
    entry = {**OPTIONAL_FIELDS, **dict(rec)}
    _check_choice(entry, "dimension", DIMENSIONS, fail)
    _check_choice(entry, "subindex", tuple(SUBINDEX_DIMENSION), fail)
    if SUBINDEX_DIMENSION[entry["subindex"]] != entry["dimension"]:
        raise fail(
            "subindex",
            f"sub-index '{entry['subindex']}' belongs to dimension "
            f"'{SUBINDEX_DIMENSION[entry['subindex']]}', not '{entry['dimension']}'",
        )
    _check_choice(entry, "direction", DIRECTIONS, fail)
    _check_choice(entry, "source", SOURCES, fail)
    _check_choice(entry, "scaling", SCALINGS, fail)
    entry["window_weeks"] = _non_negative_int(entry["window_weeks"], fail)
    entry["bounds"] = _bounds(entry["bounds"], fail)
    for field in _LIST_FIELDS:
        entry[field] = tuple(str(item) for item in entry[field])
    if entry["source"] == "derived":
        _check_choice(entry, "derive", DERIVE_RULES, fail)
        if entry["window_weeks"] == 0:
            raise fail("window_weeks", "a derived indicator needs a window of at least 1 week")
    if entry["source"] == "change" and not entry["change_of"]:
        raise fail("change_of", "a change indicator needs change_of")
    entry["annualise"] = bool(entry["annualise"])
    return {key: entry[key] for key in ("id", *CATALOG_COLUMNS)}


def _check_choice(entry: Mapping[str, Any], field: str, allowed: Sequence[str], fail: Any) -> None:
    if entry[field] not in allowed:
        raise fail(field, f"'{entry[field]}' is not one of {', '.join(allowed)}")


def _non_negative_int(value: Any, fail: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise fail("window_weeks", f"'{value}' is not a whole number of weeks") from None
    if number < 0 or str(number) != str(value).strip():
        raise fail("window_weeks", f"'{value}' is not a whole number of weeks")
    return number


def _bounds(value: Any, fail: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        low, high = (float(item) for item in value)
    except (TypeError, ValueError):
        raise fail("bounds", "bounds must be two numbers [min, max]") from None
    if not low < high:
        raise fail("bounds", "bounds must satisfy min < max")
    return (low, high)


def _check_unique_ids(catalog: pd.DataFrame, source: str) -> None:
    duplicated = catalog.index.duplicated()
    if duplicated.any():
        row = int(duplicated.argmax()) + 1
        raise ScoringInputError(
            f"indicator id '{catalog.index[row - 1]}' appears twice",
            file=source,
            row=row,
            column="id",
        )


def _check_change_targets(catalog: pd.DataFrame, source: str) -> None:
    """A change indicator must point at a dimension, sub-index or indicator outside 能力进步."""
    for row, (ind, target) in enumerate(catalog["change_of"].items(), start=1):
        if catalog.at[ind, "source"] != "change":
            if target:
                raise ScoringInputError(
                    "change_of is only for source = change",
                    file=source,
                    row=row,
                    column="change_of",
                )
            continue
        kind, _, name = str(target).partition(":")
        if kind == "dimension":
            ok = name in DIMENSIONS and name != "progress"
        elif kind == "subindex":
            ok = name in SUBINDEX_DIMENSION and SUBINDEX_DIMENSION[name] != "progress"
        elif kind == "indicator":
            ok = name in catalog.index and catalog.at[name, "source"] != "change"
        else:
            ok = False
        if not ok:
            raise ScoringInputError(
                f"'{target}' is not a dimension:, subindex: or indicator: outside 能力进步 "
                "(a change of a change, or of progress itself, would be circular)",
                file=source,
                row=row,
                column="change_of",
            )
