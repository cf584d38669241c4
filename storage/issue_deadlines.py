"""The deadline scan: reminders, overdue alerts, escalation at twice the time, auto-close.

:func:`scan_deadlines` changes what is due and returns what to announce, as plain data; the
job in ``handlers/issue_jobs`` sends it. Each announcement is marked on the issue (and written
as an event) in the same commit, so a second scan in the same minute announces nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, bindparam, text
from sqlmodel import Session, col, select

from storage.issue_policy import DEFAULT_POLICY, IssuePolicy
from storage.issue_states import SYSTEM, State, apply_transition, record_event
from storage.issue_views import RESOLVING_STATES, Deadlines, current_due
from storage.tables import Issue, UTCDateTime


@dataclass(frozen=True)
class Announcement:
    """One thing the scan found: ``kind`` is reminder | overdue | escalation | auto_closed."""

    kind: str
    issue_id: int
    phase: str  # respond | resolve | confirm
    due_at: datetime


def scan_deadlines(
    session: Session, *, now: datetime, policy: IssuePolicy = DEFAULT_POLICY
) -> list[Announcement]:
    """Mark and return every reminder, alert, escalation and auto-close that is due now."""
    issues = _due_now(session, now=now, policy=policy)
    if not issues:
        return []
    found: list[Announcement] = []
    for issue in issues:
        if issue.state != State.RESOLVED:
            found += _check_open(session, issue, now, policy)
    for issue in issues:
        if issue.state == State.RESOLVED:
            apply_transition(
                session, issue, "auto_close", actor=SYSTEM, now=now, note="unconfirmed"
            )
            issue.closed_at = now
            issue.close_reason = "unconfirmed"
            found.append(
                Announcement("auto_closed", issue.id or 0, "confirm", issue.resolved_at or now)
            )
    session.commit()
    return found


# The issues something may be due for, as plain SQL with the columns the decision needs (the
# scan runs every few minutes, and loading issues through the ORM cost more than the scan's own
# work): open issues whose deadline is near enough and that have not had all three
# announcements, and resolved issues nobody confirmed in time.
_RESOLVING = ", ".join(f"'{state.value}'" for state in RESOLVING_STATES)
_MAYBE_DUE = (
    text(
        "SELECT id, state, tier, respond_due_at, resolve_due_at, reminded_at,"
        " overdue_alerted_at, escalated_at FROM issue WHERE"
        f" (((state = '{State.REPORTED.value}' AND respond_due_at <= :respond)"
        f"   OR (state IN ({_RESOLVING}) AND resolve_due_at <= :resolve))"
        "  AND (reminded_at IS NULL OR overdue_alerted_at IS NULL OR escalated_at IS NULL))"
        f" OR (state = '{State.RESOLVED.value}' AND resolved_at <= :unconfirmed)"
    )
    .bindparams(
        *(bindparam(name, type_=UTCDateTime()) for name in ("respond", "resolve", "unconfirmed"))
    )
    .columns(
        id=Integer(),
        state=String(),
        tier=String(),
        **{
            name: UTCDateTime()
            for name in (
                "respond_due_at",
                "resolve_due_at",
                "reminded_at",
                "overdue_alerted_at",
                "escalated_at",
            )
        },
    )
)


def _due_now(session: Session, *, now: datetime, policy: IssuePolicy) -> Sequence[Issue]:
    """The issues with an announcement or an auto-close due now, loaded (usually none)."""
    # Nothing is due earlier than this share of the allowed time before the deadline.
    lead = max(policy.remind_when_left, 1 - policy.escalate_factor, 0.0)
    times = {
        "respond": now + lead * max(t.respond for t in policy.tiers.values()),
        "resolve": now + lead * max(t.resolve for t in policy.tiers.values()),
        "unconfirmed": now - policy.auto_close_after,
    }
    rows = session.connection().execute(_MAYBE_DUE, times).all()
    ids = [
        row.id
        for row in rows
        if row.state == State.RESOLVED or _announcement(row, now, policy) is not None
    ]
    if not ids:
        return []
    return session.exec(select(Issue).where(col(Issue.id).in_(ids)).order_by(col(Issue.id))).all()


def _announcement(issue: Deadlines, now: datetime, policy: IssuePolicy) -> tuple[str, str] | None:
    """``(kind, phase)`` of what is due now for an open issue, if anything."""
    due = current_due(issue)
    if due is None:
        return None
    phase = "respond" if issue.state == State.REPORTED else "resolve"
    deadlines = policy.deadlines(issue.tier)
    # The window runs up to the due time: from the report, or from a reopening.
    allowed = deadlines.respond if phase == "respond" else deadlines.resolve
    if issue.escalated_at is None and now >= due - allowed + allowed * policy.escalate_factor:
        return "escalation", phase
    if issue.overdue_alerted_at is None and now > due:
        return "overdue", phase
    if issue.reminded_at is None and due - allowed * policy.remind_when_left <= now <= due:
        return "reminder", phase
    return None


def _check_open(
    session: Session, issue: Issue, now: datetime, policy: IssuePolicy
) -> list[Announcement]:
    found = _announcement(issue, now, policy)
    due = current_due(issue)
    if found is None or due is None:
        return []
    kind, phase = found
    if kind == "escalation":
        issue.escalated_at = now
    if kind in ("escalation", "overdue"):
        issue.overdue_alerted_at = issue.overdue_alerted_at or now
    issue.reminded_at = issue.reminded_at or now
    event = {"escalation": "auto_escalate"}.get(kind, kind)
    record_event(session, issue, event, actor=SYSTEM, now=now, note=phase)
    session.add(issue)
    return [Announcement(kind, issue.id or 0, phase, due)]
