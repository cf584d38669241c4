"""Activities logged by message (DESIGN §3.2): record, correct, confirm, discard, list.

A message is recorded as soon as it arrives, as ``unconfirmed``, with whatever the parser could
not read kept in ``unparsed``: nothing a worker sends is lost. Only confirmed activities count
in the index. ``(source_chat_id, source_message_id)`` is unique, so a replayed update finds the
row it made the first time and an edited message updates that row.

Storage does not import the parser (dependencies point from handlers to storage): the handlers
hand over an :class:`ActivityReading` with plain values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from storage.audit import audit_row, record_audit
from storage.bindings import bound_unit
from storage.db import Database, first, insert_row, new_row
from storage.errors import DomainError
from storage.org import compound_of, descendant_ids, grid_compound_ids
from storage.org_tree import OrgTree, UnitNode, org_tree
from storage.permissions import ACTION_ROLES, Action, active_roles, is_allowed
from storage.roster import member_by_user
from storage.tables import Activity, ActivityPerson, Member, UnitKind

ACTIVITY_TYPES = (
    "volunteer",
    "meeting",
    "visit",
    "patrol",
    "drill",
    "training",
    "party",
    "service",
)
MEETING_TYPES = (
    "review",
    "hearing",
    "coordination",
    "deliberation",
    "building",
    "owners_committee",
    "party",
    "other",
)
DECISIONS = ("passed", "rejected", "pending")
# The fields a person may correct with the 修改 button, in the order the buttons show them.
EDITABLE_FIELDS = (
    "activity_type",
    "participants",
    "hours",
    "households",
    "date",
    "meeting_type",
    "building",
    "topic",
    "decision",
)
MAX_COUNT = 10_000
MAX_HOURS = 24.0
MAX_TOPIC_CHARS = 200
# How far back an activity may be dated (a ledger of this year and last, not of history).
MAX_AGE = timedelta(days=400)

UNCONFIRMED, CONFIRMED, DISCARDED = "unconfirmed", "confirmed", "discarded"


@dataclass(frozen=True)
class ActivityReading:
    """What was read from one message, as plain values (see ``handlers.parsing``)."""

    activity_type: str | None = None
    meeting_type: str | None = None
    participants: int | None = None
    party_members: int | None = None
    hours: float | None = None
    person_hours: float | None = None
    households: int | None = None
    occurred_on: date | None = None
    building: str | None = None
    topic: str | None = None
    decision: str | None = None
    unparsed: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recorded:
    """The stored activity and what the reply should say about it.

    ``created`` is False when the message had been seen before (a replay or an edit);
    ``problems`` are the parser's plus what storage found (``unknown_building``,
    ``ambiguous_building``); ``unknown_people`` counts named people who are not members.
    """

    activity: Activity
    created: bool
    problems: tuple[str, ...] = ()
    unknown_people: int = 0
    people: tuple[Member, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Placement:
    compound_id: int | None
    building_id: int | None
    problems: tuple[str, ...] = ()
    extra_unparsed: tuple[str, ...] = ()


# -- recording -------------------------------------------------------------------------------


def record_activity(
    session: Session,
    *,
    chat_id: int,
    message_id: int,
    user_id: int,
    text: str,
    reading: ActivityReading,
    named_user_ids: Sequence[int] = (),
    edited: bool = False,
    now: datetime,
    today: date,
) -> Recorded:
    """Store the activity a message describes, as unconfirmed; commit it.

    The same ``(chat_id, message_id)`` seen again returns the stored row unchanged, unless
    ``edited``: then the row takes the new reading (a confirmed row stays confirmed only if the
    new reading has no problems; a discarded one comes back as unconfirmed).
    Refuses people who may not log (``activity.not_member``, ``activity.not_allowed``).
    """
    existing = _by_source(session, chat_id=chat_id, message_id=message_id)
    if existing is not None and not edited:
        return Recorded(existing, created=False, people=tuple(_people(session, existing)))
    found = first(session, _MEMBER_ID, {"user": user_id})
    if found is None:
        raise DomainError("activity.not_member")
    member_id: int = found[0]
    binding = bound_unit(session, chat_id=chat_id)
    placement = _place(
        session,
        member_id=member_id,
        bound_unit_id=binding.unit_id if binding is not None else None,
        building_ref=reading.building,
    )
    problems = tuple(dict.fromkeys([*reading.problems, *placement.problems]))
    values = {
        **_reading_values(reading, today=today),
        "compound_id": placement.compound_id,
        "building_id": placement.building_id,
        "unparsed": json.dumps([*reading.unparsed, *placement.extra_unparsed], ensure_ascii=False),
        "raw_text": text,
        "updated_at": now,
    }
    if existing is None:
        activity = new_row(
            Activity,
            source_chat_id=chat_id,
            source_message_id=message_id,
            member_id=member_id,
            created_at=now,
            **values,
        )
    else:
        activity = existing
        for name, value in values.items():
            setattr(activity, name, value)
    if existing is not None and (
        existing.status == DISCARDED or (existing.status == CONFIRMED and problems)
    ):
        existing.status = UNCONFIRMED
    detail = {"chat": chat_id, "message": message_id, "problems": list(problems)}
    if existing is None:
        # A new message: a plain INSERT (insert_row), several times cheaper than the ORM's
        # flush; the row is the one a flush would write. An edit updates the loaded row.
        insert_row(session, activity)
    else:
        session.add(activity)
        session.flush()
    people, unknown = _name_people(session, activity, named_user_ids, fresh=existing is None)
    insert_row(
        session,
        audit_row(
            at=now,
            actor_member_id=member_id,
            action="activity.log" if existing is None else "activity.reparse",
            entity="activity",
            entity_id=activity.id,
            detail=detail,
        ),
    )
    session.commit()
    return Recorded(
        activity,
        created=existing is None,
        problems=problems,
        unknown_people=unknown,
        people=tuple(people),
    )


def set_reply_message(database: Database, *, activity_id: int, reply_message_id: int) -> None:
    """Remember the bot's reply to the activity's message: with the next write transaction
    (``Database.later``), not one of its own."""
    database.later(_SET_REPLY, {"reply": reply_message_id, "id": activity_id})


# The statements every logged message runs, as plain SQL on the driver (storage.db.first).
_MEMBER_ID = "SELECT id FROM member WHERE telegram_user_id = :user"
_ID_BY_SOURCE = (
    "SELECT id FROM activity WHERE source_chat_id = :chat AND source_message_id = :message"
)
_SET_REPLY = "UPDATE activity SET reply_message_id = :reply WHERE id = :id"


def _by_source(session: Session, *, chat_id: int, message_id: int) -> Activity | None:
    found = first(session, _ID_BY_SOURCE, {"chat": chat_id, "message": message_id})
    return session.get(Activity, found[0]) if found is not None else None


def _reading_values(reading: ActivityReading, *, today: date) -> dict[str, Any]:
    """The columns the parser's reading fills."""
    return {
        "activity_type": reading.activity_type,
        "meeting_type": reading.meeting_type,
        "participants": reading.participants,
        "party_members": reading.party_members,
        "hours": reading.hours,
        "person_hours": reading.person_hours,
        "households": reading.households,
        "occurred_on": reading.occurred_on or today,
        "topic": reading.topic,
        "decision": reading.decision,
    }


