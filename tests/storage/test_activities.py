"""Storing activities: replay and edit by source message, placement, corrections, check-ins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from storage.activities import (
    ActivityReading,
    confirm_activity,
    discard_activity,
    edit_activity,
    record_activity,
    unconfirmed_activities,
    unparsed_parts,
)
from storage.bindings import bind_chat, create_bind_code
from storage.checkins import (
    checkin_requests,
    iso_week,
    record_checkin,
    scan_silent_buildings,
)
from storage.db import Database
from storage.errors import DomainError
from storage.tables import Activity, Alert, Audience
from tests.district import (
    ADMIN,
    COMMITTEE_A,
    COMMITTEE_B,
    LEADER_A3,
    LEADER_B1,
    RESIDENT_A,
    STRANGER,
    District,
)

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
TODAY = date(2026, 11, 16)
CLEANING = ActivityReading(
    activity_type="volunteer", participants=10, hours=2.0, person_hours=20.0, topic="清理楼道"
)


@pytest.fixture
def session(database: Database, district: District) -> Iterator[Session]:  # noqa: ARG001
    with database.session() as s:
        yield s


def _record(
    session: Session,
    reading: ActivityReading = CLEANING,
    *,
    user_id: int = LEADER_A3,
    chat_id: int = LEADER_A3,
    message_id: int = 1,
    edited: bool = False,
    named: tuple[int, ...] = (),
) -> Activity:
    return record_activity(
        session,
        chat_id=chat_id,
        message_id=message_id,
        user_id=user_id,
        text="#志愿 …",
        reading=reading,
        named_user_ids=named,
        edited=edited,
        now=NOW,
        today=TODAY,
    ).activity


def test_a_leaders_activity_belongs_to_their_building(
    session: Session, district: District
) -> None:
    activity = _record(session)
    assert activity.status == "unconfirmed"
    assert activity.building_id == district.units["sunshine_3"]
    assert activity.compound_id == district.units["sunshine"]
    assert activity.occurred_on == TODAY


def test_a_replay_returns_the_stored_row(session: Session) -> None:
    first = record_activity(
        session,
        chat_id=5,
        message_id=9,
        user_id=LEADER_A3,
        text="a",
        reading=CLEANING,
        now=NOW,
        today=TODAY,
    )
    again = record_activity(
        session,
        chat_id=5,
        message_id=9,
        user_id=LEADER_A3,
        text="b",
        reading=ActivityReading(activity_type="meeting"),
        now=NOW,
        today=TODAY,
    )
    assert first.created
    assert not again.created
    assert again.activity.id == first.activity.id
    assert again.activity.activity_type == "volunteer"
    assert len(session.exec(select(Activity)).all()) == 1


def test_an_edit_updates_the_same_row(session: Session) -> None:
    activity = _record(session)
    confirm_activity(
        session, activity_id=activity.id or 0, member_id=activity.member_id, now=NOW, today=TODAY
    )
    changed = _record(
        session, ActivityReading(activity_type="volunteer", participants=12), edited=True
    )
    assert changed.id == activity.id
    assert changed.participants == 12
    assert changed.status == "confirmed"  # a clean reading keeps it confirmed
    broken = _record(
        session,
        ActivityReading(activity_type="volunteer", problems=("negative_count",)),
        edited=True,
    )
    assert broken.status == "unconfirmed"
    discard_activity(session, activity_id=activity.id or 0, member_id=activity.member_id, now=NOW)
    back = _record(session, CLEANING, edited=True)
    assert back.status == "unconfirmed"
    assert len(session.exec(select(Activity)).all()) == 1


@pytest.mark.parametrize(
    ("user_id", "code"),
    [(STRANGER, "activity.not_member"), (RESIDENT_A, "activity.not_allowed")],
)
def test_who_may_not_log(session: Session, user_id: int, code: str) -> None:
    with pytest.raises(DomainError) as raised:
        _record(session, user_id=user_id)
    assert raised.value.code == code
    assert session.exec(select(Activity)).all() == []


def test_a_chat_of_another_committee_is_refused(session: Session, district: District) -> None:
    code = create_bind_code(
        session,
        unit_id=district.units["committee_b"],
        audience=Audience.COMMITTEE,
        created_by=None,
        now=NOW,
    )
    bind_chat(session, code=code.code, chat_id=-5, title="西城", member_id=None, now=NOW)
    with pytest.raises(DomainError) as raised:
        _record(session, user_id=COMMITTEE_A, chat_id=-5)
    assert raised.value.code == "activity.not_allowed_here"
    assert _record(session, user_id=COMMITTEE_B, chat_id=-5).compound_id == district.units["west"]


@pytest.mark.parametrize(
    ("user_id", "building", "unit", "problem"),
    [
        (COMMITTEE_A, "3号楼", "sunshine_3", None),
        (COMMITTEE_A, "12号楼", "plum_12", None),
        (COMMITTEE_A, "1号楼", "sunshine_1", None),
        (COMMITTEE_A, "9号楼", None, "unknown_building"),
        (ADMIN, "1号楼", None, "ambiguous_building"),  # 阳光小区 and 西城花苑 both have one
        (LEADER_B1, "1号楼", "west_1", None),
    ],
)
def test_the_named_building_is_found_within_the_senders_compounds(
    session: Session,
    district: District,
    user_id: int,
    building: str,
    unit: str | None,
    problem: str | None,
) -> None:
    recorded = record_activity(
        session,
        chat_id=1,
        message_id=1,
        user_id=user_id,
        text="x",
        reading=ActivityReading(activity_type="patrol", building=building),
        now=NOW,
        today=TODAY,
    )
    assert recorded.activity.building_id == (district.units[unit] if unit else None)
    if problem:
        assert problem in recorded.problems
        assert building in unparsed_parts(recorded.activity)


def test_named_people_are_linked_and_strangers_counted(session: Session) -> None:
    recorded = record_activity(
        session,
        chat_id=1,
        message_id=1,
        user_id=LEADER_A3,
        text="x",
        reading=CLEANING,
        named_user_ids=[RESIDENT_A, STRANGER, RESIDENT_A],
        now=NOW,
        today=TODAY,
    )
    assert [p.name for p in recorded.people] == ["居民小杨"]
    assert recorded.unknown_people == 1


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("participants", 0, "activity.bad_participants"),
        ("participants", -3, "activity.bad_participants"),
        ("participants", None, "activity.bad_participants"),
        ("households", 20_000, "activity.bad_households"),
        ("hours", 500.0, "activity.bad_hours"),
        ("hours", None, "activity.bad_hours"),
        ("date", TODAY + timedelta(days=1), "activity.future_date"),
        ("date", None, "activity.bad_date"),
        ("date", TODAY - timedelta(days=800), "activity.too_old"),
        ("meeting_type", "party_time", "activity.bad_meeting_type"),
        ("decision", "maybe", "activity.bad_decision"),
        ("activity_type", None, "activity.bad_activity_type"),
        ("topic", "   ", "activity.bad_topic"),
        ("building", "9号楼", "activity.unknown_building"),
        ("colour", "red", "activity.unknown_field"),
    ],
)
def test_corrections_are_checked(session: Session, field: str, value: object, code: str) -> None:
    activity = _record(session)
    with pytest.raises(DomainError) as raised:
        edit_activity(
            session,
            activity_id=activity.id or 0,
            member_id=activity.member_id,
            field=field,
            value=value,
            now=NOW,
            today=TODAY,
        )
    assert raised.value.code == code


def test_a_correction_recomputes_person_hours(session: Session, district: District) -> None:
    activity = _record(session)
    ident, member = activity.id or 0, activity.member_id
    edit_activity(
        session,
        activity_id=ident,
        member_id=member,
        field="participants",
        value=12,
        now=NOW,
        today=TODAY,
    )
    changed = edit_activity(
        session,
        activity_id=ident,
        member_id=member,
        field="hours",
        value=1.5,
        now=NOW,
        today=TODAY,
    )
    assert changed.person_hours == 18.0
    moved = edit_activity(
        session,
        activity_id=ident,
        member_id=member,
        field="building",
        value="1栋",
        now=NOW,
        today=TODAY,
    )
    assert moved.building_id == district.units["sunshine_1"]


def test_confirm_needs_a_type_and_a_past_date(session: Session, district: District) -> None:
    untyped = _record(session, ActivityReading(topic="帮忙"), message_id=1)
    ahead = _record(
        session,
        ActivityReading(activity_type="meeting", occurred_on=TODAY + timedelta(days=3)),
        message_id=2,
    )
    member = district.members[LEADER_A3]
    for activity, code in ((untyped, "activity.no_type"), (ahead, "activity.future_date")):
        with pytest.raises(DomainError) as raised:
            confirm_activity(
                session, activity_id=activity.id or 0, member_id=member, now=NOW, today=TODAY
            )
        assert raised.value.code == code
    assert len(unconfirmed_activities(session, user_id=LEADER_A3)) == 2
    with pytest.raises(DomainError) as raised:
        confirm_activity(
            session,
            activity_id=untyped.id or 0,
            member_id=district.members[LEADER_B1],
            now=NOW,
            today=TODAY,
        )
    assert raised.value.code == "activity.not_yours"


def test_checkins_one_per_week_and_silent_alerts_once(
    session: Session, district: District
) -> None:
    building = district.units["sunshine_3"]
    record_checkin(
        session, user_id=LEADER_A3, building_id=building, status="ok", now=NOW, today=TODAY
    )
    record_checkin(
        session, user_id=LEADER_A3, building_id=building, status="issue", now=NOW, today=TODAY
    )
    asked = {r.building_id for r in checkin_requests(session, today=TODAY)}
    assert asked == {district.units["west_1"]}  # 3号楼 answered already
    assert iso_week(TODAY) == "2026-W47"

    later = date(2026, 12, 11)
    at = datetime(2026, 12, 11, 9, tzinfo=UTC)
    raised = scan_silent_buildings(session, today=later, now=at)
    assert {r.building_id for r in raised} == {building, district.units["west_1"]}
    assert scan_silent_buildings(session, today=later, now=at) == []
    assert len(session.exec(select(Alert)).all()) == 2
    with pytest.raises(DomainError):
        record_checkin(
            session, user_id=LEADER_B1, building_id=building, status="ok", now=NOW, today=TODAY
        )


def test_storage_accepts_exactly_the_codes_the_parser_produces() -> None:
    """Storage validates edits against its own copy of the codes (it may not import the
    parser); this keeps the two from drifting apart."""
    from handlers import parsing
    from storage import activities

    assert activities.ACTIVITY_TYPES == parsing.ACTIVITY_TYPES
    assert activities.MEETING_TYPES == parsing.MEETING_TYPES
    assert activities.DECISIONS == parsing.DECISIONS


def test_a_logged_activity_keeps_a_building_off_the_silent_list_unless_discarded(
    session: Session, district: District
) -> None:
    building = district.units["sunshine_3"]
    logged = record_activity(
        session, chat_id=LEADER_A3, message_id=7, user_id=LEADER_A3, text="#志愿 …",
        reading=CLEANING, now=datetime(2026, 11, 25, 2, tzinfo=UTC), today=date(2026, 11, 25),
    ).activity  # fmt: skip
    assert logged.building_id == building
    later, at = date(2026, 12, 11), datetime(2026, 12, 11, 9, tzinfo=UTC)  # silent since 11-23
    raised = scan_silent_buildings(session, today=later, now=at)
    assert {r.building_id for r in raised} == {district.units["west_1"]}
    stored = session.get(Activity, logged.id)
    assert stored is not None
    stored.status = "discarded"
    session.add(stored)
    session.commit()
    raised = scan_silent_buildings(session, today=later, now=at)
    assert [(r.building_id, r.last_seen) for r in raised] == [(building, None)]
