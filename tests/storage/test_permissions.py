"""The permission matrix: every action × every role × in scope / out of scope.

The expected table is written out here by hand (not derived from ``ACTION_ROLES``), so a change
to who may do what has to be made in both places on purpose.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import Session

from storage.clock import MovableClock
from storage.db import Database
from storage.org import create_unit
from storage.permissions import Action, active_grants, is_allowed
from storage.roster import ensure_member, grant_role, revoke_role
from storage.tables import HousingType, Role, UnitKind
from tests.district import GRID_A, District

G, B, C, P, OC, V, M, T, R, A = (
    Role.GRID_WORKER, Role.BUILDING_LEADER, Role.COMMITTEE, Role.PROPERTY,
    Role.OWNERS_COMMITTEE, Role.VOLUNTEER, Role.PARTY_MEMBER, Role.TOWN, Role.RESIDENT,
    Role.ADMIN,
)  # fmt: skip

EXPECTED: dict[Action, set[Role]] = {
    Action.INVITE: {C, T, A},
    Action.BIND: {C, T, A},
    Action.REPORT: {G, B, C, P, OC, T, R, A},
    Action.LOG: {G, B, C, OC, V, M, T, A},
    Action.CHECKIN: {B, C, T, A},
    Action.DISPATCH: {C, T, A},
    Action.HANDLE: {G, C, P, OC, T, A},
    Action.VIEW_ISSUES: {G, B, C, P, OC, T, A},
    Action.VIEW_INDEX: set(Role),
    Action.DIGEST_PREVIEW: {C, T, A},
    Action.EXPORT: {C, T, A},
    Action.IMPORT: {C, A},
}

# Where each role is held in the test district: its natural unit, covering 阳光小区/3号楼.
HOME = {
    G: "grid_a", B: "sunshine_3", C: "committee_a", P: "sunshine", OC: "sunshine",
    V: "sunshine", M: "sunshine", T: "town", R: "sunshine_3", A: "town",
}  # fmt: skip


@pytest.fixture
def matrix_members(
    database: Database, district: District, clock_now: datetime
) -> tuple[dict[Role, int], dict[str, int]]:
    """One fresh member per role, plus a second town whose building nobody above may touch."""
    with database.session() as session:
        members = {}
        for i, role in enumerate(Role):
            member = ensure_member(
                session, user_id=700_000 + i, name=None, language="zh", now=clock_now
            )
            grant_role(
                session,
                member_id=member.id or 0,
                role=role,
                unit_id=district.units[HOME[role]],
                granted_by=None,
                now=clock_now,
            )
            members[role] = member.id or 0
        targets = {
            "in": district.units["sunshine_3"],
            "out": _other_town_building(session, clock_now),
        }
        session.commit()
    return members, targets


def _other_town_building(session: Session, now: datetime) -> int:
    town = create_unit(session, kind=UnitKind.TOWN, name="张江镇", parent_id=None, now=now)
    committee = create_unit(
        session, kind=UnitKind.COMMITTEE, name="某居委", parent_id=town.id, now=now
    )
    compound = create_unit(
        session,
        kind=UnitKind.COMPOUND,
        name="某小区",
        parent_id=committee.id,
        now=now,
        housing_type=HousingType.COMMERCIAL,
    )
    building = create_unit(
        session, kind=UnitKind.BUILDING, name="1号楼", parent_id=compound.id, now=now
    )
    return building.id or 0


@pytest.fixture
def clock_now(clock: MovableClock) -> datetime:
    return clock.now()


@pytest.mark.parametrize("action", list(Action))
def test_matrix(
    action: Action, database: Database, matrix_members: tuple[dict[Role, int], dict[str, int]]
) -> None:
    members, targets = matrix_members
    observed_in, observed_out = set(), set()
    with database.session() as session:
        for role, member_id in members.items():
            if is_allowed(session, member_id=member_id, action=action, unit_id=targets["in"]):
                observed_in.add(role)
            if is_allowed(session, member_id=member_id, action=action, unit_id=targets["out"]):
                observed_out.add(role)
    assert observed_in == EXPECTED[action]
    assert observed_out == set()  # nobody acts outside their scope


def test_every_action_is_in_the_expected_table() -> None:
    assert set(EXPECTED) == set(Action)


def test_strangers_may_do_nothing(database: Database, district: District) -> None:
    with database.session() as session:
        for action in Action:
            assert not is_allowed(
                session, member_id=None, action=action, unit_id=district.units["sunshine"]
            )


def test_a_revoked_role_is_refused_at_once(
    database: Database, matrix_members: tuple[dict[Role, int], dict[str, int]], clock_now: datetime
) -> None:
    members, targets = matrix_members
    with database.session() as session:
        grant = active_grants(session, members[C])[0]
        revoke_role(session, grant_id=grant.id or 0, revoked_by=None, now=clock_now)
        assert not is_allowed(
            session, member_id=members[C], action=Action.DISPATCH, unit_id=targets["in"]
        )


def test_grid_workers_reach_only_their_grids_compounds(
    database: Database, district: District
) -> None:
    member_id = district.members[GRID_A]
    with database.session() as session:
        assert is_allowed(
            session,
            member_id=member_id,
            action=Action.REPORT,
            unit_id=district.units["sunshine_3"],
        )
        assert not is_allowed(
            session, member_id=member_id, action=Action.REPORT, unit_id=district.units["plum_12"]
        )
