"""The plain-SQL reads and inserts on the ingest hot path give what the ORM versions gave."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Integer, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.bindings import (
    active_binding,
    bind_chat,
    bound_unit,
    create_bind_code,
    deactivate_chat,
)
from storage.categories import Category, load_catalog
from storage.db import Database, driver_value, execute, first, insert_row, new_row, rows
from storage.org import assign_grid, create_unit
from storage.org_tree import org_tree
from storage.permissions import active_grants, active_roles
from storage.roster import member_by_user, member_snapshot, revoke_role
from storage.tables import (
    Activity,
    Audience,
    AuditEvent,
    IssueEvent,
    Member,
    RoleGrant,
    UnitKind,
    UTCDateTime,
)
from tests.district import COMMITTEE_A, GRID_A, LEADER_A3, STRANGER, District

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


@pytest.fixture
def session(database: Database, district: District) -> Iterator[Session]:  # noqa: ARG001
    with database.session() as s:
        yield s


def test_member_snapshot_is_the_member_row_detached(session: Session) -> None:
    loaded = member_by_user(session, LEADER_A3)
    snapshot = member_snapshot(session, user_id=LEADER_A3)
    assert loaded is not None
    assert snapshot is not None
    assert snapshot.model_dump() == loaded.model_dump()
    assert snapshot.created_at.tzinfo is not None
    assert inspect(snapshot).detached
    assert member_snapshot(session, user_id=STRANGER) is None


def test_bound_unit_is_the_active_binding(session: Session, district: District) -> None:
    code = create_bind_code(
        session, unit_id=district.units["sunshine"], audience=Audience.RESIDENTS,
        created_by=None, now=NOW,
    )  # fmt: skip
    bind_chat(session, code=code.code, chat_id=-77, title="阳光", member_id=None, now=NOW)
    binding = active_binding(session, chat_id=-77)
    assert binding is not None
    assert bound_unit(session, chat_id=-77) == (binding.unit_id, binding.audience)
    assert bound_unit(session, chat_id=-78) is None
    deactivate_chat(session, chat_id=-77, reason="kicked", now=NOW)
    assert bound_unit(session, chat_id=-77) is None


def test_active_roles_are_the_active_grants(session: Session, district: District) -> None:
    for user in (COMMITTEE_A, GRID_A, LEADER_A3):
        member_id = district.members[user]
        expected = [(g.role, g.unit_id) for g in active_grants(session, member_id)]
        assert active_roles(session, member_id) == expected
    grant = session.exec(
        select(RoleGrant).where(RoleGrant.member_id == district.members[LEADER_A3])
    ).one()
    revoke_role(session, grant_id=grant.id or 0, revoked_by=None, now=NOW)
    assert active_roles(session, district.members[LEADER_A3]) == []


def test_insert_row_writes_what_a_flush_writes(session: Session, district: District) -> None:
    member = district.members[LEADER_A3]
    by_flush = AuditEvent(at=NOW, actor_member_id=member, action="x", entity="e", entity_id=None)
    session.add(by_flush)
    session.flush()
    snapshot = AuditEvent(at=NOW, actor_member_id=member, action="x", entity="e", entity_id=None)
    new_id = insert_row(session, snapshot)
    assert snapshot.id == new_id
    assert new_id == (by_flush.id or 0) + 1
    session.commit()
    session.expunge_all()
    first, second = (session.get(AuditEvent, i) for i in (by_flush.id, new_id))
    assert first is not None
    assert second is not None
    assert first.model_dump(exclude={"id"}) == second.model_dump(exclude={"id"})
    assert second.at == NOW


def test_insert_row_stores_the_bytes_a_flush_stores(session: Session, district: District) -> None:
    """Dates, aware datetimes, floats and big integers go through the column types' processors:
    the stored values (read back raw, not through the ORM) are the flush's."""

    def activity(message_id: int) -> Activity:
        return Activity(
            compound_id=district.units["sunshine"], member_id=district.members[LEADER_A3],
            activity_type="volunteer", occurred_on=date(2026, 11, 15), participants=12,
            hours=1.5, person_hours=18.0, raw_text="#志愿 12人 1.5小时", unparsed='["x"]',
            source_chat_id=-100_123_456_789_012, source_message_id=message_id, created_at=NOW,
            updated_at=NOW.astimezone(timezone(timedelta(hours=8))),
        )  # fmt: skip

    by_flush, by_insert = activity(2**40), activity(2**40 + 1)
    session.add(by_flush)
    session.flush()
    insert_row(session, by_insert)
    stored = (
        session.connection()
        .exec_driver_sql(
            "SELECT * FROM activity WHERE id IN (?, ?) ORDER BY id", (by_flush.id, by_insert.id)
        )
        .all()
    )
    flushed, inserted = ({**row._mapping} for row in stored)
    assert inserted.pop("source_message_id") == flushed.pop("source_message_id") + 1
    assert inserted.pop("id") == flushed.pop("id") + 1
    assert inserted == flushed
    assert inserted["updated_at"] == "2026-11-16 01:00:00.000000"  # UTC, as every UTC column


