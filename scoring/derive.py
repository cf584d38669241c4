"""Indicator values measured by the bot, derived from its record frames (a pure function).

``derive_indicators`` turns the records the storage layer exports into long-format values
(compound_id, housing_type, indicator_id, period, value) for the catalogue's ``source = "derived"``
leaves, over trailing windows of whole ISO weeks ending with ``week`` (13 weeks unless the
catalogue says otherwise). The result concatenates with imported values and goes to
``build_thresholds`` / ``score_snapshot``.

Record frames and the columns read (others are ignored):

- ``compounds``: compound_id, housing_type, households, residents (required).
- ``issues``: issue_id, compound_id, category_id, state, reported_at, closed_at, resolved_at,
  due_resolve_at, reopen_count, rating (1-5 or NaN). Issues in state ``duplicate`` are left out
  (they are merged into the original). Timestamps: aware, or naive meaning UTC; window bounds
  are local dates in ``tz`` (Asia/Shanghai).
- ``activities``: compound_id, activity_type, meeting_type, occurred_on (date), participants,
  party_members, households, person_hours, confirmed. Only confirmed activities count; a
  missing number counts as 0.
- ``checkins``: compound_id, building_id, week ('YYYY-Www'), status (ok|issue).

A frame that is not given (None) yields no values for the leaves it feeds (missing, not zero).
Given frames yield 0 for counts with nothing in the window, and leave rates and means missing
when they have no denominator (no issue due, no rating, no volunteer). Rules:

- activity_count: matching activities (activity_type or meeting_type listed).
- activity_sum: sum of ``field`` over matching activities, per resident / household /
  1,000 households as the scaling says, times 52 / window_weeks when ``annualise``.
- party_volunteer_share: sum(party_members) / sum(participants) over volunteer activities.
- issue_count: issues reported in the window in the listed categories, per 1,000 households.
- closing_days: mean days from reported_at to closed_at over issues closed in the window.
- deadline_compliance: share of issues due (due_resolve_at) in the window resolved by then.
- reopen_rate: share of issues resolved in the window with reopen_count > 0.
- mean_rating: mean rating of issues resolved in the window that were rated.
- checkin_rate: check-ins (one per building and week) / (buildings x weeks in the window);
  buildings are those seen in the compound's check-in history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from scoring.catalog import load_catalog

_NA_STATES = ("duplicate",)


def derive_indicators(
    *,
    compounds: pd.DataFrame,
    week: str,
    issues: pd.DataFrame | None = None,
    activities: pd.DataFrame | None = None,
    checkins: pd.DataFrame | None = None,
    catalog: pd.DataFrame | None = None,
    tz: str = "Asia/Shanghai",
) -> pd.DataFrame:
    """Return long-format values of the derived leaves for ``week`` (label 'YYYY-Www')."""
    catalog = load_catalog() if catalog is None else catalog
    units = compounds.set_index(compounds["compound_id"].astype(str))
    issues = None if issues is None else _local_issue_times(issues, tz)
    activities = None if activities is None else _confirmed(activities)
    parts = []
    for leaf, spec in catalog[catalog["source"] == "derived"].iterrows():
        start, end = _window(week, int(spec["window_weeks"]))
        window = _Window(spec, units, start, end, issues, activities, checkins)
        value = _RULES[spec["derive"]](window)
        if value is not None:
            parts.append(pd.DataFrame({"indicator_id": leaf, "value": value}))
    if not parts:
        return pd.DataFrame(
            columns=["compound_id", "housing_type", "indicator_id", "period", "value"]
        )
    long = pd.concat(parts).rename_axis("compound_id").reset_index()
    long = long[long["value"].notna()]
    long.insert(1, "housing_type", long["compound_id"].map(units["housing_type"]))
    long.insert(3, "period", week)
    return long.reset_index(drop=True)


@dataclass(frozen=True)
class _Window:
    """What one rule needs: the leaf's catalogue row, the compounds, the window and the frames."""

    spec: pd.Series
    units: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    issues: pd.DataFrame | None
    activities: pd.DataFrame | None
    checkins: pd.DataFrame | None


