"""The ledger as a workbook people can read: Chinese (or English) headers and names, local times.

No Telegram here: ``/export`` (handlers/export.py) and ``govbot export ledger`` both call
:func:`ledger_workbook`.
"""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from handlers.i18n import Messages
from handlers.parsing.lexicon import lexicon
from scoring.catalog import load_catalog as load_indicators
from storage.categories import load_catalog as load_categories
from storage.ledger import Ledger

SHEETS = ("issues", "events", "activities", "scores", "indicators")
TIME_COLUMNS = {
    "reported_at", "accepted_at", "dispatched_at", "resolved_at", "closed_at", "resolve_due_at",
    "at",
}  # fmt: skip


def ledger_frames(ledger: Ledger, locale: str, tz: ZoneInfo) -> dict[str, pd.DataFrame]:
    """Each sheet with names instead of codes and headers in ``locale``."""
    _ = Messages(locale)
    language = "zh" if locale.startswith("zh") else "en"
    categories = load_categories()
    indicators = load_indicators()
    values = lexicon().table("values", language)
    frames = {name: getattr(ledger, name).copy() for name in SHEETS}
    for frame in frames.values():
        for column in TIME_COLUMNS & set(frame.columns):
            frame[column] = _local_times(frame[column], tz)
    issues = frames["issues"]
    issues["category_id"] = issues["category_id"].map(lambda c: categories.get(c).name(language))
    issues["state"] = issues["state"].map(lambda s: _(f"issue.state.{s}"))
    events = frames["events"]
    for column in ("from_state", "to_state"):
        events[column] = events[column].map(lambda s: _(f"issue.state.{s}") if pd.notna(s) else "")
    activities = frames["activities"]
    for column in ("activity_type", "meeting_type", "decision"):
        activities[column] = activities[column].map(
            lambda v: values.get(v, v) if pd.notna(v) else ""
        )
    activities["status"] = activities["status"].map(lambda s: _(f"ledger.status.{s}"))
    for name in ("scores", "indicators"):
        frame = frames[name]
        if "housing_type" in frame:
            frame["housing_type"] = frame["housing_type"].map(lambda h: _(f"housing.{h}"))
        if "indicator_id" in frame:
            frame["indicator_id"] = frame["indicator_id"].map(
                lambda i: indicators.at[i, language] if i in indicators.index else i
            )
    return {
        _(f"ledger.sheet.{name}"): frame.rename(
            columns={c: _(f"ledger.col.{c}") for c in frame.columns}
        )
        for name, frame in frames.items()
    }


def ledger_workbook(ledger: Ledger, locale: str, tz: ZoneInfo) -> bytes:
    """The ledger as XLSX bytes, one sheet per kind of record."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet, frame in ledger_frames(ledger, locale, tz).items():
            frame = frame.apply(_excel_safe)
            frame.to_excel(writer, sheet_name=sheet[:31], index=False)
            _fit_columns(writer.sheets[sheet[:31]], frame)
    return buffer.getvalue()


def _excel_safe(column: pd.Series) -> pd.Series:
    """Texts without the control characters an XLSX cell cannot hold (a vertical tab or an
    escape typed on a phone would otherwise make the whole export fail). The stored record
    keeps them; only the spreadsheet's copy goes without."""
    if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
        return column
    return column.map(lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)


def _local_times(column: pd.Series, tz: ZoneInfo) -> pd.Series:
    times = pd.to_datetime(column, utc=True, errors="coerce", format="mixed")
    return times.dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M").fillna("")


def _fit_columns(sheet: object, frame: pd.DataFrame) -> None:
    """Readable column widths (CJK characters count double)."""
    from openpyxl.utils import get_column_letter

    for index, column in enumerate(frame.columns, start=1):
        cells = [str(column), *(str(v) for v in frame[column].head(200))]
        width = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in cell) for cell in cells)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)  # type: ignore[attr-defined]