def test_plain_statements_run_in_the_sessions_transaction(
    database: Database, district: District
) -> None:
    member = district.members[LEADER_A3]
    with database.session() as session:
        assert (
            execute(
                session, "UPDATE member SET name = :n WHERE id = :id", {"n": "改", "id": member}
            )
            == 1
        )
        assert first(session, "SELECT name FROM member WHERE id = :id", {"id": member}) == ("改",)
        session.rollback()  # the plain UPDATE goes with the transaction
        assert first(session, "SELECT name FROM member WHERE id = :id", {"id": member}) != ("改",)
        assert session.in_transaction()  # the read after the rollback began a new one
        session.commit()
        assert rows(session, "SELECT id FROM member WHERE id = :id", {"id": -1}) == []
        assert first(session, "SELECT id FROM member WHERE id = :id", {"id": -1}) is None


def test_insert_row_is_checked_like_a_flush(session: Session) -> None:
    event = IssueEvent(issue_id=1, at=NOW, action="report", to_state="reported")
    # No issue 1: the foreign key refuses it, as it refuses a flush.
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        insert_row(session, event)


def _reference(text: str) -> Category:
    """classify as it was: every keyword tried, in file order."""
    catalog = load_catalog()
    lowered = text.lower()
    scores: dict[str, tuple[int, int, int, int]] = {}
    order = 0
    for category in catalog.all():
        words = [(k.lower(), False) for k in category.keywords_zh]
        words += [(k.lower(), True) for k in category.keywords_en]
        for word, latin in words:
            order += 1
            found = _latin_word(word, lowered) if latin else word in lowered
            if not found:
                continue
            longest, count, urgent, first = scores.get(category.id, (0, 0, 0, -order))
            scores[category.id] = (
                max(longest, len(word)), count + 1, int(category.urgent), first
            )  # fmt: skip
    if not scores:
        return catalog.get("other")
    return catalog.get(max(scores, key=lambda c: scores[c]))


def _latin_word(word: str, lowered: str) -> bool:
    return re.search(rf"(?<![a-z]){re.escape(word)}(?:s|es)?(?![a-z])", lowered) is not None


def test_classify_matches_trying_every_keyword() -> None:
    catalog = load_catalog()
    texts = [
        "#报事 3号楼楼道里堆满了纸箱和旧家具，影响通行",
        "楼上漏水，天花板在滴水，还有煤气味",
        "Parking on the fire lane again, and the lift is broken",
        "competition for pets",
        "",
    ]
    for category in catalog.all():
        texts += [f"这里{k}了" for k in category.keywords_zh]
        texts += [f"the {k.upper()}S here" for k in category.keywords_en]
        texts += [f"x{k}" for k in category.keywords_en]
    for text in texts:
        assert catalog.classify(text) == _reference(text), text


