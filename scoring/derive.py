"""Indicator values measured by the bot, derived from its record frames (a pure function).

``derive_indicators`` turns the records the storage layer exports into long-format values
(compound_id, housing_type, indicator_id, period, value) for the catalogue's ``source = "derived"``
leaves, over trailing windows of whole ISO weeks ending with ``week`` (13 weeks unless the
catalogue says otherwise). The result concatenates with imported values and goes to
``build_thresholds`` / ``score_snapshot``.

Record frames and the columns read (others are ignored):

- ``compounds``: compound_id, housing_type, households, residents (required).
- ``issues``: compound_id, category_id, state, reported_at, closed_at, resolved_at,
  due_resolve_at, reopen_count, rating (1-5 or NaN). Issues in state ``duplicate`` are left out
  (they are merged into the original). Timestamps: aware, or naive meaning UTC; window bounds
  are local dates in ``tz`` (Asia/Shanghai).
- ``activities``: compound_id, activity_type, meeting_type, occurred_on (date), participants,
  party_members, households, person_hours, confirmed. Only confirmed activities count; a
  missing number counts as 0.
- ``checkins``: compound_id, building_id, week ('YYYY-Www'); every status (ok|issue) counts as
  a check-in.

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

How: every record is placed once in its local ISO week (a week number counted from the first
week any window reaches), and each rule adds its records up per compound and week in one pass
(a compound x week matrix). A window is then a slice of whole weeks of that matrix, so the
several weeks a run derives (the scored week and the two before it) share the one pass instead
of filtering a million activities once per week.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from scoring.catalog import load_catalog

_NA_STATES = ("duplicate",)
_ISSUE_TIMES = ("reported_at", "closed_at", "resolved_at", "due_resolve_at")
_LONG_COLUMNS = ["compound_id", "housing_type", "indicator_id", "period", "value"]
_WEEK = pd.Timedelta(weeks=1)


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
    return derive_indicator_history(
        compounds=compounds,
        weeks=[week],
        issues=issues,
        activities=activities,
        checkins=checkins,
        catalog=catalog,
        tz=tz,
    )


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
    """Return ``derive_indicators`` for each of ``weeks``, concatenated in that order."""
    catalog = load_catalog() if catalog is None else catalog
    leaves = catalog[catalog["source"] == "derived"]
    if not len(weeks) or leaves.empty:
        return pd.DataFrame(columns=_LONG_COLUMNS)
    units = compounds.set_index(compounds["compound_id"].astype(str))
    calendar = _Calendar.spanning(weeks, int(leaves["window_weeks"].max()))
    records = _Records(
        calendar=calendar,
        units=units,
        issues=None if issues is None else _issue_weeks(issues, units, calendar, tz),
        activities=None if activities is None else _activity_weeks(activities, units, calendar),
        checkins=None if checkins is None else _checkin_weeks(checkins, units, calendar),
    )
    parts: list[tuple[str, np.ndarray]] = []  # (leaf, weeks x compounds values)
    for leaf, spec in leaves.iterrows():
        values = _RULES[spec["derive"]](records, spec)
        if values is not None:
            parts.append((str(leaf), values))
    return _long_format(parts, weeks, units)


def week_start(week: str) -> date:
    """Return the Monday of an ISO week label 'YYYY-Www'."""
    try:
        year, number = week.split("-W")
        return date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise ValueError(f"'{week}' is not an ISO week like 2026-W05") from None


# -- Weeks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Calendar:
    """Local weeks numbered from ``origin`` (the Monday of the first week any window reaches).

    Week ``k`` is [origin + k weeks, origin + k + 1 weeks) in local time; ``scored[i]`` is the
    number of the i-th week derived, and a window of ``n`` weeks ending with it covers numbers
    ``scored[i] - n + 1`` to ``scored[i]``.
    """

    origin: pd.Timestamp
    scored: np.ndarray
    count: int

    @classmethod
    def spanning(cls, weeks: Sequence[str], longest_window: int) -> _Calendar:
        mondays = [week_start(week) for week in weeks]
        origin = min(mondays) - timedelta(weeks=max(longest_window, 1) - 1)
        scored = np.array([(monday - origin).days // 7 for monday in mondays], dtype=np.int64)
        return cls(pd.Timestamp(origin), scored, int(scored.max()) + 1)

    def numbers(self, stamps: pd.Series) -> np.ndarray:
        """The week number of each local naive stamp; -1 for NaT and outside every window."""
        weeks = ((stamps - self.origin) // _WEEK).to_numpy(dtype=float, na_value=np.nan)
        inside = (weeks >= 0) & (weeks < self.count)
        return np.where(inside, weeks, -1).astype(np.int64)

    def window_sums(self, weekly: np.ndarray, window_weeks: int) -> np.ndarray:
        """Sum a compounds x weeks matrix over each scored week's window: weeks x compounds."""
        return np.stack(
            [
                weekly[:, max(0, end - window_weeks + 1) : end + 1].sum(axis=1)
                for end in self.scored
            ]
        )


