"""Reading the record frames the index derivation expects, straight from the tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from scoring.derive import derive_indicators
from storage.db import Database
from storage.records import (
    read_activities,
    read_checkins,
    read_compounds,
    read_imported,
    read_issues,
)
from storage.tables import Activity, Checkin, ImportedIndicator, Issue
from tests.district import District

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def _issue(compound_id: int, reported: datetime, **kw: object) -> Issue:
    defaults: dict[str, object] = {
        "category_id": "parking",
        "text": "楼下乱停车",
        "state": "reported",
        "source_chat_id": -1,
        "source_message_id": int(reported.timestamp()),
        "respond_due_at": reported + timedelta(days=1),
        "resolve_due_at": reported + timedelta(days=7),
    }
    defaults.update(kw)
    return Issue(compound_id=compound_id, reported_at=reported, **defaults)  # type: ignore[arg-type]


def _activity(compound_id: int, day: date, message_id: int, **kw: object) -> Activity:
    return Activity(
        compound_id=compound_id,
        occurred_on=day,
        raw_text="#志愿",
        source_chat_id=-2,
        source_message_id=message_id,
        created_at=NOW,
        updated_at=NOW,
        **kw,  # type: ignore[arg-type]
    )


def test_compounds_carry_type_size_name_and_committee(
    database: Database, district: District
) -> None:
    with database.read_session() as session:
        frame = read_compounds(session)
    sunshine = frame.set_index("compound_id").loc[district.units["sunshine"]]
    assert sunshine["housing_type"] == "commercial"
    assert sunshine["households"] == 1200.0
    assert sunshine["name"] == "阳光小区"
    assert sunshine["committee_id"] == district.units["committee_a"]
    assert len(frame) == 3


def test_issues_are_bounded_by_since_but_keep_open_ones(
    database: Database, district: District
) -> None:
    sunshine = district.units["sunshine"]
    old = NOW - timedelta(weeks=40)
    with database.session() as session:
        session.add(_issue(sunshine, NOW - timedelta(days=2), rating=4, state="resolved",
                           resolved_at=NOW - timedelta(days=1)))  # fmt: skip
        session.add(_issue(sunshine, old, state="closed", closed_at=old + timedelta(days=2)))
        session.add(_issue(sunshine, old - timedelta(days=1)))  # still open
        session.commit()
    with database.read_session() as session:
        frame = read_issues(session, since=NOW - timedelta(weeks=13))
    assert len(frame) == 2  # the old closed one is out of every window
    assert list(frame.columns) == [
        "issue_id", "compound_id", "category_id", "state", "reported_at", "closed_at",
        "resolved_at", "due_resolve_at", "reopen_count", "rating",
    ]  # fmt: skip
    assert str(frame["reported_at"].dt.tz) == "UTC"
    assert frame["rating"].dropna().tolist() == [4.0]


def test_activities_and_checkins_feed_the_derivation(
    database: Database, district: District
) -> None:
    sunshine = district.units["sunshine"]
    day = date(2026, 11, 10)
    with database.session() as session:
        session.add(_activity(sunshine, day, 1, activity_type="volunteer", participants=10,
                              person_hours=20.0, status="confirmed"))  # fmt: skip
        session.add(_activity(sunshine, day, 2, activity_type="volunteer", person_hours=99.0))
        session.add(_activity(sunshine, day, 3, activity_type="meeting", meeting_type="hearing",
                              status="discarded"))  # fmt: skip
        session.add(Checkin(building_id=district.units["sunshine_3"], week="2026-W46",
                            status="ok", at=NOW))  # fmt: skip
        session.commit()
    with database.read_session() as session:
        acts = read_activities(session, since=date(2026, 8, 1))
        checks = read_checkins(session, since=date(2026, 8, 1))
        compounds = read_compounds(session)
    assert len(acts) == 2  # the discarded one is gone; the unconfirmed one is flagged
    assert acts["confirmed"].tolist().count(True) == 1
    assert checks.iloc[0]["compound_id"] == sunshine
    values = derive_indicators(
        compounds=compounds, week="2026-W46", activities=acts, checkins=checks
    )
    hours = values[(values["indicator_id"] == "volunteer_hours")].set_index("compound_id")
    # the confirmed 20 person-hours, per 1,000 of the 1,200 households
    assert hours.loc[str(sunshine), "value"] == pytest.approx(20 / 1.2)


def test_imported_values_hold_until_a_newer_period(database: Database, district: District) -> None:
    sunshine = district.units["sunshine"]
    with database.session() as session:
        for period, value in (("2025", 0.80), ("2026", 0.92), ("2027", 0.99)):
            session.add(
                ImportedIndicator(
                    compound_id=sunshine,
                    indicator_id="property_fee",
                    period=period,
                    value=value,
                    imported_at=NOW,
                )
            )
        session.add(ImportedIndicator(compound_id=sunshine, indicator_id="not_in_catalogue",
                                      period="2026", value=1.0, imported_at=NOW))  # fmt: skip
        session.commit()
    with database.read_session() as session:
        frame = read_imported(session, weeks=["2026-W45", "2026-W46"], indicators=["property_fee"])
    assert frame["value"].tolist() == [0.92, 0.92]
    assert frame["period"].tolist() == ["2026-W45", "2026-W46"]
    assert frame["compound_id"].tolist() == [str(sunshine)] * 2
    assert frame["housing_type"].tolist() == ["commercial"] * 2
