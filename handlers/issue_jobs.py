"""The deadline job: every few minutes, scan deadlines and announce what the scan found.

Reminders, overdue alerts and escalations go through the outbox (``post_alert``), keyed by the
issue and the deadline, so each is sent once and a 5xx is retried.

Time comes from the injected clock (``context.now()``), so tests move the clock and call
:func:`deadline_scan` (or ``await job.run(app)``) instead of waiting. A scan missed while the
process was down is not lost: the next one finds everything still due, so the job may coalesce
and run however late.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from handlers.context import GovApplication, GovContext
from handlers.issue_notify import (
    chat_messages,
    escalate_to_town,
    issue_policy,
    refresh_card,
    send_to_committee,
    tell_reporters,
)
from handlers.issue_render import local_time
from storage.issue_deadlines import Announcement, scan_deadlines
from storage.issue_views import issue_view

logger = logging.getLogger(__name__)

SCAN_INTERVAL = timedelta(minutes=5)
SCAN_JOB_NAME = "issues:deadline-scan"


def schedule(app: GovApplication) -> None:
    """Add the repeating deadline scan to the application's job queue."""
    if app.job_queue is None:
        logger.warning("no job queue: issue deadlines will not be checked")
        return
    app.job_queue.run_repeating(
        deadline_scan,
        interval=SCAN_INTERVAL,
        first=SCAN_INTERVAL,
        name=SCAN_JOB_NAME,
        job_kwargs={"misfire_grace_time": None, "coalesce": True},
    )


async def deadline_scan(context: GovContext) -> None:
    """Send the reminders, overdue alerts, escalations and auto-close notes that are due."""
    found = await context.db(scan_deadlines, now=context.now(), policy=issue_policy(context))
    for announcement in found:
        try:
            await announce(context, announcement)
        except Exception:  # one bad announcement must not stop the others
            logger.exception("could not announce %s", announcement)


# The committee's alert for each announcement; "escalation" also posts in the town chat.
ALERT_KINDS = {
    "reminder": "alert:reminder",
    "overdue": "alert:overdue",
    "escalation": "alert:overdue-twice",
}


async def announce(context: GovContext, found: Announcement) -> None:
    view = await context.db(issue_view, issue_id=found.issue_id)
    await refresh_card(context, view)
    if found.kind == "auto_closed":
        await tell_reporters(context, view, "issue.notice.auto_closed")
        return
    # One deadline of one issue is one cause: announcing it again sends nothing.
    key = f"{view.number}:{found.phase}:{found.due_at.isoformat()}"
    if found.kind == "escalation":
        await escalate_to_town(context, view, "issue.town.overdue_twice", key=key)
    await send_to_committee(
        context,
        view,
        f"issue.alert.{found.kind}",
        kind=ALERT_KINDS[found.kind],
        key=key,
        phase=chat_messages(context)(f"issue.phase.{found.phase}"),
        due=local_time(found.due_at, context.services.tz),
    )