def test_the_org_tree_sees_units_and_grid_links_another_session_added(
    database: Database, district: District
) -> None:
    with database.session() as session:
        before = org_tree(session)
        assert district.units["plum"] not in before.grid_compounds.get(
            district.units["grid_a"], set()
        )
    with database.session() as other:
        building = create_unit(
            other,
            kind=UnitKind.BUILDING,
            name="9号楼",
            parent_id=district.units["sunshine"],
            now=NOW,
        )
        other.commit()
    with database.session() as session:
        assert org_tree(session).nodes[building.id or 0].name == "9号楼"
    with database.session() as other:
        assign_grid(other, grid_id=district.units["grid_a"], compound_id=district.units["plum"])
        other.commit()
    with database.session() as session:
        assert district.units["plum"] in org_tree(session).grid_compounds[district.units["grid_a"]]


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (
            AuditEvent,
            {"at": NOW, "actor_member_id": 1, "action": "a", "entity": "e", "entity_id": 1},
        ),
        (Member, {"telegram_user_id": 5, "name": "张三", "created_at": NOW}),
        (
            Activity,
            {
                "source_chat_id": -1,
                "source_message_id": 2,
                "member_id": 3,
                "raw_text": "#志愿",
                "occurred_on": date(2026, 11, 15),
                "created_at": NOW,
                "updated_at": NOW,
            },
        ),  # fmt: skip
    ],
)
def test_new_row_is_the_object_the_constructor_makes(model: Any, values: dict[str, Any]) -> None:
    made, built = model(**values), new_row(model, **values)
    assert {k: v for k, v in built.__dict__.items() if k != "_sa_instance_state"} == {
        k: v for k, v in made.__dict__.items() if k != "_sa_instance_state"
    }
    assert repr(built) == repr(made)
    assert built.__pydantic_fields_set__ == made.__pydantic_fields_set__
    assert inspect(built).transient
    built.id = 7  # an ordinary instrumented object: assignments are tracked
    assert inspect(built).attrs.id.history.added == [7]
    with pytest.raises(TypeError, match="no field"):
        new_row(model, colour="red", **values)


def test_a_new_row_added_to_a_session_is_flushed_as_a_constructed_one(
    session: Session, district: District
) -> None:
    member = district.members[LEADER_A3]
    rows = [m(AuditEvent, at=NOW, actor_member_id=member, action="x", entity="e", entity_id=None)
            for m in (lambda model, **v: model(**v), new_row)]  # fmt: skip
    session.add_all(rows)
    session.flush()
    stored = (
        session.connection()
        .exec_driver_sql(
            "SELECT * FROM audit_event WHERE id IN (?, ?) ORDER BY id", tuple(r.id for r in rows)
        )
        .all()
    )
    made, built = ({**row._mapping} for row in stored)
    assert built.pop("id") == made.pop("id") + 1
    assert built == made


def test_new_row_works_as_the_first_thing_a_process_does() -> None:
    """Before any constructor ran, SQLAlchemy has not configured the mappers yet."""
    code = (
        "from datetime import UTC, datetime\n"
        "from sqlalchemy.orm import make_transient_to_detached\n"
        "from storage.db import new_row\n"
        "from storage.tables import Member\n"
        "member = new_row(Member, id=3, telegram_user_id=5, created_at=datetime.now(UTC))\n"
        "make_transient_to_detached(member)\n"
        "print(member.id)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "3"), done.stderr


def test_a_driver_value_compares_as_the_stored_column(session: Session) -> None:
    """A time given in Shanghai is bound as the UTC text the column stores (raw, it would be
    compared as '2026-11-16 09:00:00+08:00')."""
    shanghai = NOW.astimezone(timezone(timedelta(hours=8)))
    assert driver_value(session, UTCDateTime(), shanghai) == "2026-11-16 01:00:00.000000"
    assert driver_value(session, UTCDateTime(), None) is None
    assert driver_value(session, Integer(), 5) == 5


def test_plain_statements_inside_a_savepoint_roll_back_with_it(
    database: Database, district: District
) -> None:
    member = district.members[LEADER_A3]
    name = "SELECT name FROM member WHERE id = :id"
    with database.session() as session:
        before = first(session, name, {"id": member})  # the driver is known from here on
        savepoint = session.begin_nested()
        execute(session, "UPDATE member SET name = '改' WHERE id = :id", {"id": member})
        savepoint.rollback()
        assert first(session, name, {"id": member}) == before
