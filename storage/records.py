"""Read the record frames the index derivation expects (``scoring.derive``) from the database.

One query per frame, only the columns the derivation reads, straight into pandas through the
session's connection: at Pudong scale (200k issues, 1M activities) building ORM objects would
cost more than the scoring itself. ``since`` bounds each frame to the rows a trailing window can
reach, so a weekly run reads months, not years.

Frames (column names as ``scoring/derive.py`` documents them; ids are integers here, the
derivation turns them into text):

- ``read_compounds``: compound_id, housing_type, households, residents, name, committee_id.
- ``read_issues``: issue_id, compound_id, category_id, state, reported_at, closed_at,
  resolved_at, due_resolve_at, reopen_count, rating. Timestamps are aware UTC.
- ``read_activities``: compound_id, activity_type, meeting_type, occurred_on (date),
  participants, party_members, households, person_hours, confirmed (bool).
- ``read_checkins``: compound_id, building_id, week, status.
- ``read_imported``: long-format values of imported (static) indicators.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

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


@dataclass(frozen=True)
class RecordFrames:
    """Everything ``derive_indicators`` takes, read at one moment."""

    compounds: pd.DataFrame
    issues: pd.DataFrame
    activities: pd.DataFrame
    checkins: pd.DataFrame


def read_records(session: Session, *, since: datetime) -> RecordFrames:
    """Every frame, bounded to what happened (or was reported) from ``since`` on."""
    return RecordFrames(
        compounds=read_compounds(session),
        issues=read_issues(session, since=since),
        activities=read_activities(session, since=since.date()),
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
    sql = (
        "SELECT id AS issue_id, compound_id, category_id, state, reported_at, closed_at, "
        "resolved_at, resolve_due_at AS due_resolve_at, reopen_count, rating FROM issue"
    )
    params = {}
    if since is not None:
        sql += (
            " WHERE reported_at >= :since OR resolve_due_at >= :since OR closed_at >= :since"
            " OR resolved_at >= :since OR closed_at IS NULL"
        )
        params["since"] = _utc_naive(since)
    frame = pd.read_sql(text(sql), session.connection(), params=params)
    for column in _ISSUE_TIMES:
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    frame["rating"] = pd.to_numeric(frame["rating"]).astype(float)
    return frame


def read_activities(session: Session, *, since: date | None = None) -> pd.DataFrame:
    """Activities that took place on or after ``since`` (unconfirmed ones flagged, not dropped)."""
    sql = (
        "SELECT compound_id, activity_type, meeting_type, occurred_on, participants, "
        "party_members, households, person_hours, status = 'confirmed' AS confirmed "
        "FROM activity WHERE compound_id IS NOT NULL AND status != 'discarded'"
    )
    params = {}
    if since is not None:
        sql += " AND occurred_on >= :since"
        params["since"] = since.isoformat()
    frame = pd.read_sql(text(sql), session.connection(), params=params)
    frame["occurred_on"] = pd.to_datetime(frame["occurred_on"], format="ISO8601").dt.date
    frame["confirmed"] = frame["confirmed"].astype(bool)
    for column in ("participants", "party_members", "households", "person_hours"):
        frame[column] = pd.to_numeric(frame[column]).astype(float)
    return frame


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
    return pd.read_sql(text(sql), session.connection(), params=params)


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