def _name_people(
    session: Session, activity: Activity, user_ids: Iterable[int], *, fresh: bool
) -> tuple[list[Member], int]:
    """Replace the named people of the activity; return them and how many are not members.

    A ``fresh`` (just created) activity has nobody named yet: nothing to delete.
    """
    if not fresh:
        for person in session.exec(
            select(ActivityPerson).where(ActivityPerson.activity_id == activity.id)
        ):
            session.delete(person)
        session.flush()
    people: list[Member] = []
    unknown = 0
    for user_id in dict.fromkeys(user_ids):
        member = member_by_user(session, user_id)
        if member is None or member.id is None:
            unknown += 1
            continue
        session.add(ActivityPerson(activity_id=activity.id or 0, member_id=member.id))
        people.append(member)
    return people, unknown


def _people(session: Session, activity: Activity) -> list[Member]:
    return list(
        session.exec(
            select(Member)
            .join(ActivityPerson, col(ActivityPerson.member_id) == col(Member.id))
            .where(ActivityPerson.activity_id == activity.id)
        ).all()
    )


def named_people(session: Session, *, activity_id: int) -> list[Member]:
    """The members named in an activity."""
    activity = session.get(Activity, activity_id)
    return _people(session, activity) if activity is not None else []


# -- where an activity belongs ----------------------------------------------------------------


