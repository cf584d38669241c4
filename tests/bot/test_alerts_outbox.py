"""Alerts go through the outbox: a 5xx is retried, the same cause is sent once, a chat that
removed the bot loses its binding; driven through the real Application and the offline server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.offline import Fault
from bot.sender import start_sender, stop_sender
from handlers.checkins import SILENT_JOB
from handlers.context import GovContext
from handlers.issue_jobs import SCAN_JOB_NAME, announce
from storage.bindings import active_binding
from storage.issue_deadlines import scan_deadlines
from storage.tables import OutboxMessage
from tests.bot.test_issue_loop_e2e import (
    COMMITTEE_CHAT,
    TOWN_CHAT,
    bind_test_chats,
    press_on_card,
    report,
)
from tests.district import COMMITTEE_A, LEADER_A3
from tests.harness import Harness

OVERDUE = "超时："  # the committee's overdue alert, not the card's "已超时"


@pytest.fixture(autouse=True)
def chats(harness: Harness) -> None:
    bind_test_chats(harness)


async def scan(harness: Harness) -> None:
    assert harness.app.job_queue is not None
    (job,) = harness.app.job_queue.get_jobs_by_name(SCAN_JOB_NAME)
    await job.run(harness.app)


def alerts(harness: Harness, chat_id: int, marker: str) -> list[str]:
    return [t for t in harness.api.texts(chat_id) if marker in t]


def outbox_rows(harness: Harness, kind: str) -> list[OutboxMessage]:
    with harness.database.session() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        return list(session.exec(query.order_by(col(OutboxMessage.id))).all())


async def test_an_alert_answered_with_a_5xx_is_retried_and_delivered_once(
    harness: Harness,
) -> None:
    number = await report(harness, "#报事 3号楼门口路灯坏了")  # normal: respond within 24 h
    harness.clock.advance(timedelta(hours=25))
    harness.api.fail_next("sendMessage", chat_id=COMMITTEE_CHAT, error=Fault.server_error())
    await scan(harness)  # no sender runs yet: the scan drains the outbox itself
    assert alerts(harness, COMMITTEE_CHAT, OVERDUE) == []  # 502: not delivered, deferred 2 s

    sender = await start_sender(harness.app)  # as `govbot run` has it
    try:
        harness.clock.advance(timedelta(seconds=3))  # the backoff has passed
        sender.wake()
        async with asyncio.timeout(5):
            # The card, then the alert.
            await harness.api.wait_for_sent(chat_id=COMMITTEE_CHAT, method="sendMessage", count=2)
        await scan(harness)  # nothing new is due: nothing more is queued
    finally:
        await stop_sender(harness.app)

    (alert,) = alerts(harness, COMMITTEE_CHAT, OVERDUE)
    assert f"#{number}" in alert
    (row,) = outbox_rows(harness, "alert:overdue")
    assert (row.state, row.attempts, row.parts_sent) == ("sent", 2, 1)


async def test_the_same_overdue_alert_raised_twice_is_sent_once(harness: Harness) -> None:
    number = await report(harness, "#报事 3号楼门口路灯坏了")
    harness.clock.advance(timedelta(hours=25))
    with harness.database.session() as session:
        (found,) = scan_deadlines(session, now=harness.clock.now())
    assert (found.kind, found.issue_id) == ("overdue", number)

    context = GovContext(harness.app)
    await announce(context, found)
    await announce(context, found)  # the same cause again (one deadline of one issue)

    (alert,) = alerts(harness, COMMITTEE_CHAT, OVERDUE)
    assert f"#{number}" in alert
    assert len(outbox_rows(harness, "alert:overdue")) == 1


async def test_a_reopened_issue_that_runs_late_again_is_alerted_again(harness: Harness) -> None:
    number = await report(harness, "#报事 3号楼门口路灯坏了")  # normal: resolve within 7 days
    await press_on_card(harness, f"iss:acc:{number}", COMMITTEE_A)
    harness.clock.advance(timedelta(days=7, hours=1))
    await scan(harness)
    assert len(alerts(harness, COMMITTEE_CHAT, OVERDUE)) == 1

    await press_on_card(harness, f"iss:res:{number}", COMMITTEE_A)
    ask = harness.api.sent(LEADER_A3, "sendMessage")[-1]
    await harness.press(f"iss:nfix:{number}", user_id=LEADER_A3, message_id=ask.message_id)
    assert len(alerts(harness, COMMITTEE_CHAT, "还没解决")) == 1
    harness.clock.advance(timedelta(days=7, hours=1))  # the reopening's new deadline passed
    await scan(harness)

    assert len(alerts(harness, COMMITTEE_CHAT, OVERDUE)) == 2  # a new cause, a new alert
    assert len(outbox_rows(harness, "alert:overdue")) == 2
    assert [r.state for r in outbox_rows(harness, "alert:reopened")] == ["sent"]


async def test_forbidden_on_an_alert_deactivates_the_binding(harness: Harness) -> None:
    await report(harness, "#报事 3号楼门口路灯坏了")
    harness.clock.advance(timedelta(hours=49))  # twice the time: the town chat is told too
    harness.api.fail_next("sendMessage", chat_id=TOWN_CHAT, error=Fault.forbidden())
    await scan(harness)

    assert harness.api.texts(TOWN_CHAT) == []
    (escalation,) = outbox_rows(harness, "alert:escalation")
    assert (escalation.state, escalation.attempts) == ("failed", 1)
    with harness.database.session() as session:
        assert active_binding(session, chat_id=TOWN_CHAT) is None
        assert active_binding(session, chat_id=COMMITTEE_CHAT) is not None
    assert len(alerts(harness, COMMITTEE_CHAT, "超时一倍")) == 1  # the committee still heard


async def test_urgent_reports_and_whistles_are_queued_once_per_cause(harness: Harness) -> None:
    urgent = await report(harness, "#报事 1号楼闻到煤气味")
    await press_on_card(harness, f"iss:esc:{urgent}", COMMITTEE_A)
    await press_on_card(harness, f"iss:esc:{urgent}", COMMITTEE_A)  # a stale 吹哨 button

    assert [r.period for r in outbox_rows(harness, "alert:urgent")] == [str(urgent)]
    assert len(alerts(harness, COMMITTEE_CHAT, "紧急：")) == 1
    assert [r.state for r in outbox_rows(harness, "alert:escalation")] == ["sent"]
    assert len(alerts(harness, TOWN_CHAT, "居委会吹哨")) == 1


async def test_a_silent_building_alert_survives_a_5xx(harness: Harness) -> None:
    assert harness.app.job_queue is not None
    (job,) = harness.app.job_queue.get_jobs_by_name(SILENT_JOB)
    harness.clock.set(datetime(2026, 12, 11, 9, tzinfo=UTC))  # nobody checked in for weeks
    harness.api.fail_next("sendMessage", chat_id=COMMITTEE_CHAT, error=Fault.server_error())
    await job.run(harness.app)
    assert alerts(harness, COMMITTEE_CHAT, "阳光小区 3号楼") == []

    harness.clock.advance(timedelta(seconds=3))
    deliver = harness.app.bot_data["services"].deliver_outbox
    await deliver()  # the next drain (a running sender would make it by itself)
    await job.run(harness.app)  # the same cause: not raised again

    (alert,) = alerts(harness, COMMITTEE_CHAT, "阳光小区 3号楼")
    (row,) = outbox_rows(harness, "alert:silent-building")
    assert (row.state, row.attempts) == ("sent", 2)
