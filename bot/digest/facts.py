"""What happened in a compound this week, from the record frames (pure pandas).

Counts for the digests: issues reported and resolved (and the same without sensitive
categories, for resident chats), volunteer hours, meetings held and coming, overdue issues,
and the month's most frequent categories (suggested 三会 topics).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from bot.digest.weeks import week_monday
from storage.issue_states import OPEN_STATES

MONTH_WEEKS = 4  # "this month" for suggested topics: the four weeks ending with the digest's
COMING_DAYS = 14  # meetings logged with a date this far ahead are "coming"
FACT_COLUMNS = (
    "reported",
    "resolved",
    "reported_public",
    "resolved_public",
    "volunteer_hours",
    "volunteers",
    "meetings_held",
    "overdue",
)


@dataclass(frozen=True)
class WeekFacts:
    """Per-compound counts and the detail lists the digests show."""

    counts: pd.DataFrame  # index compound_id (int), FACT_COLUMNS
    resolved_public: pd.DataFrame  # compound_id, category_id, count (resolved, not sensitive)
    month_categories: pd.DataFrame  # compound_id, category_id, count (reported, 4 weeks)
    overdue: pd.DataFrame  # issue_id, compound_id, category_id, days_overdue
    meetings_held: pd.DataFrame  # compound_id, occurred_on, meeting_type
    meetings_coming: pd.DataFrame  # compound_id, occurred_on, meeting_type


def week_facts(
    *,
    issues: pd.DataFrame,
    activities: pd.DataFrame,
    week: str,
    now: datetime,
    tz: ZoneInfo,
    sensitive: Collection[str],
) -> WeekFacts:
    """Facts of ``week`` (local Monday to Sunday); overdue and coming are as of ``now``."""
    monday = week_monday(week)
    start, end = _local(monday, tz), _local(monday + timedelta(days=7), tz)
    issues = issues[issues["state"] != "duplicate"]
    public = ~issues["category_id"].isin(list(sensitive))
    reported = issues["reported_at"].between(start, end, inclusive="left")
    resolved = issues["resolved_at"].between(start, end, inclusive="left")
    counts = pd.DataFrame(
        {
            "reported": _count(issues[reported]),
            "resolved": _count(issues[resolved]),
            "reported_public": _count(issues[reported & public]),
            "resolved_public": _count(issues[resolved & public]),
        }
    )
    acts = activities[activities["confirmed"]]
    days = pd.to_datetime(acts["occurred_on"]).dt.date
    in_week = acts[(days >= monday) & (days < monday + timedelta(days=7))]
    volunteer = in_week[in_week["activity_type"] == "volunteer"]
    counts["volunteer_hours"] = volunteer.groupby("compound_id")["person_hours"].sum()
    counts["volunteers"] = volunteer.groupby("compound_id")["participants"].sum()
    held = _meetings(in_week)
    counts["meetings_held"] = held.groupby("compound_id").size()
    overdue = _overdue(issues, now)
    counts["overdue"] = overdue.groupby("compound_id").size()
    counts = counts.reindex(columns=list(FACT_COLUMNS)).fillna(0)
    today = now.astimezone(tz).date()
    coming_days = days[(days > today) & (days <= today + timedelta(days=COMING_DAYS))]
    month_start = _local(monday - timedelta(weeks=MONTH_WEEKS - 1), tz)
    month = issues[issues["reported_at"].between(month_start, end, inclusive="left")]
    return WeekFacts(
        counts=counts.rename_axis("compound_id"),
        resolved_public=_by_category(issues[resolved & public]),
        month_categories=_by_category(month),
        overdue=overdue,
        meetings_held=held,
        meetings_coming=_meetings(acts.loc[coming_days.index]).sort_values("occurred_on"),
    )


def _local(day: date, tz: ZoneInfo) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(tz)


def _count(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby("compound_id").size()


def _by_category(frame: pd.DataFrame) -> pd.DataFrame:
    counts = frame.groupby(["compound_id", "category_id"]).size().rename("count").reset_index()
    return counts.sort_values(
        ["compound_id", "count", "category_id"], ascending=[True, False, True]
    )


def _meetings(acts: pd.DataFrame) -> pd.DataFrame:
    meetings = acts[(acts["activity_type"] == "meeting") | acts["meeting_type"].notna()]
    out = meetings.loc[:, ["compound_id", "occurred_on", "meeting_type"]].copy()
    out["meeting_type"] = out["meeting_type"].fillna("other")
    return out.reset_index(drop=True)


def _overdue(issues: pd.DataFrame, now: datetime) -> pd.DataFrame:
    moment = pd.Timestamp(now)
    late = issues[issues["state"].isin(list(OPEN_STATES)) & (issues["due_resolve_at"] < moment)]
    days = (moment - late["due_resolve_at"]).dt.total_seconds() / 86400.0
    out = late.loc[:, ["issue_id", "compound_id", "category_id"]].assign(days_overdue=days)
    return out.sort_values("days_overdue", ascending=False, ignore_index=True)
