"""Keyed runs of periodic pipelines: ``weekly:2026-W47`` is done once, and caught up once.

A run is started (a row with ``started_at``) and finished (``finished_at`` set). A finished key
never runs again. A key started but never finished belongs to a process that died half-way: it
may run again, and its steps (enqueueing into the outbox, storing snapshots) are idempotent,
so the resumed run completes what the dead one began without doing anything twice. Two runs
of one key in the *same* process are kept apart by the caller (``bot.jobrun``).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.tables import JobRun


def run_once(session: Session, *, key: str, now: datetime) -> bool:
    """Claim the run ``key``: True to go ahead (new, or resuming an unfinished one)."""
    run = session.get(JobRun, key)
    if run is not None:
        return run.finished_at is None
    session.add(JobRun(key=key, started_at=now))
    session.commit()
    return True


def finish_run(session: Session, *, key: str, now: datetime) -> None:
    """Record that ``key`` completed: later ``run_once`` calls for it answer False."""
    run = session.get(JobRun, key)
    if run is None:
        run = JobRun(key=key, started_at=now)
    run.finished_at = now
    session.add(run)
    session.commit()


def is_finished(session: Session, *, key: str) -> bool:
    run = session.get(JobRun, key)
    return run is not None and run.finished_at is not None
