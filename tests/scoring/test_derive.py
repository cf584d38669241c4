"""Derivation of bot-measured indicators from hand-made record frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.derive import derive_indicators, week_start

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


def test_inputs_are_not_mutated() -> None:
    before = ISSUES.copy(), ACTIVITIES.copy()
    derive_indicators(compounds=COMPOUNDS, week=WEEK, issues=ISSUES, activities=ACTIVITIES)
    pd.testing.assert_frame_equal(ISSUES, before[0])
    pd.testing.assert_frame_equal(ACTIVITIES, before[1])


def test_week_labels() -> None:
    assert str(week_start(WEEK)) == "2026-03-02"
    with pytest.raises(ValueError, match="ISO week"):
        week_start("March")