@dataclass(frozen=True)
class _Weekly:
    """Records placed in the calendar: ``frame`` rows with ``unit`` (position of the compound
    in the units, or -1) and, for each time column, its week number (-1 when outside)."""

    frame: pd.DataFrame
    unit: np.ndarray
    week: dict[str, np.ndarray]


@dataclass(frozen=True)
class _Records:
    calendar: _Calendar
    units: pd.DataFrame
    issues: _Weekly | None
    activities: _Weekly | None
    checkins: _Weekly | None

    def window_sum(
        self,
        spec: pd.Series,
        records: _Weekly,
        when: str,
        mask: np.ndarray,
        amount: np.ndarray | None = None,
    ) -> np.ndarray:
        """Sum ``amount`` (or count the rows) where ``mask`` holds, per window and compound."""
        window = int(spec["window_weeks"])
        if amount is None or _adds_exactly(amount[mask]):
            weekly = self._per_week(records, when, mask, amount)
            return self.calendar.window_sums(weekly, window)
        return self._per_window(records, when, mask, amount, window, "sum")

    def window_mean(
        self, spec: pd.Series, records: _Weekly, when: str, mask: np.ndarray, amount: np.ndarray
    ) -> np.ndarray:
        """Mean of ``amount`` over the rows in the window (NaN amounts left out; NaN if none)."""
        mask = mask & ~np.isnan(amount)
        window = int(spec["window_weeks"])
        if not _adds_exactly(amount[mask]):
            return self._per_window(records, when, mask, amount, window, "mean")
        total = self.calendar.window_sums(self._per_week(records, when, mask, amount), window)
        count = self.calendar.window_sums(self._per_week(records, when, mask, None), window)
        return np.divide(total, count, out=np.full_like(total, np.nan), where=count > 0)

    def _per_week(
        self, records: _Weekly, when: str, mask: np.ndarray, amount: np.ndarray | None
    ) -> np.ndarray:
        """Add ``amount`` (or count rows) where ``mask`` holds, per compound and week number."""
        week = records.week[when]
        keep = mask & (week >= 0) & (records.unit >= 0)
        cells = records.unit[keep] * self.calendar.count + week[keep]
        size = len(self.units) * self.calendar.count
        weights = None if amount is None else amount[keep]
        totals = np.bincount(cells, weights=weights, minlength=size).astype(float)
        return totals.reshape(len(self.units), self.calendar.count)

    def _per_window(
        self,
        records: _Weekly,
        when: str,
        mask: np.ndarray,
        amount: np.ndarray,
        window: int,
        how: str,
    ) -> np.ndarray:
        """Aggregate the rows of each window separately, in record order, as pandas does."""
        week = records.week[when]
        keep = mask & (records.unit >= 0)
        out = np.full((len(self.calendar.scored), len(self.units)), np.nan)
        if how == "sum":
            out[:] = 0.0
        for row, end in enumerate(self.calendar.scored):
            inside = keep & (week > end - window) & (week <= end)
            per_unit = pd.Series(amount[inside]).groupby(records.unit[inside]).agg(how)
            out[row, per_unit.index.to_numpy()] = per_unit.to_numpy(dtype=float)
        return out


def _adds_exactly(amount: np.ndarray) -> bool:
    """Whether these numbers add up to the same float in any order.

    True for whole numbers and binary fractions (counts, ratings, 1.5 hours …) whose total
    stays far below 2**53: every partial sum is then exact. Other numbers (days between two
    moments) are added per window in record order instead, so that a value is the same bit
    for bit whichever weeks are derived with it; an indicator whose threshold was built from a
    single compound compares a value with itself, and the last bit would decide it.
    """
    scaled = amount * 1024.0
    return bool(np.all(scaled == np.round(scaled))) and float(np.abs(amount).sum()) < 2.0**42


