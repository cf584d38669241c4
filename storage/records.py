"""Read the record frames the index derivation expects (``scoring.derive``) from the database.

One query per frame, only the columns the derivation reads, straight into pandas: at Pudong
scale (200k issues, 1M activities) building ORM objects would cost more than the scoring itself.
``since`` bounds each frame to the rows a trailing window can reach, so a weekly run reads
months, not years; for issues the bound is served by one index per time column (migration 0004).

The large frames are read through the session's own ``sqlite3`` cursor, a few thousand rows
at a time, and each column is converted once per chunk by numpy (timestamps parsed as stored):
``pd.read_sql`` went through SQLAlchemy's rows and pandas' type guessing, and held every row as
Python objects at once (half the weekly step's time and most of its memory).

Frames (column names as ``scoring/derive.py`` documents them; ids are integers here, the
derivation turns them into text):

- ``read_compounds``: compound_id, housing_type, households, residents, name, committee_id.
- ``read_issues``: issue_id, compound_id, category_id, state, reported_at, closed_at,
  resolved_at, due_resolve_at, reopen_count, rating. Timestamps are aware UTC.
- ``read_activities``: compound_id, activity_type, meeting_type, occurred_on (date),
  participants, party_members, households, person_hours, confirmed (bool).
- ``read_checkins``: compound_id, building_id, week, status.
- ``read_imported``: long-format values of imported (static) indicators.

``read_records`` reads them for the index: the same columns, with the text codes (category,
state, activity and meeting type) as pandas categoricals, ``occurred_on`` as datetime64, and
only the confirmed activities (the derivation counts no other).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlmodel import Session

__all__ = [
    "RecordFrames",
    "read_activities",
    "read_checkins",
    "read_compounds",
    "read_imported",
    "read_issues",
    "read_records",
]

_ISSUE_TIMES = ("reported_at", "closed_at", "resolved_at", "due_resolve_at")
_ACTIVITY_NUMBERS = ("participants", "party_members", "households", "person_hours")
_CHUNK_ROWS = 2_000  # rows held as Python objects at once while reading


@dataclass(frozen=True)
class RecordFrames:
    """Everything ``derive_indicators`` takes, read at one moment."""

    compounds: pd.DataFrame
    issues: pd.DataFrame
    activities: pd.DataFrame
    checkins: pd.DataFrame


def read_records(session: Session, *, since: datetime) -> RecordFrames:
    """Every frame for the index, bounded to what happened (or was reported) from ``since`` on."""
    return RecordFrames(
        compounds=read_compounds(session),
        issues=_issue_frame(session, since, categorical=True),
        activities=_activity_frame(session, since.date(), confirmed_only=True, categorical=True),
        checkins=read_checkins(session, since=since.date()),
    )


def read_compounds(session: Session) -> pd.DataFrame:
    """Every compound with what the index scales by, its name and its committee."""
    sql = text(
        "SELECT id AS compound_id, housing_type, households, residents, name, "
        "parent_id AS committee_id FROM unit WHERE kind = 'compound' AND housing_type IS NOT NULL "
        "ORDER BY id"
    )
    frame = pd.read_sql(sql, session.connection())
    for column in ("households", "residents"):
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame


def read_issues(session: Session, *, since: datetime | None = None) -> pd.DataFrame:
    """Issues reported from ``since`` on, or still open then (closing time, deadlines).

    An issue reported before ``since`` still matters when it is closed, resolved or due inside
    a window, so the bound is on the latest of those times.
    """
    return _issue_frame(session, since, categorical=False)


def read_activities(session: Session, *, since: date | None = None) -> pd.DataFrame:
    """Activities that took place on or after ``since`` (unconfirmed ones flagged, not dropped)."""
    frame = _activity_frame(session, since, confirmed_only=False, categorical=False)
    days = frame["occurred_on"].to_numpy(dtype="datetime64[D]").astype(object)
    return frame.assign(occurred_on=pd.Series(days, index=frame.index, dtype=object))


def read_checkins(session: Session, *, since: date | None = None) -> pd.DataFrame:
    """Weekly check-ins (零报告) with the compound of each building."""
    sql = (
        "SELECT u.parent_id AS compound_id, c.building_id, c.week, c.status "
        "FROM checkin AS c JOIN unit AS u ON u.id = c.building_id"
    )
    params = {}
    if since is not None:
        year, week, _ = since.isocalendar()
        sql += " WHERE c.week >= :since"
        params["since"] = f"{year}-W{week:02d}"
    columns = {"compound_id": _ints, "building_id": _ints, "week": _strings, "status": _strings}
    return _query_frame(session, sql, params, columns)


# -- Issues and activities ---------------------------------------------------------------------

_Convert = Callable[[Sequence[Any]], Any]


def _issue_frame(session: Session, since: datetime | None, *, categorical: bool) -> pd.DataFrame:
    sql = (
        "SELECT id AS issue_id, compound_id, category_id, state, reported_at, closed_at, "
        "resolved_at, resolve_due_at AS due_resolve_at, reopen_count, rating FROM issue"
    )
    params = {}
    if since is not None:
        # Five ranges, each served by its own index, instead of five ORed conditions that
        # SQLite can only answer by scanning every issue ever stored. IN collects the ids in
        # one ephemeral index, where an issue in several ranges counts once (UNION ALL: no
        # de-duplication at every step, 40% cheaper at Pudong scale).
        sql += (
            " WHERE id IN ("
            "SELECT id FROM issue WHERE reported_at >= :since"
            " UNION ALL SELECT id FROM issue WHERE resolve_due_at >= :since"
            " UNION ALL SELECT id FROM issue WHERE closed_at >= :since"
            " UNION ALL SELECT id FROM issue WHERE resolved_at >= :since"
            " UNION ALL SELECT id FROM issue WHERE closed_at IS NULL)"
        )
        params["since"] = _utc_naive(since)
    sql += " ORDER BY id"
    columns: dict[str, _Convert] = {
        "issue_id": _ints,
        "compound_id": _ints,
        "category_id": _strings,
        "state": _strings,
        **dict.fromkeys(_ISSUE_TIMES, _utc_times),
        "reopen_count": _ints,
        "rating": _floats,
    }
    frame = _query_frame(session, sql, params, columns)
    frame = frame.assign(**{col: frame[col].dt.tz_localize(UTC) for col in _ISSUE_TIMES})
    return _as_categories(frame, ("category_id", "state")) if categorical else frame


def _activity_frame(
    session: Session, since: date | None, *, confirmed_only: bool, categorical: bool
) -> pd.DataFrame:
    sql = (
        "SELECT compound_id, activity_type, meeting_type, occurred_on, participants, "
        "party_members, households, person_hours"
        + ("" if confirmed_only else ", status = 'confirmed' AS confirmed")
        + " FROM activity WHERE compound_id IS NOT NULL AND "
        + ("status = 'confirmed'" if confirmed_only else "status != 'discarded'")
    )
    params = {}
    if since is not None:
        sql += " AND occurred_on >= :since"
        params["since"] = since.isoformat()
    columns: dict[str, _Convert] = {
        "compound_id": _ints,
        "activity_type": _strings,
        "meeting_type": _strings,
        "occurred_on": _days,
        **dict.fromkeys(_ACTIVITY_NUMBERS, _floats),
    }
    if confirmed_only:
        frame = _query_frame(session, sql, params, columns).assign(confirmed=True)
    else:
        frame = _query_frame(session, sql, params, {**columns, "confirmed": _booleans})
    return _as_categories(frame, ("activity_type", "meeting_type")) if categorical else frame


def _as_categories(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A few codes repeated over a million rows: one small integer each instead of a string."""
    return frame.astype(dict.fromkeys(columns, "category"))