def _log_roots(session: Session, member_id: int) -> list[int]:
    """The units the member may log activities for (their grants' units; grids → compounds)."""
    roots: list[int] = []
    for role, unit_id in active_roles(session, member_id):
        if role not in ACTION_ROLES[Action.LOG]:
            continue
        unit = _node(session, unit_id)
        if unit.kind == UnitKind.GRID:
            roots.extend(sorted(grid_compound_ids(session, unit_id)))
        else:
            roots.append(unit_id)
    return list(dict.fromkeys(roots))


def _anchors(session: Session, *, member_id: int, bound_unit_id: int | None) -> list[int]:
    roots = _log_roots(session, member_id)
    if not roots:
        raise DomainError("activity.not_allowed")
    if bound_unit_id is None:
        return roots
    if any(bound_unit_id in descendant_ids(session, root) for root in roots):
        return [bound_unit_id]  # the member covers the chat's whole unit
    below = descendant_ids(session, bound_unit_id)
    inside = [root for root in roots if root in below]
    if not inside:
        raise DomainError("activity.not_allowed_here")
    return inside


def _node(session: Session, unit_id: int) -> UnitNode:
    """The unit from the in-memory org tree (``get_unit`` without a query)."""
    node = org_tree(session).nodes.get(unit_id)
    if node is None:
        raise DomainError("unit.unknown", ref=str(unit_id))
    return node


def _compounds_under(session: Session, unit: UnitNode) -> list[int]:
    if unit.kind == UnitKind.BUILDING:
        return [unit.parent_id] if unit.parent_id is not None else []
    if unit.kind == UnitKind.COMPOUND:
        return [unit.id]
    tree = org_tree(session)
    ids = descendant_ids(session, unit.id)
    return sorted(i for i in ids if tree.nodes[i].kind == UnitKind.COMPOUND)


def _place(
    session: Session, *, member_id: int, bound_unit_id: int | None, building_ref: str | None
) -> _Placement:
    """The compound and building of an activity: the sender's role unit, narrowed by the chat's
    binding, then by the building the message names (looked up within those compounds)."""
    anchor_ids = _anchors(session, member_id=member_id, bound_unit_id=bound_unit_id)
    anchors = [_node(session, a) for a in anchor_ids]
    compounds: list[int] = list(
        dict.fromkeys(c for unit in anchors for c in _compounds_under(session, unit))
    )
    own_building = (
        anchors[0].id if len(anchors) == 1 and anchors[0].kind == UnitKind.BUILDING else None
    )
    problems: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    building_id = own_building
    if building_ref:
        matches = _buildings_named(session, building_ref, compounds)
        if len(matches) == 1:
            building_id = matches[0].id
        else:
            problems = ("unknown_building",) if not matches else ("ambiguous_building",)
            extra = (building_ref,)
    if building_id is not None:
        compound = compound_of(session, building_id)
        return _Placement(compound.id if compound else None, building_id, problems, extra)
    compound_id = compounds[0] if len(compounds) == 1 else None
    return _Placement(compound_id, None, problems, extra)


_BUILDING_NAME = re.compile(r"^\s*([0-9]{1,4}|[A-Za-z])\s*(?:号\s*楼|号|栋|幢|座)?\s*$")


