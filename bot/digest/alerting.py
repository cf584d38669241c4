"""The weekly alert rules: complaint spike and index drop (DESIGN §3.4).

- ``complaint_spike``: the week's reported issues in a compound against its own 8-week baseline
  (``scoring.spikes``: Poisson tail below 0.001, at least 3 reports). Cause
  ``spike:<compound>:<week>``.
- ``index_drop``: the total fell by more than ``drop_points`` since last week (cause
  ``index_drop:<compound>:<week>``), or the compound entered the bottom decile of its type
  (types of at least ``MIN_TYPE_SIZE`` compounds; cause ``bottom_decile:<compound>:<week it
  entered>``, open while it stays there and cleared when it leaves).

Each cause alerts once (``storage.alerts.raise_alert``). Alerts carry only units and numbers.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from sqlmodel import Session

from bot.digest.weeks import week_bounds, week_label, weeks_ending
from scoring.spikes import BASELINE_WEEKS, detect_spikes
from storage.alerts import clear_alerts, open_alerts, raise_alert
from storage.db import Database
from storage.records import read_issues
from storage.snapshots import read_week

SPIKE = "complaint_spike"
INDEX_DROP = "index_drop"
BOTTOM_DECILE = "bottom_decile"
DEFAULT_DROP_POINTS = 5.0
MIN_TYPE_SIZE = 10  # a "bottom decile" of fewer compounds would be one compound's bad week


def evaluate_week_alerts(
    database: Database,
    *,
    week: str,
    now: datetime,
    tz: ZoneInfo,
    drop_points: float = DEFAULT_DROP_POINTS,
) -> int:
    """Raise the week's spike and index alerts; return how many are new. Blocking."""
    weeks = weeks_ending(week, BASELINE_WEEKS + 1)
    start, _ = week_bounds(weeks[0], tz)
    with database.read_session() as session:
        issues = read_issues(session, since=start)
        scores = read_week(session, period=week)
    counts = weekly_counts(issues, weeks=weeks, tz=tz)
    raised = 0
    with database.session() as session:
        for spike in detect_spikes(counts):
            detail = {"week": week, "count": spike.count, "baseline": round(spike.baseline, 2)}
            alert = raise_alert(
                session,
                kind=SPIKE,
                unit_id=int(spike.unit_id),
                cause_key=f"spike:{spike.unit_id}:{week}",
                detail={**detail, "p_value": spike.p_value},
                now=now,
            )
            raised += alert is not None
        for compound_id, row in scores.iterrows():
            raised += _index_alerts(session, int(compound_id), row, week, now, drop_points)
    return raised


def weekly_counts(issues: pd.DataFrame, *, weeks: list[str], tz: ZoneInfo) -> pd.DataFrame:
    """Issues reported per compound (rows) and local ISO week (columns, oldest first)."""
    issues = issues[issues["state"] != "duplicate"]
    local = issues["reported_at"].dt.tz_convert(tz)
    labels = [week_label(moment.date()) for moment in local]
    frame = pd.DataFrame({"compound_id": issues["compound_id"].to_numpy(), "week": labels})
    table = frame.groupby(["compound_id", "week"]).size().unstack(fill_value=0)
    return table.reindex(columns=weeks, fill_value=0)


def _index_alerts(
    session: Session,
    compound_id: int,
    row: pd.Series,
    week: str,
    now: datetime,
    drop_points: float,
) -> int:
    raised = 0
    delta = row["delta_total"]
    if not math.isnan(delta) and -delta > drop_points:
        detail = {
            "week": week,
            "drop": round(-float(delta), 2),
            "before": round(float(row["total"] - delta), 2),
            "after": round(float(row["total"]), 2),
        }
        alert = raise_alert(
            session,
            kind=INDEX_DROP,
            unit_id=compound_id,
            cause_key=f"index_drop:{compound_id}:{week}",
            detail=detail,
            now=now,
        )
        raised += alert is not None
    n, rank = int(row["n_in_type"]), row["rank_in_type"]
    bottom = n >= MIN_TYPE_SIZE and not pd.isna(rank) and rank > math.ceil(0.9 * n)
    if not bottom:
        clear_alerts(session, kind=BOTTOM_DECILE, unit_id=compound_id, now=now)
        return raised
    if open_alerts(session, unit_ids=[compound_id], kind=BOTTOM_DECILE):
        return raised
    alert = raise_alert(
        session,
        kind=BOTTOM_DECILE,
        unit_id=compound_id,
        cause_key=f"bottom_decile:{compound_id}:{week}",
        detail={"week": week, "rank": int(rank), "n": n},
        now=now,
    )
    return raised + (alert is not None)


def alert_cause_week(cause_key: str) -> str:
    """The week a weekly alert's cause names (its last segment)."""
    return cause_key.rsplit(":", 1)[-1]