# -- Reading a query column by column ----------------------------------------------------------


def _query_frame(
    session: Session, sql: str, params: Mapping[str, Any], columns: Mapping[str, _Convert]
) -> pd.DataFrame:
    """Run ``sql`` on the session's DBAPI connection; convert each column chunk by chunk.

    ``columns`` names the query's columns, in order, with the converter of each.
    """
    chunks: dict[str, list[Any]] = {name: [] for name in columns}
    cursor = session.connection().connection.cursor()
    with closing(cursor), _without_cycle_collection():
        cursor.execute(sql, dict(params))
        while rows := cursor.fetchmany(_CHUNK_ROWS):
            by_column = zip(*rows, strict=True)
            for (name, convert), values in zip(columns.items(), by_column, strict=True):
                chunks[name].append(convert(values))
    return pd.DataFrame(
        {name: _joined(chunks[name] or [convert(())]) for name, convert in columns.items()}
    )


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows are read.

    Every row is a new tuple, and the collector counts tuples: reading a million rows set off
    thousands of collections, some of them over every object of the process (2.5 s of the 8 s
    the weekly read took). Rows and their values make no reference cycles, so nothing is left
    for the collector meanwhile; it runs again as soon as the read is done (unless it was off
    already, which this leaves as it was).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _joined(parts: list[Any]) -> Any:
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts)


def _ints(values: Sequence[Any]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.array(values, dtype=float)  # NULL becomes NaN


def _booleans(values: Sequence[Any]) -> np.ndarray:
    return np.array(values, dtype=np.int64).astype(bool)


def _strings(values: Sequence[Any]) -> np.ndarray:
    return np.array(values, dtype=object)


def _utc_times(values: Sequence[Any]) -> np.ndarray:
    """Naive UTC text as ``UTCDateTime`` stores it ('2026-11-16 01:00:00.000000'); NULL is NaT."""
    return np.array(values, dtype="datetime64[us]")


def _days(values: Sequence[Any]) -> np.ndarray:
    return np.array(values, dtype="datetime64[D]").astype("datetime64[s]")


def read_imported(
    session: Session, *, weeks: Iterable[str], indicators: Iterable[str] | None = None
) -> pd.DataFrame:
    """Imported indicator values, in long format, for each of ``weeks``.

    A static value holds until a newer one is imported: each week gets, per compound and
    indicator, the value with the latest period not after the week (periods compare as text,
    so a year ``2026`` applies to every week of 2026 and after). ``indicators`` keeps only those
    ids (the catalogue's imported leaves).
    """
    sql = (
        "SELECT i.compound_id, u.housing_type, i.indicator_id, i.period, i.value, i.imported_at "
        "FROM imported_indicator AS i JOIN unit AS u ON u.id = i.compound_id "
        "WHERE u.housing_type IS NOT NULL"
    )
    rows = pd.read_sql(text(sql), session.connection())
    if indicators is not None:
        rows = rows[rows["indicator_id"].isin(list(indicators))]
    rows = rows.sort_values(["period", "imported_at"], kind="stable")
    parts = []
    for week in weeks:
        valid = rows[rows["period"] <= week]
        latest = valid.groupby(["compound_id", "indicator_id"], sort=False).tail(1)
        parts.append(latest.assign(period=week))
    columns = ["compound_id", "housing_type", "indicator_id", "period", "value"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True).loc[:, columns]
    out["compound_id"] = out["compound_id"].astype(str)
    out["value"] = out["value"].astype(float)
    return out


def _utc_naive(moment: datetime) -> str:
    """How ``UTCDateTime`` stores a moment in SQLite (naive UTC text), for comparisons."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
