"""Who may do what, where: one rule, "this role, in this unit or above it".

Every command and button asks :func:`is_allowed` (or :func:`require`) with an :class:`Action`
and the unit it touches. A role held on a unit covers every unit below it; a role held on a grid
(网格) covers the grid's compounds and their buildings; ``admin`` on any unit covers its subtree.
"""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session, select

from storage.db import rows
from storage.errors import DomainError
from storage.org import (
    ancestors,
    descendant_ids,
    find_units,
    grid_compound_ids,
    grids_of_compound,
    resolve_unit,
    unit_path,
)
from storage.org_tree import UnitNode
from storage.tables import Role, RoleGrant, UnitKind


class Action(StrEnum):
    INVITE = "invite"
    BIND = "bind"
    REPORT = "report"
    LOG = "log"
    CHECKIN = "checkin"
    DISPATCH = "dispatch"  # accept, dispatch, escalate, mark duplicate, reject
    HANDLE = "handle"  # move a dispatched issue to in progress / resolved
    VIEW_ISSUES = "view_issues"
    VIEW_INDEX = "view_index"
    DIGEST_PREVIEW = "digest_preview"
    EXPORT = "export"
    IMPORT = "import"


_STAFF = {Role.COMMITTEE, Role.TOWN, Role.ADMIN}
_REPORTERS = {Role.GRID_WORKER, Role.BUILDING_LEADER, Role.RESIDENT} | _STAFF
_WORKERS = {Role.GRID_WORKER, Role.BUILDING_LEADER, Role.VOLUNTEER, Role.PARTY_MEMBER} | _STAFF
_HANDLERS = {Role.PROPERTY, Role.OWNERS_COMMITTEE, Role.GRID_WORKER} | _STAFF
_EVERYONE = set(Role)

ACTION_ROLES: dict[Action, frozenset[Role]] = {
    Action.INVITE: frozenset(_STAFF),
    Action.BIND: frozenset(_STAFF),
    Action.REPORT: frozenset(_REPORTERS | {Role.OWNERS_COMMITTEE, Role.PROPERTY}),
    Action.LOG: frozenset(_WORKERS | {Role.OWNERS_COMMITTEE}),
    Action.CHECKIN: frozenset({Role.BUILDING_LEADER} | _STAFF),
    Action.DISPATCH: frozenset(_STAFF),
    Action.HANDLE: frozenset(_HANDLERS),
    Action.VIEW_ISSUES: frozenset(_HANDLERS | {Role.BUILDING_LEADER}),
    Action.VIEW_INDEX: frozenset(_EVERYONE),
    Action.DIGEST_PREVIEW: frozenset(_STAFF),
    Action.EXPORT: frozenset(_STAFF),
    Action.IMPORT: frozenset({Role.COMMITTEE, Role.ADMIN}),
}

# Which roles a holder of each staff role may hand out by invite.
INVITABLE: dict[Role, frozenset[Role]] = {
    Role.COMMITTEE: frozenset(set(Role) - {Role.TOWN, Role.ADMIN}),
    Role.TOWN: frozenset(set(Role) - {Role.ADMIN}),
    Role.ADMIN: frozenset(Role),
}


def active_grants(session: Session, member_id: int) -> list[RoleGrant]:
    return list(
        session.exec(
            select(RoleGrant).where(
                RoleGrant.member_id == member_id,
                RoleGrant.revoked_at == None,  # noqa: E711  (SQL IS NULL)
            )
        ).all()
    )


_ACTIVE_ROLES = (
    "SELECT role, unit_id FROM role_grant WHERE member_id = :member AND revoked_at IS NULL"
)


def active_roles(session: Session, member_id: int) -> list[tuple[Role, int]]:
    """``(role, unit id)`` of the member's active grants, in the order ``active_grants`` gives
    them, without building the row objects (every logged message asks)."""
    grants = rows(session, _ACTIVE_ROLES, {"member": member_id})
    return [(Role(role), unit_id) for role, unit_id in grants]


def covering_units(session: Session, unit_id: int) -> set[int]:
    """Every unit whose role holders may act on ``unit_id``: itself, its ancestors, its grids."""
    chain = ancestors(session, unit_id)
    covering = {u.id for u in chain if u.id is not None}
    for unit in chain:
        if unit.kind == UnitKind.COMPOUND and unit.id is not None:
            covering |= grids_of_compound(session, unit.id)
    return covering


def roles_at(session: Session, member_id: int | None, unit_id: int) -> set[Role]:
    """The roles a member holds that reach ``unit_id``."""
    if member_id is None:
        return set()
    covering = covering_units(session, unit_id)
    return {Role(g.role) for g in active_grants(session, member_id) if g.unit_id in covering}


def is_allowed(session: Session, *, member_id: int | None, action: Action, unit_id: int) -> bool:
    return bool(roles_at(session, member_id, unit_id) & ACTION_ROLES[action])


def require(session: Session, *, member_id: int | None, action: Action, unit_id: int) -> None:
    """Raise ``DomainError('permission.denied')`` unless the member may do ``action`` there."""
    if not is_allowed(session, member_id=member_id, action=action, unit_id=unit_id):
        raise DomainError("permission.denied", action=action.value)


def may_invite(session: Session, *, member_id: int | None, role: Role, unit_id: int) -> bool:
    held = roles_at(session, member_id, unit_id)
    return any(role in INVITABLE.get(h, frozenset()) for h in held)


def allowed_actions(session: Session, *, member_id: int | None) -> set[Action]:
    """Every action the member may take somewhere: what ``/help`` shows them."""
    if member_id is None:
        return set()
    held = {Role(g.role) for g in active_grants(session, member_id)}
    return {action for action, roles in ACTION_ROLES.items() if held & roles}


def managed_units(session: Session, *, member_id: int | None, action: Action) -> set[int]:
    """Every unit where the member may take ``action`` (their grants' subtrees)."""
    if member_id is None:
        return set()
    units: set[int] = set()
    for grant in active_grants(session, member_id):
        if Role(grant.role) not in ACTION_ROLES[action]:
            continue
        units |= descendant_ids(session, grant.unit_id)
        for compound_id in grid_compound_ids(session, grant.unit_id):
            units |= descendant_ids(session, compound_id)
    return units


def resolve_managed_unit(
    session: Session, *, member_id: int | None, action: Action, ref: str
) -> UnitNode:
    """The unit called ``ref`` among those the member may ``action`` on.

    A unit that exists but lies outside the member's scope is refused as ``unit.not_managed``
    (not "unknown"), so the person knows to ask whoever manages it.
    """
    scope = managed_units(session, member_id=member_id, action=action)
    if not scope:
        raise DomainError("permission.denied", action=action.value)
    if not find_units(session, ref, within=scope) and find_units(session, ref):
        raise DomainError("unit.not_managed", unit=ref)
    return resolve_unit(session, ref, within=scope)


def managed_unit_paths(
    session: Session, *, member_id: int | None, action: Action
) -> list[tuple[int, str]]:
    """``(unit id, readable path)`` for every unit the member may ``action`` on, sorted."""
    units = managed_units(session, member_id=member_id, action=action)
    return sorted(((u, unit_path(session, u)) for u in units), key=lambda pair: pair[1])


def invitable_roles(session: Session, *, member_id: int | None) -> list[Role]:
    """The roles this member may hand out by invite, in the catalogue's order."""
    if member_id is None:
        return []
    allowed: set[Role] = set()
    for grant in active_grants(session, member_id):
        allowed |= INVITABLE.get(Role(grant.role), frozenset())
    return [role for role in Role if role in allowed]
