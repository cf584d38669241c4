"""Derivation of bot-measured indicators from hand-made record frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.catalog import load_catalog
from scoring.derive import derive_indicator_history, derive_indicators, week_start

WEEK = "2026-W10"  # Monday 2026-03-02; the 13-week window is [2025-12-08, 2026-03-09) local

COMPOUNDS = pd.DataFrame(
    {
        "compound_id": ["A", "B"],
        "housing_type": ["commercial", "old_public"],
        "households": [200, 100],
        "residents": [500, 250],
    }
)


def _activity(compound: str, kind: str, day: str, **extra: object) -> dict:
    return {
        "activity_id": f"{compound}-{kind}-{day}",
        "compound_id": compound,
        "activity_type": kind,
        "meeting_type": None,
        "occurred_on": pd.Timestamp(day).date(),
        "participants": 0,
        "party_members": None,
        "hours": 1.0,
        "person_hours": 0.0,
        "households": 0,
        "confirmed": True,
        **extra,
    }


ACTIVITIES = pd.DataFrame(
    [
        _activity("A", "meeting", "2026-03-01", meeting_type="review"),
        _activity("A", "meeting", "2025-12-01", meeting_type="hearing"),  # before the window
        _activity("A", "meeting", "2026-03-02", meeting_type="building"),  # not one of 三会
        _activity("A", "party", "2026-02-01"),
        _activity("B", "meeting", "2026-02-01", meeting_type="party"),
        _activity("A", "visit", "2026-02-10", households=6),
        _activity(
            "A", "volunteer", "2026-01-05", participants=10, party_members=4, person_hours=20
        ),
        _activity("A", "volunteer", "2026-01-06", participants=100, confirmed=False),
        _activity("A", "service", "2026-01-07", participants=50),
        _activity("A", "drill", "2026-01-08", participants=45),
    ]
)


def _issue(issue_id: int, category: str, reported: str, **extra: object) -> dict:
    return {
        "issue_id": issue_id,
        "compound_id": "A",
        "building_id": "A-1",
        "category_id": category,
        "category_class": "service",
        "sensitive": False,
        "reported_at": pd.Timestamp(reported, tz="UTC"),
        "accepted_at": pd.NaT,
        "resolved_at": pd.NaT,
        "closed_at": pd.NaT,
        "due_resolve_at": pd.NaT,
        "state": "closed",
        "reopen_count": 0,
        "rating": np.nan,
        "reporters": 1,
        **extra,
    }


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


ISSUES = pd.DataFrame(
    [
        # closed after 2 days, resolved before its due time, rated 4
        _issue(
            1,
            "utility_outage",
            "2026-02-01T02:00",
            resolved_at=_utc("2026-02-02T02:00"),
            closed_at=_utc("2026-02-03T02:00"),
            due_resolve_at=_utc("2026-02-02T12:00"),
            rating=4.0,
        ),
        # closed after 16 days, resolved late, reopened once
        _issue(
            2,
            "group_rental",
            "2026-02-05T00:00",
            resolved_at=_utc("2026-02-20T00:00"),
            closed_at=_utc("2026-02-21T00:00"),
            due_resolve_at=_utc("2026-02-12T00:00"),
            reopen_count=1,
        ),
        _issue(3, "utility_outage", "2026-02-01T03:00", state="duplicate"),  # merged: not counted
        # 17:00 UTC on Sunday 8 March is 01:00 on Monday 9 March in Shanghai: after the window
        _issue(4, "utility_outage", "2026-03-08T17:00", state="reported"),
    ]
)

CHECKINS = pd.DataFrame(
    {
        "compound_id": ["A", "A", "A", "A"],
        "building_id": ["A-1", "A-1", "A-2", "A-2"],
        "week": ["2026-W09", "2026-W10", "2026-W10", "2025-W30"],
        "status": ["ok", "issue", "ok", "ok"],
    }
)


@pytest.fixture(scope="module")
def derived() -> pd.Series:
    long = derive_indicators(
        compounds=COMPOUNDS, week=WEEK, issues=ISSUES, activities=ACTIVITIES, checkins=CHECKINS
    )
    assert set(long["period"]) == {WEEK}
    assert long.groupby("compound_id")["housing_type"].first().to_dict() == {
        "A": "commercial",
        "B": "old_public",
    }
    return long.set_index(["compound_id", "indicator_id"])["value"]


@pytest.mark.parametrize(
    ("compound", "indicator", "expected"),
    [
        ("A", "three_meetings", 1.0),
        ("B", "three_meetings", 0.0),
        ("A", "three_sessions_one_lesson", 1.0),
        ("B", "three_sessions_one_lesson", 1.0),
        # 6 households visited / 200 households, annualised x 52/13
        ("A", "household_visits", 6 / 200 * 4),
        # 50 people served / 500 residents x 4
        ("A", "doorstep_service", 50 / 500 * 4),
        # 20 person-hours per 0.2 thousand households (the unconfirmed 100 people do not count)
        ("A", "volunteer_hours", 100.0),
        ("A", "party_volunteer_share", 0.4),
        ("A", "drills", 1.0),
        ("B", "drills", 0.0),
        # one utility outage (the duplicate and the one after the window do not count) per 0.2k
        ("A", "utility_anomalies", 5.0),
        ("A", "group_rental", 5.0),
        ("B", "group_rental", 0.0),
        ("A", "complaint_closing_days", (2 + 16) / 2),
        ("A", "deadline_compliance", 0.5),
        ("A", "reopen_rate", 0.5),
        ("A", "handling_rating", 4.0),
        # 3 building-weeks checked in of 2 buildings x 13 weeks
        ("A", "checkin_rate", 3 / 26),
    ],
)
def test_derived_values(
    derived: pd.Series, compound: str, indicator: str, expected: float
) -> None:
    assert derived.loc[(compound, indicator)] == pytest.approx(expected, abs=1e-12)


def test_rates_without_a_denominator_are_missing_not_zero(derived: pd.Series) -> None:
    for indicator in ("complaint_closing_days", "handling_rating", "checkin_rate", "reopen_rate"):
        assert ("B", indicator) not in derived.index


def test_frames_not_given_yield_no_values() -> None:
    long = derive_indicators(compounds=COMPOUNDS, week=WEEK, activities=ACTIVITIES)
    assert "complaint_closing_days" not in set(long["indicator_id"])
    assert "drills" in set(long["indicator_id"])


def test_empty_frames_give_zero_counts_and_missing_rates() -> None:
    """A quiet week (frames given, no rows): counts are 0, rates and means have no value."""
    long = derive_indicators(
        compounds=COMPOUNDS,
        week=WEEK,
        issues=ISSUES.iloc[:0],
        activities=ACTIVITIES.iloc[:0],
        checkins=CHECKINS.iloc[:0],
    )
    values = long.set_index(["compound_id", "indicator_id"])["value"]
    for indicator in ("three_meetings", "drills", "utility_anomalies", "volunteer_hours"):
        assert values.loc[("A", indicator)] == 0.0
    for indicator in ("checkin_rate", "complaint_closing_days", "party_volunteer_share"):
        assert ("A", indicator) not in values.index


def test_inputs_are_not_mutated() -> None:
    before = ISSUES.copy(), ACTIVITIES.copy()
    derive_indicators(compounds=COMPOUNDS, week=WEEK, issues=ISSUES, activities=ACTIVITIES)
    pd.testing.assert_frame_equal(ISSUES, before[0])
    pd.testing.assert_frame_equal(ACTIVITIES, before[1])


def test_week_labels() -> None:
    assert str(week_start(WEEK)) == "2026-03-02"
    with pytest.raises(ValueError, match="ISO week"):
        week_start("March")


# -- Several weeks at once ----------------------------------------------------------------------
# W08, W09 and W10 are derived together; their 13-week windows start on Mondays 2025-11-24,
# 2025-12-01 and 2025-12-08 and end before 2026-02-23, 2026-03-02 and 2026-03-09 (local).

WEEKS = ["2026-W08", "2026-W09", "2026-W10"]

HISTORY_ACTIVITIES = pd.DataFrame(
    [
        _activity("A", "meeting", "2025-11-24", meeting_type="review"),  # W08's first day only
        _activity("A", "meeting", "2025-12-07", meeting_type="coordination"),  # W08 and W09
        _activity("A", "meeting", "2026-03-01", meeting_type="hearing"),  # W09 and W10
        _activity("Z", "meeting", "2026-03-01", meeting_type="hearing"),  # not a compound given
        _activity("A", "drill", "2026-02-25"),  # in W09
        _activity("A", "drill", "2026-03-04"),  # in W10
    ]
)

HISTORY_ISSUES = pd.DataFrame(
    [
        # 23:59:59 on Sunday 8 March in Shanghai: the last second of W10
        _issue(1, "utility_outage", "2026-03-08T15:59:59", state="reported"),
        # 00:00 on Monday 9 March in Shanghai: after every window
        _issue(2, "utility_outage", "2026-03-08T16:00:00", state="reported"),
        # closed in W08's window only (2025-11-25), after 12 hours
        _issue(3, "parking", "2025-11-24T12:00", closed_at=_utc("2025-11-25T00:00")),
        # closed in all three windows, after 8 hours
        _issue(4, "parking", "2026-01-10T00:00", closed_at=_utc("2026-01-10T08:00")),
    ]
)

HISTORY_CHECKINS = pd.DataFrame(
    {
        "compound_id": ["A", "A", "A", "A", "A"],
        "building_id": ["A-1", "A-1", "A-1", "A-2", "A-2"],
        "week": ["2026-W08", "2026-W09", "2026-W10", "2026-W10", "2026-W10"],  # A-2 twice
        "status": ["ok", "ok", "issue", "ok", "ok"],
    }
)


def _history_inputs() -> dict[str, pd.DataFrame]:
    """The records above and the catalogue with one leaf on its own window, as derive takes
    them: the history and the week-by-week comparison must derive from the same inputs."""
    catalog = load_catalog()
    catalog.loc["drills", "window_weeks"] = 1  # one leaf with its own window
    return {
        "compounds": COMPOUNDS,
        "issues": HISTORY_ISSUES,
        "activities": HISTORY_ACTIVITIES,
        "checkins": HISTORY_CHECKINS,
        "catalog": catalog,
    }


@pytest.fixture(scope="module")
def history() -> pd.Series:
    long = derive_indicator_history(weeks=WEEKS, **_history_inputs())
    assert list(pd.unique(long["period"])) == WEEKS
    assert set(long["compound_id"]) == {"A", "B"}
    return long.set_index(["period", "compound_id", "indicator_id"])["value"]


@pytest.mark.parametrize(
    ("indicator", "expected"),
    [
        ("three_meetings", [2.0, 2.0, 1.0]),
        ("drills", [0.0, 1.0, 1.0]),  # a one-week window
        ("utility_anomalies", [0.0, 0.0, 5.0]),  # 1 per 0.2 thousand households, in W10
        ("complaint_closing_days", [(0.5 + 1 / 3) / 2, 1 / 3, 1 / 3]),
        ("checkin_rate", [1 / 26, 2 / 26, 4 / 26]),  # 2 buildings x 13 weeks
    ],
)
def test_each_week_has_its_own_window(
    history: pd.Series, indicator: str, expected: list[float]
) -> None:
    got = [history.loc[(week, "A", indicator)] for week in WEEKS]
    assert got == pytest.approx(expected, abs=1e-12)


def test_history_is_the_weeks_derived_one_by_one(history: pd.Series) -> None:
    inputs = _history_inputs()
    for week in WEEKS:
        one = derive_indicators(week=week, **inputs)
        one = one.set_index(["compound_id", "indicator_id"])["value"]
        pd.testing.assert_series_equal(one, history.xs(week), check_exact=True)


def test_a_mean_is_the_float_pandas_gives_whichever_weeks_are_derived() -> None:
    """Closing times of 1, 1/2 … 1/10 days, one a week, in the weeks the W09 and W10 windows
    share: both weeks give, to the last bit, the mean pandas gives over those issues in record
    order (as the derivation did week by week). Adding up per week first rounds differently;
    and a threshold built from a single compound compares a value with itself, so the last
    bit can decide a score."""
    start = pd.Timestamp("2025-12-10T00:00", tz="UTC")
    days = [1 / k for k in range(1, 11)]
    issues = pd.DataFrame(
        [
            _issue(
                k,
                "parking",
                str(start + pd.Timedelta(weeks=k)),
                closed_at=start + pd.Timedelta(weeks=k, days=d),
            )
            for k, d in enumerate(days)
        ]  # fmt: skip
    )
    long = derive_indicator_history(compounds=COMPOUNDS, weeks=WEEKS[1:], issues=issues)
    closing = long[long["indicator_id"] == "complaint_closing_days"].set_index("period")["value"]
    seconds = (issues["closed_at"] - issues["reported_at"]).dt.total_seconds()
    expected = (seconds / 86400.0).groupby(issues["compound_id"]).mean()["A"]
    assert closing["2026-W09"] == expected
    assert closing["2026-W10"] == expected
