"""The deadline scan: reminders, overdue alerts, escalation at twice the time, auto-close.

:func:`scan_deadlines` changes what is due and returns what to announce, as plain data; the
job in ``handlers/issues_jobs`` sends it. Each announcement is marked on the issue (and written
as an event) in the same commit, so a second scan in the same minute announces nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.issue_policy import DEFAULT_POLICY, IssuePolicy
from storage.issue_states import OPEN_STATES, SYSTEM, State, apply_transition, record_event
from storage.issue_views import current_due
from storage.tables import Issue


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
    found: list[Announcement] = []
    open_issues = session.exec(
        select(Issue).where(col(Issue.state).in_(OPEN_STATES)).order_by(col(Issue.id))
    ).all()
    for issue in open_issues:
        found += _check_open(session, issue, now, policy)
    cutoff = now - policy.auto_close_after
    stale = session.exec(
        select(Issue)
        .where(Issue.state == State.RESOLVED, col(Issue.resolved_at) <= cutoff)
        .order_by(col(Issue.id))
    ).all()
    for issue in stale:
        apply_transition(session, issue, "auto_close", actor=SYSTEM, now=now, note="unconfirmed")
        issue.closed_at = now
        issue.close_reason = "unconfirmed"
        found.append(
            Announcement("auto_closed", issue.id or 0, "confirm", issue.resolved_at or now)
        )
    session.commit()
    return found


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
