"""Importing static indicators (物业费收缴率, 文明小区, 12345 counts…) from a spreadsheet.

Two shapes are accepted, with Chinese or English headers:

* **wide** — what offices keep in Excel: one row per 小区, a 周期 (period) column, and one
  column per indicator, headed by its Chinese or English name or its id (``物业费收缴率``);
* **long** — ``小区, 指标, 周期, 数值`` (compound, indicator, period, value), one value per row.

A period is an ISO week (``2026-W47``), a date (its week), a month (``2026-11``: the week of
its first day) or a year (``2026``: week 1 of that year). Yes/no indicators take 是/否, 有/无,
Y/N or 1/0; shares take ``0.95`` or ``95%``. All rows or none: the report lists every bad cell
by line. Importing a value again for the same compound, indicator and period replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, select

from storage.errors import DomainError
from storage.importing import ImportReport, apply_rows, open_sheet
from storage.org import resolve_unit
from storage.spreadsheet import Sheet, SheetRow
from storage.tables import ImportedIndicator, UnitKind

LONG_ALIASES = {
    "小区": "compound",
    "compound": "compound",
    "compound_id": "compound",
    "指标": "indicator",
    "indicator": "indicator",
    "indicator_id": "indicator",
    "周期": "period",
    "period": "period",
    "时间": "period",
    "日期": "period",
    "年份": "period",
    "数值": "value",
    "value": "value",
    "值": "value",
}
YES = {"是", "有", "y", "yes", "true", "1", "√", "✓"}
NO = {"否", "无", "n", "no", "false", "0", "×", "✗"}


@dataclass(frozen=True)
class IndicatorSpec:
    """What the importer needs to know of an indicator (from the scoring catalogue)."""

    id: str
    names: tuple[str, ...]  # every header that means this indicator: id, zh, en
    scaling: str  # boolean | share | score | count | amount | per_1k_households | …


def import_indicator_file(
    session: Session,
    *,
    path: Path,
    indicators: Mapping[str, IndicatorSpec],
    now: datetime,
    within: set[int] | None = None,
    actor_member_id: int | None = None,
) -> ImportReport:
    """Import static indicator values; commits only if every row is good."""
    report = ImportReport(file=path.name)
    by_name = {name.strip().lower(): spec for spec in indicators.values() for name in spec.names}
    aliases = dict(LONG_ALIASES) | {name: f"ind:{spec.id}" for name, spec in by_name.items()}
    sheet = open_sheet(path, aliases, report, _required_columns)
    if sheet is None:
        return report
    long_form = "indicator" in sheet.columns
    wide_columns = sorted(c for c in sheet.columns if c.startswith("ind:"))
    specs = {spec.id: spec for spec in indicators.values()}

    def import_row(row: SheetRow) -> None:
        cells = _cells(row, long_form, wide_columns, by_name)
        _import_row(session, row, cells, specs, now, within, report)

    return apply_rows(
        session,
        sheet,
        report,
        import_row,
        now=now,
        actor_member_id=actor_member_id,
        action="import.indicators",
        entity="imported_indicator",
        detail={"file": path.name},
    )


def _required_columns(sheet: Sheet) -> list[str]:
    """Compound and period always; a long sheet needs a value column, a wide one indicators."""
    if "indicator" in sheet.columns:
        return ["compound", "period", "value"]
    has_indicators = any(c.startswith("ind:") for c in sheet.columns)
    return ["compound", "period"] + ([] if has_indicators else ["indicator"])


def _cells(
    row: SheetRow, long_form: bool, wide_columns: list[str], by_name: dict[str, IndicatorSpec]
) -> list[tuple[str, str]]:
    """``(indicator id, raw value)`` pairs of one row."""
    if long_form:
        name = row.values.get("indicator", "").strip()
        spec = by_name.get(name.lower())
        if spec is None:
            raise DomainError("import.unknown_indicator", value=name)
        return [(spec.id, row.values.get("value", ""))]
    return [(c.removeprefix("ind:"), row.values.get(c, "")) for c in wide_columns]


def _import_row(
    session: Session,
    row: SheetRow,
    cells: list[tuple[str, str]],
    specs: dict[str, IndicatorSpec],
    now: datetime,
    within: set[int] | None,
    report: ImportReport,
) -> None:
    compound_ref = row.values.get("compound", "").strip()
    if not compound_ref:
        raise DomainError("import.missing_value", column="compound")
    compound = resolve_unit(session, compound_ref)
    if compound.kind != UnitKind.COMPOUND:
        raise DomainError("import.not_a_compound", value=compound_ref)
    if within is not None and compound.id not in within:
        raise DomainError("unit.not_managed", unit=compound_ref)
    period = normalise_period(row.values.get("period", ""))
    for indicator_id, raw in cells:
        if not raw.strip():
            continue  # a blank cell in the wide form: no value for that indicator
        value = parse_value(raw, specs[indicator_id].scaling)
        key = (compound.id, indicator_id, period)
        if key in report.seen:
            raise DomainError("import.duplicate_row", first_line=report.seen[key])
        report.seen[key] = row.line
        existing = session.exec(
            select(ImportedIndicator).where(
                ImportedIndicator.compound_id == compound.id,
                ImportedIndicator.indicator_id == indicator_id,
                ImportedIndicator.period == period,
            )
        ).first()
        if existing is None:
            existing = ImportedIndicator(
                compound_id=compound.id,
                indicator_id=indicator_id,
                period=period,
                value=value,
                imported_at=now,
            )
        existing.value = value
        existing.imported_at = now
        session.add(existing)
        report.created["value"] = report.created.get("value", 0) + 1


def normalise_period(text: str) -> str:
    """An ISO week ``YYYY-Www`` from a week, a date, a month or a year (see the module doc)."""
    text = text.strip().replace("／", "/")
    if match := re.fullmatch(r"(\d{4})-?W(\d{1,2})", text, re.I):
        year, week = int(match[1]), int(match[2])
        _check_week(year, week, text)
        return f"{year}-W{week:02d}"
    for pattern in (r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", r"(\d{4})(\d{2})(\d{2})"):
        if match := re.fullmatch(pattern, text):
            return _week_of(int(match[1]), int(match[2]), int(match[3]), text)
    if match := re.fullmatch(r"(\d{4})[-/.年](\d{1,2})月?", text):
        return _week_of(int(match[1]), int(match[2]), 1, text)
    if match := re.fullmatch(r"(\d{4})年?", text):
        return f"{int(match[1])}-W01"
    raise DomainError("import.bad_period", value=text)


def _week_of(year: int, month: int, day: int, text: str) -> str:
    try:
        iso = date(year, month, day).isocalendar()
    except ValueError as exc:
        raise DomainError("import.bad_period", value=text) from exc
    return f"{iso.year}-W{iso.week:02d}"


def _check_week(year: int, week: int, text: str) -> None:
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise DomainError("import.bad_period", value=text) from exc


def parse_value(raw: str, scaling: str) -> float:
    """A number of the indicator's kind, or a DomainError saying what was expected."""
    text = raw.strip().replace(",", "").replace("，", "")
    if scaling == "boolean":
        if text.lower() in YES:
            return 1.0
        if text.lower() in NO:
            return 0.0
        raise DomainError("import.bad_boolean", value=raw)
    percent = text.endswith(("%", "％"))
    try:
        value = float(text.rstrip("%％"))
    except ValueError as exc:
        raise DomainError("import.bad_value", value=raw) from exc
    if percent:
        value /= 100
    if value < 0 or value != value:
        raise DomainError("import.bad_value", value=raw)
    if scaling == "share" and value > 1:
        raise DomainError("import.bad_share", value=raw)
    return value
