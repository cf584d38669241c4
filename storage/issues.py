"""Issues (报事): reporting, the closed loop's transitions, duplicates and attachments.

Each public function is one thing a person (or the deadline scan) does; it checks the rule
through :mod:`storage.issue_states`, writes the event row, commits, and returns an
:class:`~storage.issue_views.IssueView` for the handler to show. Refusals are DomainErrors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.bindings import bound_unit
from storage.categories import CategoryCatalog, load_catalog
from storage.db import Database, driver_value, first, insert_row, new_row, rows
from storage.errors import DomainError
from storage.issue_policy import DEFAULT_POLICY, IssuePolicy
from storage.issue_states import (
    FINISHED_STATES,
    PARTY_ROLES,
    Actor,
    State,
    apply_transition,
    check_allowed,
    record_event,
)
from storage.issue_views import IssueChats, IssueView, chats_above, load_issue, view_of
from storage.org import compound_of, descendant_ids, find_units, get_unit, unit_path
from storage.org_tree import org_tree
from storage.permissions import ACTION_ROLES, Action, active_grants, covering_units, managed_units
from storage.tables import (
    Audience,
    Issue,
    IssueAttachment,
    IssueEvent,
    IssueReporter,
    Role,
    UnitKind,
    UTCDateTime,
)

# Residents report only in a bound residents chat; everywhere else these roles may report.
_WORKER_REPORTERS = ACTION_ROLES[Action.REPORT] - {Role.RESIDENT}
DUPLICATE_OFFERS = 3


# -- Where a report is about -------------------------------------------------------------------


@dataclass(frozen=True)
class ReportPlace:
    compound_id: int
    building_id: int | None
    unknown_building: str | None = None  # named in the text, not found: kept at compound level
    residents_chat: bool = False


@dataclass(frozen=True)
class PlaceChoice:
    """The reporter covers several compounds and the text does not say which: ask."""

    candidates: tuple[tuple[int, str], ...]  # (compound id, readable path)


def report_place(
    session: Session,
    *,
    member_id: int | None,
    chat_id: int,
    building_ref: str | None,
    compound_id: int | None = None,
) -> ReportPlace | PlaceChoice:
    """Where a report made in ``chat_id`` is about, and whether its sender may make it there.

    In a bound residents chat anyone in the chat may report, about that chat's compound. Else
    the sender needs a reporting role (not resident) and the place comes from their roles'
    units, narrowed to the chat's unit if the chat is bound.
    """
    binding = bound_unit(session, chat_id=chat_id)
    if binding is not None and binding.audience == Audience.RESIDENTS:
        compound = compound_of(session, binding.unit_id)
        if compound is None:
            raise DomainError("issue.chat_not_compound")
        default = binding.unit_id if binding.unit_id != compound.id else None
        return _place_in(session, compound.id or 0, building_ref, default, residents_chat=True)
    if member_id is None:
        raise DomainError("issue.not_on_roster")
    places = _reporting_units(session, member_id)
    if binding is not None:
        places &= descendant_ids(session, binding.unit_id)
    tree = org_tree(session)
    units = [tree.nodes[u] for u in sorted(places) if u in tree.nodes]
    units = [u for u in units if u.kind in (UnitKind.COMPOUND, UnitKind.BUILDING)]
    if not units:
        raise DomainError("permission.denied", action=Action.REPORT.value)
    compounds: set[int] = set()
    for unit in units:
        compound = compound_of(session, unit.id or 0)
        if compound is not None and compound.id is not None:
            compounds.add(compound.id)
    if compound_id is not None:
        if compound_id not in compounds:
            raise DomainError("permission.denied", action=Action.REPORT.value)
        compounds = {compound_id}
    if building_ref:
        matches = _buildings_named(session, building_ref, compounds)
        if len(matches) == 1:
            return ReportPlace(compound_id=matches[0][0], building_id=matches[0][1])
        if len(matches) > 1:
            return _choice(session, {c for c, _ in matches})
    if len(compounds) > 1:
        return _choice(session, compounds)
    (only,) = compounds
    own_buildings = [u.id for u in units if u.kind == UnitKind.BUILDING]
    whole = any(u.id == only for u in units)
    default = own_buildings[0] if len(own_buildings) == 1 and not whole else None
    return _place_in(session, only, building_ref, default, residents_chat=False)


def _reporting_units(session: Session, member_id: int) -> set[int]:
    """Units where the member holds a reporting role other than resident (``roles_at`` for
    each unit, with the member's grants read once rather than once per unit)."""
    units = managed_units(session, member_id=member_id, action=Action.REPORT)
    grants = [(g.unit_id, Role(g.role)) for g in active_grants(session, member_id)]
    grants = [(unit, role) for unit, role in grants if role in _WORKER_REPORTERS]
    if not grants:
        return set()
    return {u for u in units if any(unit in covering_units(session, u) for unit, _ in grants)}


def _buildings_named(session: Session, ref: str, compounds: set[int]) -> list[tuple[int, int]]:
    within: set[int] = set()
    for compound in compounds:
        within |= descendant_ids(session, compound)
    found = []
    for unit in find_units(session, ref, within=within):
        if unit.kind == UnitKind.BUILDING and unit.parent_id is not None and unit.id is not None:
            found.append((unit.parent_id, unit.id))
    return found


def _place_in(
    session: Session,
    compound_id: int,
    building_ref: str | None,
    default_building: int | None,
    *,
    residents_chat: bool,
) -> ReportPlace:
    if building_ref:
        matches = _buildings_named(session, building_ref, {compound_id})
        if matches:
            return ReportPlace(compound_id, matches[0][1], residents_chat=residents_chat)
        return ReportPlace(
            compound_id,
            default_building,
            unknown_building=building_ref,
            residents_chat=residents_chat,
        )
    return ReportPlace(compound_id, default_building, residents_chat=residents_chat)


def _choice(session: Session, compounds: set[int]) -> PlaceChoice:
    paths = sorted((unit_path(session, c), c) for c in compounds)
    return PlaceChoice(tuple((c, path) for path, c in paths))


# -- Reporting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportOutcome:
    issue: IssueView
    created: bool  # False: this message had already been recorded (a replayed update)
    duplicates: tuple[int, ...] = ()  # earlier open issues like it, oldest first
    unknown_building: str | None = None
    residents_chat: bool = False
    chats: IssueChats | None = None  # where a new issue's card goes (None when not created)


# The statements every report runs, as plain SQL on the driver (storage.db.first / rows).
_ID_BY_SOURCE = (
    "SELECT id FROM issue WHERE source_chat_id = :chat AND source_message_id = :message"
)
_FINISHED = ", ".join(f"'{state}'" for state in sorted(FINISHED_STATES))
_SIMILAR = (
    "SELECT id, building_id FROM issue WHERE compound_id = :compound AND id != :id"
    " AND reported_at >= :since AND reported_at <= :until"
    f" AND state NOT IN ({_FINISHED}){{category}} ORDER BY reported_at, id"
)
_SIMILAR_ANY = _SIMILAR.format(category="")
_SIMILAR_SAME = _SIMILAR.format(category=" AND category_id = :category")
_UTC = UTCDateTime()
_SET_CARD = "UPDATE issue SET card_chat_id = :chat, card_message_id = :message WHERE id = :id"


def issue_by_source(session: Session, *, chat_id: int, message_id: int) -> Issue | None:
    found = first(session, _ID_BY_SOURCE, {"chat": chat_id, "message": message_id})
    return session.get(Issue, found[0]) if found is not None else None


def report_issue(
    session: Session,
    *,
    actor: Actor,
    chat_id: int,
    message_id: int,
    text: str,
    category_id: str,
    building_ref: str | None,
    now: datetime,
    compound_id: int | None = None,
    photo_file_id: str | None = None,
    location: tuple[float, float] | None = None,
    policy: IssuePolicy = DEFAULT_POLICY,
    catalog: CategoryCatalog | None = None,
) -> ReportOutcome | PlaceChoice:
    """Record a report made by message ``(chat_id, message_id)``, exactly once.

    The same message delivered again returns the issue it created (``created=False``). The
    row is committed before this returns, so the caller may tell the reporter its number.
    """
    existing = issue_by_source(session, chat_id=chat_id, message_id=message_id)
    if existing is not None:
        return ReportOutcome(view_of(session, existing), created=False)
    text = text.strip()
    if not text:
        raise DomainError("issue.empty")
    catalog = catalog or load_catalog()
    if category_id not in catalog:
        raise DomainError("issue.unknown_category", category=category_id)
    place = report_place(
        session,
        member_id=actor.member_id,
        chat_id=chat_id,
        building_ref=building_ref,
        compound_id=compound_id,
    )
    if isinstance(place, PlaceChoice):
        return place
    category = catalog.get(category_id)
    respond_due, resolve_due = policy.due_times(category.tier, now)
    issue = new_row(
        Issue,
        compound_id=place.compound_id,
        building_id=place.building_id,
        category_id=category.id,
        text=text,
        tier=category.tier,
        party=category.party,
        reporter_member_id=actor.member_id,
        reporter_user_id=actor.user_id,
        reporter_chat_id=actor.user_id,  # personal replies go to the private chat
        source_chat_id=chat_id,
        source_message_id=message_id,
        reported_at=now,
        respond_due_at=respond_due,
        resolve_due_at=resolve_due,
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
    )
    try:
        issue_id = insert_row(session, issue)  # plain INSERTs: the ORM flush cost 1 ms a report
    except IntegrityError:  # the same message, recorded a moment ago by another worker
        session.rollback()
        again = issue_by_source(session, chat_id=chat_id, message_id=message_id)
        if again is None:
            raise
        return ReportOutcome(view_of(session, again), created=False)
    insert_row(
        session,
        new_row(
            IssueReporter,
            issue_id=issue_id,
            member_id=actor.member_id,
            user_id=actor.user_id,
            joined_at=now,
        ),
    )
    insert_row(
        session,
        new_row(
            IssueEvent,
            issue_id=issue_id,
            at=now,
            actor_member_id=actor.member_id,
            action="report",
            from_state=None,
            to_state=State.REPORTED.value,
            note=f"building not found: {place.unknown_building}"
            if place.unknown_building
            else None,
        ),
    )
    if photo_file_id is not None:
        session.add(_attachment(issue_id, "photo_before", chat_id, message_id, now, photo_file_id))
    elif location is not None:
        session.add(_attachment(issue_id, "location", chat_id, message_id, now, None, location))
    # Everything the handler needs to answer and post the card, read in the same transaction
    # (these reads see nothing the commit would change).
    outcome = ReportOutcome(
        view_of(session, issue, reporters=(actor.user_id,), photos=int(photo_file_id is not None)),
        created=True,
        duplicates=tuple(similar_issues(session, issue=issue, policy=policy)),
        unknown_building=place.unknown_building,
        residents_chat=place.residents_chat,
        chats=chats_above(session, unit_id=place.building_id or place.compound_id),
    )
    session.commit()
    return outcome


def similar_issues(
    session: Session,
    *,
    issue: Issue,
    policy: IssuePolicy = DEFAULT_POLICY,
    any_category: bool = False,
) -> list[int]:
    """Earlier unfinished issues of the same category in the same building (or compound),
    oldest first: the first is the one others are most likely duplicates of."""
    params: dict[str, object] = {
        "compound": issue.compound_id,
        "id": issue.id,
        "since": driver_value(session, _UTC, issue.reported_at - policy.duplicate_window),
        "until": driver_value(session, _UTC, issue.reported_at),
    }
    if not any_category:
        params["category"] = issue.category_id
    candidates = rows(session, _SIMILAR_ANY if any_category else _SIMILAR_SAME, params)
    same_place = [
        issue_id
        for issue_id, building_id in candidates
        if issue.building_id is None or building_id in (None, issue.building_id)
    ]
    return same_place[:DUPLICATE_OFFERS]


def duplicate_candidates(session: Session, *, issue_id: int) -> list[int]:
    """What the committee may link a card to with 重复: recent issues in the same compound."""
    issue = load_issue(session, issue_id)
    return similar_issues(session, issue=issue, any_category=True)


# -- The loop --------------------------------------------------------------------------------


def _transition(
    session: Session,
    issue_id: int,
    action: str,
    *,
    actor: Actor,
    now: datetime,
    note: str | None = None,
) -> Issue:
    issue = load_issue(session, issue_id)
    apply_transition(session, issue, action, actor=actor, now=now, note=note)
    return issue


def _done(session: Session, issue: Issue) -> IssueView:
    session.commit()
    return view_of(session, issue)


def _new_phase(issue: Issue) -> None:
    """A new deadline applies: its reminder and alerts have not been sent yet."""
    issue.reminded_at = None
    issue.overdue_alerted_at = None


def accept_issue(session: Session, *, issue_id: int, actor: Actor, now: datetime) -> IssueView:
    """受理: the committee takes the issue up."""
    issue = _transition(session, issue_id, "accept", actor=actor, now=now)
    issue.accepted_at = now
    _new_phase(issue)
    return _done(session, issue)


def dispatch_issue(
    session: Session,
    *,
    issue_id: int,
    party: str,
    actor: Actor,
    now: datetime,
    assignee_member_id: int | None = None,
) -> IssueView:
    """派单: send the issue to a responsible party (optionally one person)."""
    if party not in PARTY_ROLES:
        raise DomainError("issue.unknown_party", party=party)
    issue = load_issue(session, issue_id)
    was_new = issue.state in (State.REPORTED, State.REOPENED)
    apply_transition(session, issue, "dispatch", actor=actor, now=now, note=party)
    issue.party = party
    issue.assignee_member_id = assignee_member_id
    issue.dispatched_at = now
    if issue.accepted_at is None:
        issue.accepted_at = now
    if was_new:
        _new_phase(issue)
    return _done(session, issue)


def escalate_issue(
    session: Session, *, issue_id: int, actor: Actor, now: datetime, note: str | None = None
) -> IssueView:
    """吹哨: raise the issue to the town."""
    issue = _transition(session, issue_id, "escalate", actor=actor, now=now, note=note)
    issue.escalated_at = now
    return _done(session, issue)


def reject_issue(
    session: Session, *, issue_id: int, body: str, actor: Actor, now: datetime
) -> IssueView:
    """不属实 / 不归我们管: close the issue as not ours, naming the body to go to."""
    if body not in PARTY_ROLES and body != "not_true":
        raise DomainError("issue.unknown_party", party=body)
    issue = _transition(session, issue_id, "reject", actor=actor, now=now, note=body)
    issue.rejected_to = body
    issue.close_reason = "rejected"
    return _done(session, issue)


def merge_duplicate(
    session: Session, *, issue_id: int, original_id: int, actor: Actor, now: datetime
) -> IssueView:
    """重复: link ``issue_id`` to ``original_id``; its reporters join the original.

    Returns the original, which now counts the extra reporters.
    """
    if issue_id == original_id:
        raise DomainError("issue.duplicate_of_itself", number=issue_id)
    original = load_issue(session, original_id)
    if original.state in FINISHED_STATES:
        raise DomainError("issue.original_finished", number=original_id)
    issue = load_issue(session, issue_id)
    if issue.compound_id != original.compound_id:
        raise DomainError("issue.not_same_place", number=issue_id, original=original_id)
    apply_transition(session, issue, "duplicate", actor=actor, now=now, note=f"#{original_id}")
    issue.duplicate_of_id = original_id
    issue.close_reason = "duplicate"
    joined = 0
    reporters = session.exec(select(IssueReporter).where(IssueReporter.issue_id == issue_id))
    for reporter in reporters.all():
        if reporter.user_id is not None and _has_reporter(session, original_id, reporter.user_id):
            continue
        session.add(
            IssueReporter(
                issue_id=original_id,
                member_id=reporter.member_id,
                user_id=reporter.user_id,
                joined_at=now,
            )
        )
        joined += 1
    original.reporters_count += joined
    session.add(original)
    record_event(session, original, "joined", actor=actor, now=now, note=f"#{issue_id}")
    session.commit()
    return view_of(session, original)


def _has_reporter(session: Session, issue_id: int, user_id: int) -> bool:
    row = session.exec(
        select(IssueReporter).where(
            IssueReporter.issue_id == issue_id, IssueReporter.user_id == user_id
        )
    ).first()
    return row is not None


def change_category(
    session: Session,
    *,
    issue_id: int,
    category_id: str,
    actor: Actor,
    now: datetime,
    policy: IssuePolicy = DEFAULT_POLICY,
    catalog: CategoryCatalog | None = None,
) -> IssueView:
    """The reporter (or the committee) corrects the category; the deadlines follow its tier."""
    catalog = catalog or load_catalog()
    if category_id not in catalog:
        raise DomainError("issue.unknown_category", category=category_id)
    category = catalog.get(category_id)
    issue = load_issue(session, issue_id)
    if issue.category_id == category_id:
        return view_of(session, issue)
    note = f"{issue.category_id} → {category_id}"
    apply_transition(session, issue, "recategorise", actor=actor, now=now, note=note)
    issue.category_id = category.id
    issue.tier = category.tier
    if issue.state == State.REPORTED:
        issue.party = category.party
    issue.respond_due_at, issue.resolve_due_at = policy.due_times(category.tier, issue.reported_at)
    _new_phase(issue)
    return _done(session, issue)


def start_handling(session: Session, *, issue_id: int, actor: Actor, now: datetime) -> IssueView:
    """处理中: the assignee has started."""
    return _done(session, _transition(session, issue_id, "start", actor=actor, now=now))


def resolve_issue(
    session: Session, *, issue_id: int, actor: Actor, now: datetime, note: str | None = None
) -> IssueView:
    """已解决: the assignee says it is fixed; the reporter is asked next."""
    issue = _transition(session, issue_id, "resolve", actor=actor, now=now, note=note)
    issue.resolved_at = now
    return _done(session, issue)


def confirm_fixed(
    session: Session, *, issue_id: int, rating: int, actor: Actor, now: datetime
) -> IssueView:
    """The reporter confirms the fix with a 1–5 rating: 结案."""
    if not 1 <= rating <= 5:
        raise DomainError("issue.bad_rating")
    issue = _transition(session, issue_id, "confirm", actor=actor, now=now, note=str(rating))
    issue.rating = rating
    issue.closed_at = now
    issue.close_reason = "confirmed"
    return _done(session, issue)


def reopen_issue(
    session: Session,
    *,
    issue_id: int,
    actor: Actor,
    now: datetime,
    policy: IssuePolicy = DEFAULT_POLICY,
) -> IssueView:
    """The reporter says it is not fixed: back to work, with a fresh resolve deadline."""
    issue = _transition(session, issue_id, "reopen", actor=actor, now=now)
    issue.reopen_count += 1
    issue.resolved_at = None
    issue.resolve_due_at = now + policy.deadlines(issue.tier).resolve
    _new_phase(issue)
    issue.escalated_at = None
    return _done(session, issue)


def check_action(session: Session, *, issue_id: int, action: str, actor: Actor) -> IssueView:
    """Refuse early (before showing a sub-menu) if ``actor`` may not take ``action`` now."""
    issue = load_issue(session, issue_id)
    check_allowed(session, issue, action, actor)
    return view_of(session, issue)


def set_card(database: Database, *, issue_id: int, chat_id: int, message_id: int) -> None:
    """Remember the committee-chat card, so later changes edit it in place: with the next write
    transaction (``Database.later``), not one of its own."""
    database.later(_SET_CARD, {"chat": chat_id, "message": message_id, "id": issue_id})


# -- Attachments -----------------------------------------------------------------------------


def _attachment(
    issue_id: int,
    kind: str,
    chat_id: int,
    message_id: int,
    now: datetime,
    file_id: str | None,
    location: tuple[float, float] | None = None,
) -> IssueAttachment:
    return IssueAttachment(
        issue_id=issue_id,
        kind=kind,
        file_id=file_id,
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
        source_chat_id=chat_id,
        source_message_id=message_id,
        added_at=now,
    )


@dataclass(frozen=True)
class Attached:
    issue_id: int
    kind: str  # photo_before | photo_after | location
    created: bool


def attach_media(
    session: Session,
    *,
    chat_id: int,
    message_id: int,
    actor: Actor,
    now: datetime,
    photo_file_id: str | None = None,
    location: tuple[float, float] | None = None,
    policy: IssuePolicy = DEFAULT_POLICY,
) -> Attached | None:
    """Attach a photo or location sent right after a report (or a resolution) to that issue.

    The most recent of "this user reported in this chat" and "this member resolved an issue"
    within the attach window wins; None when there is nothing to attach to.
    """
    if photo_file_id is None and location is None:
        return None
    done = session.exec(
        select(IssueAttachment).where(
            IssueAttachment.source_chat_id == chat_id,
            IssueAttachment.source_message_id == message_id,
        )
    ).first()
    if done is not None:
        return Attached(done.issue_id, done.kind, created=False)
    since = now - policy.attach_window
    target = _latest_report(session, chat_id, actor, since)
    resolved = _latest_resolution(session, actor, since)
    kind = "photo_before" if photo_file_id else "location"
    if resolved is not None and photo_file_id and (target is None or resolved[1] > target[1]):
        target, kind = resolved, "photo_after"
    if target is None:
        return None
    issue = load_issue(session, target[0])
    session.add(_attachment(target[0], kind, chat_id, message_id, now, photo_file_id, location))
    if location is not None and issue.latitude is None:
        issue.latitude, issue.longitude = location
        session.add(issue)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return Attached(target[0], kind, created=False)
    return Attached(target[0], kind, created=True)


def _latest_report(
    session: Session, chat_id: int, actor: Actor, since: datetime
) -> tuple[int, datetime] | None:
    if actor.user_id is None:
        return None
    issue = session.exec(
        select(Issue)
        .where(
            Issue.source_chat_id == chat_id,
            Issue.reporter_user_id == actor.user_id,
            col(Issue.reported_at) >= since,
        )
        .order_by(col(Issue.reported_at).desc(), col(Issue.id).desc())
    ).first()
    return (issue.id or 0, issue.reported_at) if issue is not None else None


def _latest_resolution(
    session: Session, actor: Actor, since: datetime
) -> tuple[int, datetime] | None:
    if actor.member_id is None:
        return None
    event = session.exec(
        select(IssueEvent)
        .where(
            IssueEvent.actor_member_id == actor.member_id,
            IssueEvent.action == "resolve",
            col(IssueEvent.at) >= since,
        )
        .order_by(col(IssueEvent.at).desc(), col(IssueEvent.id).desc())
    ).first()
    return (event.issue_id, event.at) if event is not None else None


def reporting_places(session: Session, *, member_id: int | None) -> list[tuple[int, str]]:
    """The compounds (and a building leader's own buildings) the guided /report offers."""
    if member_id is None:
        return []
    places = _reporting_units(session, member_id)
    offered = []
    for unit_id in places:
        unit = get_unit(session, unit_id)
        if unit.kind == UnitKind.COMPOUND or (
            unit.kind == UnitKind.BUILDING and unit.parent_id not in places
        ):
            offered.append((unit_id, unit_path(session, unit_id)))
    return sorted(offered, key=lambda pair: pair[1])


def place_reference(session: Session, *, unit_id: int) -> tuple[int, str | None]:
    """``(compound id, building name or None)`` for a unit chosen in the guided /report."""
    unit = get_unit(session, unit_id)
    if unit.kind == UnitKind.BUILDING and unit.parent_id is not None:
        return unit.parent_id, unit.name
    return unit_id, None
