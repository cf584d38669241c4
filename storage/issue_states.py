"""The issue state machine, in one place: which transition goes from where to where, and who
may make it.

States follow DESIGN §3.1: 上报 → 受理 → 派单 → 处置 → 反馈 → 结案, with the side exits 不属实/
不归我们管 (rejected) and 重复 (duplicate), and 重新处理 (reopened) when the reporter says it is
not fixed. :func:`apply_transition` is the only code that changes ``Issue.state``; it checks the
rule, writes the :class:`IssueEvent` row and leaves the commit to its caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, select

from storage.errors import DomainError
from storage.permissions import Action, is_allowed, roles_at
from storage.tables import Issue, IssueEvent, IssueReporter, Role


class State(StrEnum):
    REPORTED = "reported"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"


class Who(StrEnum):
    """Who may make a transition."""

    DISPATCHER = "dispatcher"  # committee / town / admin over the issue's unit (Action.DISPATCH)
    HANDLER = "handler"  # staff, or a holder of the role the issue was dispatched to
    REPORTER = "reporter"  # someone who reported it (or joined as a duplicate)
    REPORTER_OR_DISPATCHER = "reporter_or_dispatcher"
    SYSTEM = "system"  # the deadline scan


@dataclass(frozen=True)
class Rule:
    sources: frozenset[State]
    target: State | None  # None: the state does not change (吹哨, a category change)
    who: Who


_NEW = {State.REPORTED, State.REOPENED}
_OPEN = {State.REPORTED, State.ACCEPTED, State.DISPATCHED, State.IN_PROGRESS, State.REOPENED}

TRANSITIONS: dict[str, Rule] = {
    "accept": Rule(frozenset(_NEW), State.ACCEPTED, Who.DISPATCHER),
    "dispatch": Rule(frozenset(_OPEN), State.DISPATCHED, Who.DISPATCHER),
    "escalate": Rule(frozenset(_OPEN), None, Who.DISPATCHER),
    "reject": Rule(
        frozenset(_NEW | {State.ACCEPTED, State.DISPATCHED}), State.REJECTED, Who.DISPATCHER
    ),
    "duplicate": Rule(
        frozenset(_NEW | {State.ACCEPTED}), State.DUPLICATE, Who.REPORTER_OR_DISPATCHER
    ),
    "recategorise": Rule(frozenset(_NEW | {State.ACCEPTED}), None, Who.REPORTER_OR_DISPATCHER),
    "start": Rule(
        frozenset({State.ACCEPTED, State.DISPATCHED, State.REOPENED}),
        State.IN_PROGRESS,
        Who.HANDLER,
    ),
    "resolve": Rule(frozenset(_OPEN - {State.REPORTED}), State.RESOLVED, Who.HANDLER),
    "confirm": Rule(frozenset({State.RESOLVED}), State.CLOSED, Who.REPORTER),
    "reopen": Rule(frozenset({State.RESOLVED}), State.REOPENED, Who.REPORTER),
    "auto_close": Rule(frozenset({State.RESOLVED}), State.CLOSED, Who.SYSTEM),
}

OPEN_STATES: frozenset[str] = frozenset(s.value for s in _OPEN)
FINISHED_STATES: frozenset[str] = frozenset({State.CLOSED, State.REJECTED, State.DUPLICATE})

# Which roles may handle an issue dispatched to each party (staff always may).
PARTY_ROLES: dict[str, frozenset[Role]] = {
    "property": frozenset({Role.PROPERTY}),
    "owners_committee": frozenset({Role.OWNERS_COMMITTEE}),
    "committee": frozenset({Role.GRID_WORKER}),
    "urban_management": frozenset(),
    "police": frozenset(),
    "town": frozenset(),
}
_STAFF = frozenset({Role.COMMITTEE, Role.TOWN, Role.ADMIN})


@dataclass(frozen=True)
class Actor:
    """Who does something: a roster member, a Telegram user (a resident may be only that), or
    neither (the system)."""

    member_id: int | None = None
    user_id: int | None = None

    @property
    def is_system(self) -> bool:
        return self.member_id is None and self.user_id is None


SYSTEM = Actor()


def issue_unit(issue: Issue) -> int:
    """The most specific unit an issue is about (its building, else its compound)."""
    return issue.building_id or issue.compound_id


def is_reporter(session: Session, issue: Issue, actor: Actor) -> bool:
    if actor.user_id is None:
        return False
    if issue.reporter_user_id == actor.user_id:
        return True
    joined = session.exec(
        select(IssueReporter).where(
            IssueReporter.issue_id == issue.id, IssueReporter.user_id == actor.user_id
        )
    ).first()
    return joined is not None


def may_dispatch(session: Session, issue: Issue, actor: Actor) -> bool:
    return is_allowed(
        session, member_id=actor.member_id, action=Action.DISPATCH, unit_id=issue_unit(issue)
    )


def may_handle(session: Session, issue: Issue, actor: Actor) -> bool:
    """Staff over the unit, the assignee, or a holder of the role the issue was sent to."""
    if actor.member_id is None:
        return False
    unit = issue_unit(issue)
    if not is_allowed(session, member_id=actor.member_id, action=Action.HANDLE, unit_id=unit):
        return False
    if actor.member_id == issue.assignee_member_id:
        return True
    held = roles_at(session, actor.member_id, unit)
    return bool(held & (_STAFF | PARTY_ROLES.get(issue.party or "", frozenset())))


def check_allowed(session: Session, issue: Issue, action: str, actor: Actor) -> Rule:
    """The rule for ``action`` if ``actor`` may take it on ``issue`` now; else DomainError."""
    rule = TRANSITIONS[action]
    if not _actor_fits(session, issue, rule.who, actor):
        raise DomainError("permission.denied", action=action)
    if State(issue.state) not in rule.sources:
        raise DomainError(
            "issue.bad_transition", number=issue.id, state=issue.state, action=action
        )
    return rule


def _actor_fits(session: Session, issue: Issue, who: Who, actor: Actor) -> bool:
    if who is Who.SYSTEM:
        return actor.is_system
    if who is Who.DISPATCHER:
        return may_dispatch(session, issue, actor)
    if who is Who.HANDLER:
        return may_handle(session, issue, actor)
    if who is Who.REPORTER:
        return is_reporter(session, issue, actor)
    return is_reporter(session, issue, actor) or may_dispatch(session, issue, actor)


def apply_transition(
    session: Session,
    issue: Issue,
    action: str,
    *,
    actor: Actor,
    now: datetime,
    note: str | None = None,
) -> IssueEvent:
    """Check and apply ``action``: the state changes and an event row is added (not committed).

    The caller sets the fields that go with the action (party, rejected_to, …) after this
    returns, inside the same transaction.
    """
    rule = check_allowed(session, issue, action, actor)
    before = issue.state
    if rule.target is not None:
        issue.state = rule.target.value
    event = IssueEvent(
        issue_id=issue.id or 0,
        at=now,
        actor_member_id=actor.member_id,
        action=action,
        from_state=before,
        to_state=issue.state,
        note=note,
    )
    session.add(issue)
    session.add(event)
    return event


def record_event(
    session: Session, issue: Issue, action: str, *, actor: Actor, now: datetime, note: str | None
) -> None:
    """An event that does not change the state (a reminder, an alert, a joined reporter)."""
    session.add(
        IssueEvent(
            issue_id=issue.id or 0,
            at=now,
            actor_member_id=actor.member_id,
            action=action,
            from_state=issue.state,
            to_state=issue.state,
            note=note,
        )
    )