def _unit_positions(compound_ids: pd.Series, units: pd.DataFrame) -> np.ndarray:
    """Position of each record's compound among ``units`` (-1 for a compound not there)."""
    codes, uniques = pd.factorize(compound_ids)
    where = units.index.get_indexer(pd.Index(uniques).astype(str))
    return np.where(codes >= 0, where[codes] if len(where) else -1, -1)


def _issue_weeks(
    issues: pd.DataFrame, units: pd.DataFrame, calendar: _Calendar, tz: str
) -> _Weekly:
    out = issues[~issues["state"].isin(_NA_STATES)] if "state" in issues else issues
    local = {}
    for col in _ISSUE_TIMES:
        if col in out:
            stamps = pd.to_datetime(out[col])
            if stamps.dt.tz is None:
                stamps = stamps.dt.tz_localize("UTC")
            local[col] = stamps.dt.tz_convert(tz).dt.tz_localize(None)
    out = out.assign(**local)
    weeks = {col: calendar.numbers(stamps) for col, stamps in local.items()}
    return _Weekly(out, _unit_positions(out["compound_id"], units), weeks)


def _activity_weeks(activities: pd.DataFrame, units: pd.DataFrame, calendar: _Calendar) -> _Weekly:
    out = activities
    if "confirmed" in out:
        out = out[out["confirmed"].fillna(False).astype(bool)]
    weeks = {"occurred_on": calendar.numbers(pd.to_datetime(out["occurred_on"]))}
    return _Weekly(out, _unit_positions(out["compound_id"], units), weeks)


def _checkin_weeks(checkins: pd.DataFrame, units: pd.DataFrame, calendar: _Calendar) -> _Weekly:
    labels, distinct = pd.factorize(checkins["week"].astype(str))
    mondays = pd.to_datetime([pd.Timestamp(week_start(label)) for label in distinct])
    numbers = calendar.numbers(pd.Series(mondays))
    weeks = {"week": numbers[labels]}  # no rows: both are empty
    return _Weekly(checkins, _unit_positions(checkins["compound_id"], units), weeks)


# -- Rules ------------------------------------------------------------------------------------
# Each returns a (scored weeks x compounds) array, or None when its frame was not given.


def _matching(acts: pd.DataFrame, spec: pd.Series) -> np.ndarray:
    matches = acts["activity_type"].isin(list(spec["activity_types"]))
    if "meeting_type" in acts:
        matches |= acts["meeting_type"].isin(list(spec["meeting_types"]))
    return matches.to_numpy(dtype=bool)


def _numbers(column: pd.Series) -> np.ndarray:
    """A numeric column as floats, a missing number counting as 0."""
    return pd.to_numeric(column).fillna(0.0).to_numpy(dtype=float)


def _activity_count(r: _Records, spec: pd.Series) -> np.ndarray | None:
    acts = r.activities
    if acts is None:
        return None
    return r.window_sum(spec, acts, "occurred_on", _matching(acts.frame, spec))


def _activity_sum(r: _Records, spec: pd.Series) -> np.ndarray | None:
    acts = r.activities
    if acts is None:
        return None
    field = acts.frame[spec["field"]]
    sums = r.window_sum(spec, acts, "occurred_on", _matching(acts.frame, spec), _numbers(field))
    scaled = _scaled(sums, spec["scaling"], r.units)
    if spec["annualise"]:
        scaled = scaled * 52.0 / int(spec["window_weeks"])
    return scaled


def _scaled(amount: np.ndarray, scaling: str, units: pd.DataFrame) -> np.ndarray:
    if scaling == "per_resident":
        base = pd.to_numeric(units["residents"]).astype(float)
    elif scaling == "per_household":
        base = pd.to_numeric(units["households"]).astype(float)
    elif scaling == "per_1k_households":
        base = pd.to_numeric(units["households"]).astype(float) / 1000.0
    else:
        return amount.astype(float)
    return amount / base.where(base > 0).to_numpy(dtype=float)


def _party_volunteer_share(r: _Records, spec: pd.Series) -> np.ndarray | None:
    acts = r.activities
    if acts is None:
        return None
    volunteer = (acts.frame["activity_type"] == "volunteer").to_numpy(dtype=bool)
    party = r.window_sum(spec, acts, "occurred_on", volunteer,
                         _numbers(acts.frame["party_members"]))  # fmt: skip
    people = r.window_sum(spec, acts, "occurred_on", volunteer,
                          _numbers(acts.frame["participants"]))  # fmt: skip
    return np.divide(party, people, out=np.full_like(party, np.nan), where=people > 0)