def derive_indicator_history(
    *,
    compounds: pd.DataFrame,
    weeks: Sequence[str],
    issues: pd.DataFrame | None = None,
    activities: pd.DataFrame | None = None,
    checkins: pd.DataFrame | None = None,
    catalog: pd.DataFrame | None = None,
    tz: str = "Asia/Shanghai",
) -> pd.DataFrame:
    """Return ``derive_indicators`` for several weeks, concatenated (for building thresholds)."""
    catalog = load_catalog() if catalog is None else catalog
    frames = [
        derive_indicators(
            compounds=compounds,
            week=week,
            issues=issues,
            activities=activities,
            checkins=checkins,
            catalog=catalog,
            tz=tz,
        )
        for week in weeks
    ]
    return pd.concat(frames, ignore_index=True)


def week_start(week: str) -> date:
    """Return the Monday of an ISO week label 'YYYY-Www'."""
    try:
        year, number = week.split("-W")
        return date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise ValueError(f"'{week}' is not an ISO week like 2026-W05") from None


def _window(week: str, weeks: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return [start, end) local midnights of the ``weeks`` ISO weeks ending with ``week``."""
    end = week_start(week) + timedelta(days=7)
    return pd.Timestamp(end - timedelta(weeks=weeks)), pd.Timestamp(end)


def _local_issue_times(issues: pd.DataFrame, tz: str) -> pd.DataFrame:
    out = issues[~issues["state"].isin(_NA_STATES)] if "state" in issues else issues
    out = out.assign(compound_id=out["compound_id"].astype(str))
    for col in ("reported_at", "closed_at", "resolved_at", "due_resolve_at"):
        if col in out:
            stamps = pd.to_datetime(out[col])
            if stamps.dt.tz is None:
                stamps = stamps.dt.tz_localize("UTC")
            out = out.assign(**{col: stamps.dt.tz_convert(tz).dt.tz_localize(None)})
    return out


def _confirmed(activities: pd.DataFrame) -> pd.DataFrame:
    out = activities
    if "confirmed" in out:
        out = out[out["confirmed"].fillna(False).astype(bool)]
    return out.assign(
        compound_id=out["compound_id"].astype(str),
        occurred_on=pd.to_datetime(out["occurred_on"]),
    )


def _in_window(stamps: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    return (stamps >= start) & (stamps < end)


def _per_compound(frame: pd.DataFrame, column: str, how: str, units: pd.DataFrame) -> pd.Series:
    grouped = frame.groupby("compound_id")[column].agg(how)
    return grouped.reindex(units.index)


def _matching_activities(w: _Window) -> pd.DataFrame | None:
    acts = w.activities
    if acts is None:
        return None
    matches = acts["activity_type"].isin(list(w.spec["activity_types"]))
    if "meeting_type" in acts:
        matches |= acts["meeting_type"].isin(list(w.spec["meeting_types"]))
    return acts[matches & _in_window(acts["occurred_on"], w.start, w.end)]


def _activity_count(w: _Window) -> pd.Series | None:
    acts = _matching_activities(w)
    if acts is None:
        return None
    return acts.groupby("compound_id").size().reindex(w.units.index, fill_value=0).astype(float)


def _activity_sum(w: _Window) -> pd.Series | None:
    acts = _matching_activities(w)
    if acts is None:
        return None
    field = w.spec["field"]
    total = acts.assign(**{field: pd.to_numeric(acts[field]).fillna(0.0)})
    sums = _per_compound(total, field, "sum", w.units).fillna(0.0)
    scaled = _scaled(sums, w.spec["scaling"], w.units)
    if w.spec["annualise"]:
        scaled = scaled * 52.0 / int(w.spec["window_weeks"])
    return scaled


def _scaled(amount: pd.Series, scaling: str, units: pd.DataFrame) -> pd.Series:
    if scaling == "per_resident":
        base = pd.to_numeric(units["residents"]).astype(float)
    elif scaling == "per_household":
        base = pd.to_numeric(units["households"]).astype(float)
    elif scaling == "per_1k_households":
        base = pd.to_numeric(units["households"]).astype(float) / 1000.0
    else:
        return amount.astype(float)
    return amount / base.where(base > 0)


def _party_volunteer_share(w: _Window) -> pd.Series | None:
    acts = w.activities
    if acts is None:
        return None
    vol = acts[
        (acts["activity_type"] == "volunteer") & _in_window(acts["occurred_on"], w.start, w.end)
    ]
    vol = vol.assign(
        party_members=pd.to_numeric(vol["party_members"]).fillna(0.0),
        participants=pd.to_numeric(vol["participants"]).fillna(0.0),
    )
    party = _per_compound(vol, "party_members", "sum", w.units)
    people = _per_compound(vol, "participants", "sum", w.units)
    return party / people.where(people > 0)


def _issue_count(w: _Window) -> pd.Series | None:
    iss = w.issues
    if iss is None:
        return None
    hits = iss[
        iss["category_id"].isin(list(w.spec["categories"]))
        & _in_window(iss["reported_at"], w.start, w.end)
    ]
    counts = hits.groupby("compound_id").size().reindex(w.units.index, fill_value=0).astype(float)
    return _scaled(counts, w.spec["scaling"], w.units)


def _closing_days(w: _Window) -> pd.Series | None:
    iss = w.issues
    if iss is None:
        return None
    closed = iss[_in_window(iss["closed_at"], w.start, w.end)]
    days = (closed["closed_at"] - closed["reported_at"]).dt.total_seconds() / 86400.0
    return _per_compound(closed.assign(days=days), "days", "mean", w.units)


def _deadline_compliance(w: _Window) -> pd.Series | None:
    iss = w.issues
    if iss is None:
        return None
    due = iss[_in_window(iss["due_resolve_at"], w.start, w.end)]
    on_time = (due["resolved_at"].notna() & (due["resolved_at"] <= due["due_resolve_at"])).astype(
        float
    )
    return _per_compound(due.assign(on_time=on_time), "on_time", "mean", w.units)


def _reopen_rate(w: _Window) -> pd.Series | None:
    iss = w.issues
    if iss is None:
        return None
    resolved = iss[_in_window(iss["resolved_at"], w.start, w.end)]
    reopened = (pd.to_numeric(resolved["reopen_count"]).fillna(0) > 0).astype(float)
    return _per_compound(resolved.assign(reopened=reopened), "reopened", "mean", w.units)


def _mean_rating(w: _Window) -> pd.Series | None:
    iss = w.issues
    if iss is None:
        return None
    rated = iss[_in_window(iss["resolved_at"], w.start, w.end)]
    rated = rated.assign(rating=pd.to_numeric(rated["rating"]).astype(float))
    return _per_compound(rated[rated["rating"].notna()], "rating", "mean", w.units)


def _checkin_rate(w: _Window) -> pd.Series | None:
    checks = w.checkins
    if checks is None:
        return None
    checks = checks.assign(compound_id=checks["compound_id"].astype(str))
    monday = pd.to_datetime([pd.Timestamp(week_start(str(w))) for w in checks["week"]])
    buildings = checks.groupby("compound_id")["building_id"].nunique().reindex(w.units.index)
    inside = checks[_in_window(pd.Series(monday, index=checks.index), w.start, w.end)]
    done = (
        inside.drop_duplicates(["compound_id", "building_id", "week"])
        .groupby("compound_id")
        .size()
    )
    weeks = (w.end - w.start).days // 7
    expected = buildings * weeks
    return done.reindex(w.units.index, fill_value=0).astype(float) / expected.where(expected > 0)


_RULES = {
    "activity_count": _activity_count,
    "activity_sum": _activity_sum,
    "party_volunteer_share": _party_volunteer_share,
    "issue_count": _issue_count,
    "closing_days": _closing_days,
    "deadline_compliance": _deadline_compliance,
    "reopen_rate": _reopen_rate,
    "mean_rating": _mean_rating,
    "checkin_rate": _checkin_rate,
}
