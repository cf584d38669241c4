"""Reading issues: what a card, a list or a history shows, and where an issue is announced."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Protocol

from sqlmodel import Session, col, or_, select

from storage.bindings import active_binding
from storage.db import MAX_SQL_INTEGER, rows
from storage.errors import DomainError
from storage.issue_states import (
    FINISHED_STATES,
    PARTY_ROLES,
    Actor,
    State,
    is_reporter,
    issue_unit,
)
from storage.org import ancestors, get_unit
from storage.org_tree import org_tree
from storage.permissions import Action, covering_units, is_allowed, managed_units
from storage.tables import (
    Audience,
    Issue,
    IssueAttachment,
    IssueEvent,
    IssueReporter,
    Member,
    RoleGrant,
)


@dataclass(frozen=True)
class IssueView:
    """Everything a chat message about one issue may show (text still unmasked)."""

    number: int
    state: str
    category_id: str
    tier: str
    party: str | None
    compound_id: int
    building_id: int | None
    place: str  # 阳光小区/3号楼
    text: str
    reporters_count: int
    reported_at: datetime
    respond_due_at: datetime
    resolve_due_at: datetime
    due_at: datetime | None  # the deadline that applies in the current state
    escalated: bool
    duplicate_of: int | None
    rejected_to: str | None
    rating: int | None
    close_reason: str | None
    reopen_count: int
    photos: int
    source_chat_id: int
    card_chat_id: int | None
    card_message_id: int | None
    reporter_user_ids: tuple[int, ...]

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and now > self.due_at


# The states whose deadline is resolve-by; REPORTED's is respond-by.
RESOLVING_STATES = (State.ACCEPTED, State.DISPATCHED, State.IN_PROGRESS, State.REOPENED)


class Deadlines(Protocol):
    """What deciding a deadline needs of an issue (an ``Issue`` or a row of those columns)."""

    @property
    def state(self) -> str: ...
    @property
    def tier(self) -> str: ...
    @property
    def respond_due_at(self) -> datetime | None: ...
    @property
    def resolve_due_at(self) -> datetime | None: ...
    @property
    def reminded_at(self) -> datetime | None: ...
    @property
    def overdue_alerted_at(self) -> datetime | None: ...
    @property
    def escalated_at(self) -> datetime | None: ...


def current_due(issue: Deadlines) -> datetime | None:
    """Respond-by while nobody has taken it up; resolve-by while it is being handled."""
    if issue.state == State.REPORTED:
        return issue.respond_due_at
    if issue.state in RESOLVING_STATES:
        return issue.resolve_due_at
    return None


def load_issue(session: Session, issue_id: int) -> Issue:
    # A typed number past SQLite's integers names no row (and could not be bound).
    issue = session.get(Issue, issue_id) if 0 < issue_id <= MAX_SQL_INTEGER else None
    if issue is None:
        raise DomainError("issue.unknown", number=issue_id)
    return issue


def _unit_name(session: Session, unit_id: int) -> str:
    node = org_tree(session).nodes.get(unit_id)
    return node.name if node is not None else get_unit(session, unit_id).name


def view_of(
    session: Session,
    issue: Issue,
    *,
    reporters: Sequence[int | None] | None = None,
    photos: int | None = None,
) -> IssueView:
    """What to show of ``issue``; ``reporters`` and ``photos`` may be given when the caller
    has just written them (a new report), saving the queries."""
    issue_id = issue.id or 0
    compound = _unit_name(session, issue.compound_id)
    place = compound
    if issue.building_id is not None:
        place = f"{compound}/{_unit_name(session, issue.building_id)}"
    if reporters is None:
        reporters = session.exec(
            select(IssueReporter.user_id).where(IssueReporter.issue_id == issue_id)
        ).all()
    if photos is None:
        photos = len(
            session.exec(
                select(IssueAttachment.id).where(
                    IssueAttachment.issue_id == issue_id,
                    col(IssueAttachment.kind).startswith("photo"),
                )
            ).all()
        )
    return IssueView(
        number=issue_id,
        state=issue.state,
        category_id=issue.category_id,
        tier=issue.tier,
        party=issue.party,
        compound_id=issue.compound_id,
        building_id=issue.building_id,
        place=place,
        text=issue.text,
        reporters_count=issue.reporters_count,
        reported_at=issue.reported_at,
        respond_due_at=issue.respond_due_at,
        resolve_due_at=issue.resolve_due_at,
        due_at=current_due(issue),
        escalated=issue.escalated_at is not None,
        duplicate_of=issue.duplicate_of_id,
        rejected_to=issue.rejected_to,
        rating=issue.rating,
        close_reason=issue.close_reason,
        reopen_count=issue.reopen_count,
        photos=photos,
        source_chat_id=issue.source_chat_id,
        card_chat_id=issue.card_chat_id,
        card_message_id=issue.card_message_id,
        reporter_user_ids=tuple(dict.fromkeys(u for u in reporters if u is not None)),
    )


def issue_view(session: Session, *, issue_id: int) -> IssueView:
    return view_of(session, load_issue(session, issue_id))


@dataclass(frozen=True)
class IssueChats:
    """Where an issue is announced: the nearest committee and town chats above it."""

    committee: int | None
    town: int | None


def issue_chats(session: Session, *, issue_id: int) -> IssueChats:
    issue = load_issue(session, issue_id)
    return chats_above(session, unit_id=issue_unit(issue))


# Every report asks: plain SQL (storage.db.rows), a small part of the ORM query's cost.
@cache
def _chats_on(units: int) -> str:
    """The bound committee and town chats on ``units`` units (a building's chain is 4 long)."""
    marks = ", ".join(f":u{i}" for i in range(units))
    return (
        f"SELECT unit_id, audience, chat_id FROM chat_binding WHERE unit_id IN ({marks})"
        f" AND audience IN ('{Audience.COMMITTEE.value}', '{Audience.TOWN.value}') AND active"
        " ORDER BY id"
    )


def chats_above(session: Session, *, unit_id: int) -> IssueChats:
    """The nearest committee and town chats bound on ``unit_id`` or above it, in one query."""
    chain = [unit.id for unit in ancestors(session, unit_id)]
    params = {f"u{i}": unit for i, unit in enumerate(chain)}
    bound = rows(session, _chats_on(len(chain)), params)
    by_unit = {(audience, unit): chat for unit, audience, chat in bound}

    def nearest(audience: Audience) -> int | None:
        return next((by_unit[audience, u] for u in chain if (audience, u) in by_unit), None)

    return IssueChats(committee=nearest(Audience.COMMITTEE), town=nearest(Audience.TOWN))


def party_user_ids(session: Session, *, issue_id: int) -> list[int]:
    """Telegram users holding the role the issue was dispatched to, over its unit."""
    issue = load_issue(session, issue_id)
    roles = PARTY_ROLES.get(issue.party or "", frozenset())
    if issue.assignee_member_id is not None:
        assignee = session.get(Member, issue.assignee_member_id)
        if assignee is not None and assignee.telegram_user_id is not None:
            return [assignee.telegram_user_id]
    if not roles:
        return []
    covering = covering_units(session, issue_unit(issue))
    rows = session.exec(
        select(Member.telegram_user_id)
        .join(RoleGrant, col(RoleGrant.member_id) == col(Member.id))
        .where(
            col(RoleGrant.role).in_([r.value for r in roles]),
            col(RoleGrant.unit_id).in_(covering),
            RoleGrant.revoked_at == None,  # noqa: E711
        )
    ).all()
    return sorted({u for u in rows if u is not None})


def may_view(session: Session, issue: Issue, actor: Actor) -> bool:
    return is_reporter(session, issue, actor) or is_allowed(
        session, member_id=actor.member_id, action=Action.VIEW_ISSUES, unit_id=issue_unit(issue)
    )


def open_issues(
    session: Session, *, member_id: int | None, now: datetime, limit: int = 30
) -> list[IssueView]:
    """Unfinished issues in the member's scope: overdue first, then by the nearest deadline."""
    scope = managed_units(session, member_id=member_id, action=Action.VIEW_ISSUES)
    if not scope:
        raise DomainError("permission.denied", action=Action.VIEW_ISSUES.value)
    issues = session.exec(
        select(Issue).where(
            col(Issue.state).not_in(FINISHED_STATES),
            or_(col(Issue.compound_id).in_(scope), col(Issue.building_id).in_(scope)),
        )
    ).all()
    # A building leader's scope is a building: compound-wide issues are not theirs.
    visible = [i for i in issues if issue_unit(i) in scope]
    views = [view_of(session, issue) for issue in visible]

    def order(view: IssueView) -> tuple[int, datetime, int]:
        due = view.due_at or view.reported_at
        return (0 if view.overdue(now) else 1, due, view.number)

    return sorted(views, key=order)[:limit]


@dataclass(frozen=True)
class EventLine:
    at: datetime
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None
    actor_name: str | None


def issue_history(
    session: Session, *, issue_id: int, actor: Actor
) -> tuple[IssueView, list[EventLine]]:
    """One issue and its whole event trail, for someone who may see it."""
    issue = load_issue(session, issue_id)
    if not may_view(session, issue, actor):
        raise DomainError("permission.denied", action=Action.VIEW_ISSUES.value)
    events = session.exec(
        select(IssueEvent).where(IssueEvent.issue_id == issue_id).order_by(col(IssueEvent.id))
    ).all()
    names: dict[int, str | None] = {}
    for event in events:
        if event.actor_member_id is not None and event.actor_member_id not in names:
            member = session.get(Member, event.actor_member_id)
            names[event.actor_member_id] = member.name if member else None
    lines = [
        EventLine(
            at=e.at,
            action=e.action,
            from_state=e.from_state,
            to_state=e.to_state,
            note=e.note,
            actor_name=names.get(e.actor_member_id) if e.actor_member_id else None,
        )
        for e in events
    ]
    return view_of(session, issue), lines


def chat_audience(session: Session, *, chat_id: int) -> str | None:
    """The audience of a bound chat, None when it is not bound."""
    binding = active_binding(session, chat_id=chat_id)
    return binding.audience if binding is not None else None