def _issue_count(r: _Records, spec: pd.Series) -> np.ndarray | None:
    iss = r.issues
    if iss is None:
        return None
    listed = iss.frame["category_id"].isin(list(spec["categories"])).to_numpy(dtype=bool)
    counts = r.window_sum(spec, iss, "reported_at", listed)
    return _scaled(counts, spec["scaling"], r.units)


def _closing_days(r: _Records, spec: pd.Series) -> np.ndarray | None:
    iss = r.issues
    if iss is None:
        return None
    frame = iss.frame
    days = (frame["closed_at"] - frame["reported_at"]).dt.total_seconds() / 86400.0
    every = np.ones(len(frame), dtype=bool)
    return r.window_mean(spec, iss, "closed_at", every, days.to_numpy(dtype=float))


def _deadline_compliance(r: _Records, spec: pd.Series) -> np.ndarray | None:
    iss = r.issues
    if iss is None:
        return None
    frame = iss.frame
    on_time = frame["resolved_at"].notna() & (frame["resolved_at"] <= frame["due_resolve_at"])
    every = np.ones(len(frame), dtype=bool)
    return r.window_mean(spec, iss, "due_resolve_at", every, on_time.to_numpy(dtype=float))


def _reopen_rate(r: _Records, spec: pd.Series) -> np.ndarray | None:
    iss = r.issues
    if iss is None:
        return None
    reopened = (pd.to_numeric(iss.frame["reopen_count"]).fillna(0) > 0).to_numpy(dtype=float)
    every = np.ones(len(reopened), dtype=bool)
    return r.window_mean(spec, iss, "resolved_at", every, reopened)


def _mean_rating(r: _Records, spec: pd.Series) -> np.ndarray | None:
    iss = r.issues
    if iss is None:
        return None
    rating = pd.to_numeric(iss.frame["rating"]).astype(float).to_numpy(dtype=float)
    every = np.ones(len(rating), dtype=bool)
    return r.window_mean(spec, iss, "resolved_at", every, rating)


def _checkin_rate(r: _Records, spec: pd.Series) -> np.ndarray | None:
    checks = r.checkins
    if checks is None:
        return None
    frame = checks.frame
    key = pd.DataFrame(
        {
            "unit": checks.unit,
            "building": frame["building_id"].to_numpy(),
            "week": frame["week"].to_numpy(),
        }
    )
    buildings = np.zeros(len(r.units))
    per_unit = key[key["unit"] >= 0].groupby("unit")["building"].nunique()
    buildings[per_unit.index.to_numpy()] = per_unit.to_numpy(dtype=float)
    # one check-in per building and week counts once
    first = ~key.duplicated().to_numpy()
    done = r.window_sum(spec, checks, "week", first)
    expected = buildings * int(spec["window_weeks"])
    return np.divide(done, expected, out=np.full_like(done, np.nan), where=expected > 0)


_Rule = Callable[[_Records, pd.Series], np.ndarray | None]
_RULES: dict[str, _Rule] = {
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


# -- Output -----------------------------------------------------------------------------------


def _long_format(
    parts: list[tuple[str, np.ndarray]], weeks: Sequence[str], units: pd.DataFrame
) -> pd.DataFrame:
    """Week by week, leaf by leaf (catalogue order), compound by compound; missing values out."""
    if not parts:
        return pd.DataFrame(columns=_LONG_COLUMNS)
    n_units, n_leaves = len(units), len(parts)
    values = np.stack([values for _, values in parts], axis=1)  # weeks x leaves x compounds
    long = pd.DataFrame(
        {
            "compound_id": np.tile(units.index.to_numpy(), len(weeks) * n_leaves),
            "indicator_id": np.tile(np.repeat([leaf for leaf, _ in parts], n_units), len(weeks)),
            "period": np.repeat(np.asarray(weeks, dtype=object), n_leaves * n_units),
            "value": values.ravel(),
        }
    )
    long = long[long["value"].notna()]
    long.insert(1, "housing_type", long["compound_id"].map(units["housing_type"]))
    return long.reset_index(drop=True)
