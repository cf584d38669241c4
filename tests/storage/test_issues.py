"""The issue rules without Telegram: the state machine, deadlines, duplicates, attachments,
replays and masking."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from storage.clock import MovableClock
from storage.db import Database
from storage.errors import DomainError
from storage.issue_deadlines import scan_deadlines
from storage.issue_policy import IssuePolicy, TierDeadlines
from storage.issue_states import TRANSITIONS, Actor, State, apply_transition
from storage.issues import (
    ReportOutcome,
    accept_issue,
    attach_media,
    escalate_issue,
    merge_duplicate,
    report_issue,
    similar_issues,
)
from storage.masking import mask_personal_numbers
from storage.tables import Issue, IssueEvent
from tests.district import ADMIN, LEADER_A3, District

_messages = itertools.count(1)
CHAT = -1001


@pytest.fixture
def session(database: Database, district: District) -> Session:
    with database.session() as session:
        return session


def _actor(district: District, user_id: int) -> Actor:
    return Actor(member_id=district.members[user_id], user_id=user_id)


def _report(
    session: Session,
    district: District,
    clock: MovableClock,
    *,
    text: str = "3号楼楼道堆物",
    category: str = "corridor_clutter",
    message_id: int | None = None,
    policy: IssuePolicy | None = None,
) -> ReportOutcome:
    outcome = report_issue(
        session,
        actor=_actor(district, LEADER_A3),
        chat_id=LEADER_A3,
        message_id=message_id if message_id is not None else next(_messages),
        text=text,
        category_id=category,
        building_ref=None,
        now=clock.now(),
        **({"policy": policy} if policy else {}),
    )
    assert isinstance(outcome, ReportOutcome)
    return outcome


def test_every_transition_is_allowed_only_from_its_sources(
    session: Session, district: District, clock: MovableClock
) -> None:
    number = _report(session, district, clock).issue.number
    for action, state in itertools.product(TRANSITIONS, State):
        issue = session.get(Issue, number)
        assert issue is not None
        issue.state = state.value
        rule = TRANSITIONS[action]
        if action in ("confirm", "reopen"):
            actor = _actor(district, LEADER_A3)
        elif action == "auto_close":
            actor = Actor()
        else:
            actor = _actor(district, ADMIN)
        if state in rule.sources:
            event = apply_transition(session, issue, action, actor=actor, now=clock.now())
            assert event.from_state == state.value
            assert issue.state == (rule.target or state).value
        else:
            with pytest.raises(DomainError) as refused:
                apply_transition(session, issue, action, actor=actor, now=clock.now())
            assert refused.value.code == "issue.bad_transition", (action, state)
        session.rollback()


def test_the_wrong_person_is_refused_before_the_state_is_looked_at(
    session: Session, district: District, clock: MovableClock
) -> None:
    issue = session.get(Issue, _report(session, district, clock).issue.number)
    assert issue is not None
    for action, user_id in (("accept", LEADER_A3), ("confirm", ADMIN), ("auto_close", ADMIN)):
        with pytest.raises(DomainError) as refused:
            apply_transition(
                session, issue, action, actor=_actor(district, user_id), now=clock.now()
            )
        assert refused.value.code == "permission.denied"


def test_replayed_message_returns_the_same_issue(
    session: Session, district: District, clock: MovableClock
) -> None:
    first = _report(session, district, clock, message_id=77)
    again = _report(session, district, clock, message_id=77)
    assert first.created
    assert not again.created
    assert again.issue.number == first.issue.number
    assert len(session.exec(select(Issue)).all()) == 1


def test_empty_text_and_unknown_category_are_refused(
    session: Session, district: District, clock: MovableClock
) -> None:
    with pytest.raises(DomainError, match="issue.empty"):
        _report(session, district, clock, text="   ")
    with pytest.raises(DomainError, match="issue.unknown_category"):
        _report(session, district, clock, category="ufo")


def test_deadlines_follow_the_policy(
    session: Session, district: District, clock: MovableClock
) -> None:
    policy = IssuePolicy(
        tiers={
            "urgent": TierDeadlines(timedelta(minutes=10), timedelta(hours=2)),
            "normal": TierDeadlines(timedelta(hours=1), timedelta(hours=4)),
            "complex": TierDeadlines(timedelta(hours=1), timedelta(hours=8)),
        }
    )
    view = _report(session, district, clock, policy=policy).issue
    assert view.respond_due_at == clock.now() + timedelta(hours=1)
    assert view.resolve_due_at == clock.now() + timedelta(hours=4)
    default = _report(session, district, clock, category="gas_leak").issue
    assert default.respond_due_at == clock.now() + timedelta(minutes=30)
    assert default.resolve_due_at == clock.now() + timedelta(hours=24)


def test_scan_reminds_alerts_escalates_once_each(
    session: Session, district: District, clock: MovableClock
) -> None:
    number = _report(session, district, clock, category="gas_leak").issue.number  # 30 min
    assert scan_deadlines(session, now=clock.now()) == []
    kinds = []
    for minutes in (23, 24, 31, 32, 61, 62, 600):
        found = scan_deadlines(session, now=clock.now() + timedelta(minutes=minutes))
        kinds += [f.kind for f in found if f.issue_id == number]
    assert kinds == ["reminder", "overdue", "escalation"]
    events = session.exec(
        select(IssueEvent.action).where(IssueEvent.issue_id == number).order_by(col(IssueEvent.id))
    ).all()
    assert events == ["report", "reminder", "overdue", "auto_escalate"]


def test_scan_finds_each_deadline_however_far_the_tiers_allow(
    session: Session, district: District, clock: MovableClock
) -> None:
    """The scan reads only issues near a deadline: a 15-day complex issue still gets its
    reminder with 25% of the time left, and an issue escalated by hand (吹哨) still gets its
    reminder and overdue alert."""
    start = clock.now()
    actor = _actor(district, ADMIN)
    complex_issue = _report(session, district, clock, text="2号楼群租", category="group_rental")
    accept_issue(session, issue_id=complex_issue.issue.number, actor=actor, now=start)
    whistled = _report(session, district, clock, text="3号楼噪声", category="noise").issue
    escalate_issue(session, issue_id=whistled.number, actor=actor, now=start)
    assert complex_issue.issue.tier == "complex"
    found: dict[int, list[tuple[str, float]]] = {}
    for hours in range(0, 24 * 40, 6):
        for item in scan_deadlines(session, now=start + timedelta(hours=hours)):
            found.setdefault(item.issue_id, []).append((item.kind, hours / 24))
    # 15 days to resolve: reminded at 11.25 days, overdue after 15, escalated at 30.
    assert found[complex_issue.issue.number] == [
        ("reminder", 11.25), ("overdue", 15.25), ("escalation", 30.0)
    ]  # fmt: skip
    # Noise (normal tier) to respond within 24 hours: reminded at 18 hours, overdue after 24.
    assert found[whistled.number] == [("reminder", 0.75), ("overdue", 1.25)]


def test_duplicates_only_within_seven_days_same_place_and_category(
    session: Session, district: District, clock: MovableClock
) -> None:
    first = _report(session, district, clock).issue.number
    clock.advance(timedelta(days=6))
    second = _report(session, district, clock)
    assert second.duplicates == (first,)
    other = _report(session, district, clock, text="3号楼噪声", category="noise")
    assert other.duplicates == ()
    clock.advance(timedelta(days=2))
    third = _report(session, district, clock)
    assert third.duplicates == (second.issue.number,)  # the first is now too old
    merged = merge_duplicate(
        session,
        issue_id=third.issue.number,
        original_id=second.issue.number,
        actor=_actor(district, LEADER_A3),
        now=clock.now(),
    )
    # The same person reporting twice is one reporter, not two.
    assert merged.reporters_count == 1
    issue = session.get(Issue, third.issue.number)
    assert issue is not None
    assert similar_issues(session, issue=issue) == [second.issue.number]


def test_attachments_within_the_window_only(
    session: Session, district: District, clock: MovableClock
) -> None:
    number = _report(session, district, clock).issue.number
    actor = _actor(district, LEADER_A3)
    clock.advance(timedelta(minutes=5))
    attached = attach_media(
        session, chat_id=LEADER_A3, message_id=900, actor=actor, now=clock.now(),
        photo_file_id="p",
    )  # fmt: skip
    assert attached is not None
    assert (attached.issue_id, attached.kind, attached.created) == (number, "photo_before", True)
    again = attach_media(
        session, chat_id=LEADER_A3, message_id=900, actor=actor, now=clock.now(),
        photo_file_id="p",
    )  # fmt: skip
    assert again is not None
    assert not again.created
    clock.advance(timedelta(minutes=30))
    late = attach_media(
        session, chat_id=LEADER_A3, message_id=901, actor=actor, now=clock.now(),
        photo_file_id="q",
    )  # fmt: skip
    assert late is None


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13812345678", "电话138****5678"),
        ("call +86 138-1234-5678 now", "call +86 138****5678 now"),
        ("座机021-58881234", "座机021-****1234"),
        ("0571 8888 1234", "0571-****1234"),
        ("身份证310101199001011234", "身份证310***********1234"),
        ("id 11010519491231002X.", "id 110***********002X."),
        ("全角１３８１２３４５６７８", "全角１３８****５６７８"),
        ("3号楼502室 2026-11-16 共12户", "3号楼502室 2026-11-16 共12户"),
        ("订单号123456789012", "订单号123456789012"),
    ],
)
def test_masking(text: str, masked: str) -> None:
    assert mask_personal_numbers(text) == masked
