"""The deadline scan: reminders, overdue alerts, escalation at twice the time, auto-close.

:func:`scan_deadlines` changes what is due and returns what to announce, as plain data; the
job in ``handlers/issues_jobs`` sends it. Each announcement is marked on the issue (and written
as an event) in the same commit, so a second scan in the same minute announces nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlmodel import Session, col, select

from storage.issue_policy import DEFAULT_POLICY, IssuePolicy
from storage.issue_states import SYSTEM, State, apply_transition, record_event
from storage.issue_views import RESOLVING_STATES, current_due
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
    issues = _maybe_due(session, now=now, policy=policy)
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


# The issues something may be due for, as plain SQL (the scan runs every few minutes, and an
# ORM query costs several times the scan's own work): open issues whose deadline is near enough
# and that have not had all three announcements, and resolved issues nobody confirmed in time.
_RESOLVING = ", ".join(f"'{state.value}'" for state in RESOLVING_STATES)
_MAYBE_DUE = text(
    "SELECT id FROM issue WHERE"
    f" (((state = '{State.REPORTED.value}' AND respond_due_at <= :respond)"
    f"   OR (state IN ({_RESOLVING}) AND resolve_due_at <= :resolve))"
    "  AND (reminded_at IS NULL OR overdue_alerted_at IS NULL OR escalated_at IS NULL))"
    f" OR (state = '{State.RESOLVED.value}' AND resolved_at <= :unconfirmed)"
).bindparams(
    *(bindparam(name, type_=UTCDateTime()) for name in ("respond", "resolve", "unconfirmed"))
)


def _maybe_due(session: Session, *, now: datetime, policy: IssuePolicy) -> Sequence[Issue]:
    # Nothing is due earlier than this share of the allowed time before the deadline.
    lead = max(policy.remind_when_left, 1 - policy.escalate_factor, 0.0)
    times = {
        "respond": now + lead * max(t.respond for t in policy.tiers.values()),
        "resolve": now + lead * max(t.resolve for t in policy.tiers.values()),
        "unconfirmed": now - policy.auto_close_after,
    }
    ids = session.connection().execute(_MAYBE_DUE, times).scalars().all()
    if not ids:
        return []
    return session.exec(select(Issue).where(col(Issue.id).in_(ids)).order_by(col(Issue.id))).all()


def _check_open(
    session: Session, issue: Issue, now: datetime, policy: IssuePolicy
) -> list[Announcement]:
    due = current_due(issue)
    if due is None:
        return []
    phase = "respond" if issue.state == State.REPORTED else "resolve"
    deadlines = policy.deadlines(issue.tier)
    # The window runs up to the due time: from the report, or from a reopening.
    allowed = deadlines.respond if phase == "respond" else deadlines.resolve
    start = due - allowed
    issue_id = issue.id or 0
    if issue.escalated_at is None and now >= start + allowed * policy.escalate_factor:
        issue.escalated_at = now
        issue.overdue_alerted_at = issue.overdue_alerted_at or now
        issue.reminded_at = issue.reminded_at or now
        record_event(session, issue, "auto_escalate", actor=SYSTEM, now=now, note=phase)
        session.add(issue)
        return [Announcement("escalation", issue_id, phase, due)]
    if issue.overdue_alerted_at is None and now > due:
        issue.overdue_alerted_at = now
        issue.reminded_at = issue.reminded_at or now
        record_event(session, issue, "overdue", actor=SYSTEM, now=now, note=phase)
        session.add(issue)
        return [Announcement("overdue", issue_id, phase, due)]
    if issue.reminded_at is None and now >= due - allowed * policy.remind_when_left and now <= due:
        issue.reminded_at = now
        record_event(session, issue, "reminder", actor=SYSTEM, now=now, note=phase)
        session.add(issue)
        return [Announcement("reminder", issue_id, phase, due)]
    return []
