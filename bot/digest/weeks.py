"""ISO week labels ('2026-W47') and the local moments that bound them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(label: str) -> date:
    try:
        year, number = label.split("-W")
        return date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise ValueError(f"'{label}' is not an ISO week like 2026-W47") from None


def shift_week(label: str, weeks: int) -> str:
    return week_label(week_monday(label) + timedelta(weeks=weeks))


def weeks_ending(label: str, count: int) -> list[str]:
    """``count`` consecutive weeks ending with ``label``, oldest first."""
    return [shift_week(label, -back) for back in range(count - 1, -1, -1)]


def week_bounds(label: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the week as aware UTC moments (local Monday midnight to the next)."""
    monday = week_monday(label)
    start = datetime.combine(monday, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def digest_week(now: datetime, tz: ZoneInfo) -> str:
    """The week a digest sent at ``now`` reports on: the last complete local week."""
    return week_label(now.astimezone(tz).date() - timedelta(days=7))


def last_due(now: datetime, tz: ZoneInfo, *, weekday: int, at: time) -> datetime:
    """The latest scheduled moment (``weekday``: Monday = 0, local ``at``) not after ``now``."""
    local = now.astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    due = datetime.combine(day, at, tzinfo=tz)
    if due > local:
        due -= timedelta(days=7)
    return due