def building_key(name: str) -> str:
    """What makes two ways of writing a building the same: 3号楼, 3栋, 3幢 → ``3``."""
    match = _BUILDING_NAME.match(name)
    return match.group(1).upper() if match else name.strip()


def _buildings_named(session: Session, ref: str, compound_ids: Iterable[int]) -> list[UnitNode]:
    key = building_key(ref)
    tree = org_tree(session)
    buildings = [
        tree.nodes[child]
        for compound in sorted(set(compound_ids))
        for child in tree.children.get(compound, ())
        if tree.nodes[child].kind == UnitKind.BUILDING
    ]
    return [b for b in buildings if building_key(b.name) == key]


# -- correcting, confirming, discarding ------------------------------------------------------


def get_activity(session: Session, *, activity_id: int, member_id: int | None) -> Activity:
    """The activity, if the member may change it (its author, or staff over its compound)."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise DomainError("activity.not_found")
    if member_id is None:
        raise DomainError("activity.not_yours")
    if activity.member_id == member_id:
        return activity
    unit_id = activity.building_id or activity.compound_id
    if unit_id is not None and is_allowed(
        session, member_id=member_id, action=Action.DISPATCH, unit_id=unit_id
    ):
        return activity
    raise DomainError("activity.not_yours")


def edit_activity(
    session: Session,
    *,
    activity_id: int,
    member_id: int | None,
    field: str,
    value: Any,
    now: datetime,
    today: date,
) -> Activity:
    """Set one field to a new value, checked; commit. ``value`` None means "could not read"."""
    activity = get_activity(session, activity_id=activity_id, member_id=member_id)
    if activity.status == DISCARDED:
        raise DomainError("activity.discarded")
    if field not in EDITABLE_FIELDS:
        raise DomainError("activity.unknown_field", field=field)
    before = _field_value(activity, field)
    _set_field(session, activity, field, value, today=today)
    activity.updated_at = now
    record_audit(
        session,
        at=now,
        actor_member_id=member_id,
        action="activity.edit",
        entity="activity",
        entity_id=activity.id,
        detail={"field": field, "from": before, "to": _field_value(activity, field)},
    )
    session.commit()
    return activity


def _field_value(activity: Activity, field: str) -> Any:
    if field == "date":
        return activity.occurred_on.isoformat()
    if field == "building":
        return activity.building_id
    return getattr(activity, field)


def _set_field(
    session: Session, activity: Activity, field: str, value: Any, *, today: date
) -> None:
    if field in ("participants", "households"):
        activity_count = _checked_count(value, field)
        setattr(activity, field, activity_count)
        if (
            field == "participants"
            and activity.party_members
            and activity.party_members > activity_count
        ):
            activity.party_members = None
    elif field == "hours":
        activity.hours = _checked_hours(value)
    elif field == "date":
        activity.occurred_on = checked_date(value, today=today)
    elif field == "activity_type":
        if value not in ACTIVITY_TYPES:
            raise DomainError("activity.bad_activity_type")
        activity.activity_type = value
    elif field == "meeting_type":
        if value not in MEETING_TYPES:
            raise DomainError("activity.bad_meeting_type")
        activity.meeting_type = value
    elif field == "decision":
        if value not in DECISIONS:
            raise DomainError("activity.bad_decision")
        activity.decision = value
    elif field == "topic":
        topic = " ".join(str(value or "").split())
        if not topic:
            raise DomainError("activity.bad_topic")
        activity.topic = topic[:MAX_TOPIC_CHARS]
    elif field == "building":
        _set_building(session, activity, str(value or "").strip())
    if field in ("participants", "hours"):
        activity.person_hours = (
            round(activity.participants * activity.hours, 2)
            if activity.participants is not None and activity.hours is not None
            else None
        )


def _checked_count(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_COUNT:
        raise DomainError(f"activity.bad_{field}", value=value if value is not None else "?")
    return value


def _checked_hours(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise DomainError("activity.bad_hours", value="?")
    if not 0 < value <= MAX_HOURS:
        raise DomainError("activity.bad_hours", value=f"{value:g}")
    return float(value)


def checked_date(value: Any, *, today: date) -> date:
    """A date an activity may carry: not in the future, not older than ``MAX_AGE``."""
    if not isinstance(value, date):
        raise DomainError("activity.bad_date")
    if value > today:
        raise DomainError("activity.future_date", date=value.isoformat())
    if value < today - MAX_AGE:
        raise DomainError("activity.too_old", date=value.isoformat())
    return value


def _set_building(session: Session, activity: Activity, ref: str) -> None:
    if not ref:
        raise DomainError("activity.unknown_building", building="?")
    if activity.member_id is None:
        raise DomainError("activity.unknown_building", building=ref)
    try:
        anchors = [_node(session, a) for a in _log_roots(session, activity.member_id)]
    except DomainError:
        anchors = []
    compounds = {c for unit in anchors for c in _compounds_under(session, unit)}
    if activity.compound_id is not None:
        compounds.add(activity.compound_id)
    matches = _buildings_named(session, ref, compounds)
    if activity.compound_id is not None:
        # Prefer the activity's own compound when the name exists in several.
        same = [b for b in matches if b.parent_id == activity.compound_id]
        matches = same or matches
    if len(matches) != 1:
        raise DomainError("activity.unknown_building", building=ref)
    activity.building_id = matches[0].id
    activity.compound_id = matches[0].parent_id


def confirm_activity(
    session: Session, *, activity_id: int, member_id: int | None, now: datetime, today: date
) -> Activity:
    """Confirm the activity so it counts; refuse while it has no type or a date ahead."""
    activity = get_activity(session, activity_id=activity_id, member_id=member_id)
    if activity.status == DISCARDED:
        raise DomainError("activity.discarded")
    if activity.status == CONFIRMED:
        return activity
    if activity.activity_type is None:
        raise DomainError("activity.no_type")
    checked_date(activity.occurred_on, today=today)
    activity.status = CONFIRMED
    activity.updated_at = now
    record_audit(
        session,
        at=now,
        actor_member_id=member_id,
        action="activity.confirm",
        entity="activity",
        entity_id=activity.id,
    )
    session.commit()
    return activity


def discard_activity(
    session: Session, *, activity_id: int, member_id: int | None, now: datetime
) -> Activity:
    """Mark the activity discarded (kept for the record, never counted); commit."""
    activity = get_activity(session, activity_id=activity_id, member_id=member_id)
    if activity.status != DISCARDED:
        activity.status = DISCARDED
        activity.updated_at = now
        record_audit(
            session,
            at=now,
            actor_member_id=member_id,
            action="activity.discard",
            entity="activity",
            entity_id=activity.id,
        )
        session.commit()
    return activity


def unconfirmed_activities(session: Session, *, user_id: int, limit: int = 20) -> list[Activity]:
    """The member's activities still waiting for confirmation, newest first."""
    member = member_by_user(session, user_id)
    if member is None:
        return []
    return list(
        session.exec(
            select(Activity)
            .where(Activity.member_id == member.id, Activity.status == UNCONFIRMED)
            .order_by(col(Activity.created_at).desc(), col(Activity.id).desc())
            .limit(limit)
        ).all()
    )


def unparsed_parts(activity: Activity) -> list[str]:
    """The parts of the message that were not understood."""
    try:
        parts = json.loads(activity.unparsed or "[]")
    except ValueError:
        return []
    return [str(p) for p in parts] if isinstance(parts, list) else []


def unit_names(tree: OrgTree, *, activity: Activity) -> tuple[str | None, str | None]:
    """``(compound name, building name)`` of an activity, for its reply (``org_tree(session)``
    read in the transaction that placed it, or later: units are never removed)."""
    nodes = tree.nodes
    compound = nodes.get(activity.compound_id) if activity.compound_id else None
    building = nodes.get(activity.building_id) if activity.building_id else None
    return (compound.name if compound else None, building.name if building else None)
