"""Reading the record frames the index derivation expects, straight from the tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from scoring.derive import derive_indicators
from storage import records
from storage.db import Database
from storage.records import (
    read_activities,
    read_checkins,
    read_compounds,
    read_imported,
    read_issues,
    read_records,
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


def test_issues_are_kept_for_each_of_the_five_reasons(
    database: Database, district: District
) -> None:
    sunshine = district.units["sunshine"]
    since = NOW - timedelta(weeks=13)
    old = since - timedelta(days=30)
    before = since - timedelta(days=1)
    after = since + timedelta(days=1)
    issues = {
        "reported after": _issue(sunshine, after, state="closed", closed_at=after),
        "due after": _issue(sunshine, old, state="closed", closed_at=before,
                            resolve_due_at=after),
        "closed after": _issue(sunshine, old, state="closed", closed_at=after),
        "resolved after": _issue(sunshine, old, state="closed", closed_at=before,
                                 resolved_at=after),
        "still open": _issue(sunshine, old),
        "done before": _issue(sunshine, old, state="closed", closed_at=before,
                              resolved_at=before),
    }  # fmt: skip
    with database.session() as session:
        for message_id, issue in enumerate(issues.values()):
            issue.source_message_id = message_id
            session.add(issue)
        session.commit()
        ids = {name: issue.id for name, issue in issues.items()}
    statements: list[str] = []
    with database.read_session() as session:
        raw = session.connection().connection.driver_connection
        raw.set_trace_callback(statements.append)
        frame = read_issues(session, since=since)
        raw.set_trace_callback(None)
        plan = raw.execute(f"EXPLAIN QUERY PLAN {statements[-1]}").fetchall()
    kept = set(frame["issue_id"])
    assert kept == {ids[name] for name in issues if name != "done before"}
    assert frame["issue_id"].is_monotonic_increasing
    # every term is an index range (migration 0004), never a scan of every issue ever stored
    assert not [step for *_, step in plan if str(step).startswith("SCAN issue")]


def test_the_index_reads_compact_frames_that_derive_the_same_values(
    database: Database, district: District
) -> None:
    sunshine = district.units["sunshine"]
    day = date(2026, 11, 10)
    with database.session() as session:
        session.add(_issue(sunshine, NOW - timedelta(days=3), category_id="utility_outage"))
        session.add(_activity(sunshine, day, 1, activity_type="volunteer", participants=10,
                              party_members=4, person_hours=20.0, status="confirmed"))  # fmt: skip
        session.add(_activity(sunshine, day, 2, activity_type="volunteer", person_hours=99.0))
        session.add(_activity(sunshine, day, 3, activity_type="meeting", meeting_type="hearing",
                              status="confirmed"))  # fmt: skip
        session.commit()
    since = NOW - timedelta(weeks=13)
    with database.read_session() as session:
        frames = read_records(session, since=since)
        issues = read_issues(session, since=since)
        activities = read_activities(session, since=since.date())
    for frame, column in ((frames.issues, "category_id"), (frames.issues, "state"),
                          (frames.activities, "activity_type"),
                          (frames.activities, "meeting_type")):  # fmt: skip
        assert isinstance(frame[column].dtype, pd.CategoricalDtype), column
    assert frames.activities["confirmed"].all()  # the unconfirmed one is not read
    assert len(frames.activities) == 2
    assert frames.activities["occurred_on"].tolist() == [pd.Timestamp(day)] * 2
    assert activities["occurred_on"].tolist() == [day] * 3  # the public frame keeps dates
    for week in ("2026-W45", "2026-W46"):
        compact = derive_indicators(
            compounds=frames.compounds, week=week, issues=frames.issues,
            activities=frames.activities, checkins=frames.checkins,
        )  # fmt: skip
        plain = derive_indicators(
            compounds=frames.compounds, week=week, issues=issues, activities=activities,
            checkins=frames.checkins,
        )  # fmt: skip
        pd.testing.assert_frame_equal(compact, plain)


def test_reading_in_chunks_gives_the_same_frames(
    database: Database, district: District, monkeypatch: pytest.MonkeyPatch
) -> None:
    sunshine, plum = district.units["sunshine"], district.units["plum"]
    with database.session() as session:
        for k in range(7):
            at = NOW - timedelta(days=k + 1)
            session.add(_issue(sunshine if k % 2 else plum, at, category_id=f"c{k % 3}",
                               source_message_id=k, rating=k % 5 or None))  # fmt: skip
            session.add(_activity(plum, at.date(), k, activity_type=f"t{k % 4}",
                                  meeting_type="review" if k == 3 else None,
                                  status="confirmed"))  # fmt: skip
        session.commit()
    since = NOW - timedelta(weeks=13)

    def read() -> tuple[pd.DataFrame, ...]:
        with database.read_session() as session:
            frames = read_records(session, since=since)
            return (
                read_issues(session, since=since),
                read_activities(session, since=since.date()),
                frames.issues,
                frames.activities,
            )

    whole = read()
    monkeypatch.setattr(records, "_CHUNK_ROWS", 3)
    for one, chunked in zip(whole, read(), strict=True):
        pd.testing.assert_frame_equal(one, chunked)


def test_empty_tables_give_empty_frames_with_the_columns(database: Database) -> None:
    with database.read_session() as session:
        issues = read_issues(session, since=NOW)
        activities = read_activities(session, since=NOW.date())
        frames = read_records(session, since=NOW)
    assert len(issues) == len(activities) == len(frames.issues) == len(frames.activities) == 0
    assert str(issues["reported_at"].dt.tz) == "UTC"
    assert "confirmed" in activities
    assert list(frames.activities.columns) == list(activities.columns)
