"""Item 5: a scheduled run missed while the process was down happens once at start-up, and a
second restart does not repeat it: the weekly digest, the weekly check-in question and the
deadline scan.

"Down" means no Application ran at the due moment: the harness's Application (the dead
process) never runs a job here; the clock is moved past the due time and each start-up is a
new Application built on the same database file, whose start-up jobs are run as PTB would run
them (``await job.run(app)``; they are scheduled a few seconds after start). The weekly
pipeline's own tests are in ``tests/bot/test_weekly_e2e.py``
(``test_a_missed_monday_is_caught_up_once_at_start_up``, ``…killed_after_enqueueing…``) and
the keyed-run guard's in ``tests/bot/test_jobrun.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bot.app import build_application
from bot.offline import OfflineBotAPI, SentCall
from bot.settings import Settings
from bot.updates import next_message_id
from bot.weekly import CATCH_UP_JOB as WEEKLY_CATCH_UP
from bot.weekly import WEEKLY_JOB
from handlers.checkins import CATCH_UP_JOB as CHECKIN_CATCH_UP
from handlers.context import GovApplication
from handlers.issue_jobs import SCAN_JOB_NAME
from tests.bot.test_issue_loop_e2e import COMMITTEE_CHAT, RESIDENTS_CHAT, TOWN_CHAT
from tests.bot.test_weekly_e2e import ALL_CHATS, WEEK
from tests.bot.test_weekly_e2e import weekly as weekly  # the fixture, re-exported
from tests.district import LEADER_A3, LEADER_B1
from tests.harness import Harness, texts
from tests.reliability.support import bind_all, group

TUESDAY = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)  # 14:00 Shanghai, the day after the digest
ASK = "本周楼组情况"


class Started:
    def __init__(self, app: GovApplication, api: OfflineBotAPI) -> None:
        self.app = app
        self.api = api

    async def run(self, *names: str) -> list[SentCall]:
        """Run these jobs as their triggers would (together, if several); what they sent."""
        queue = self.app.job_queue
        assert queue is not None
        before = len(self.api.calls)
        jobs = [queue.get_jobs_by_name(name)[0] for name in names]
        await asyncio.gather(*(job.run(self.app) for job in jobs))
        return list(self.api.calls[before:])


@asynccontextmanager
async def started(harness: Harness, settings: Settings) -> AsyncIterator[Started]:
    """A new process: a fresh Application on the same database file and clock."""
    api = OfflineBotAPI(clock=harness.clock, message_ids=next_message_id)
    app = build_application(settings, api, clock=harness.clock, database=harness.database)
    async with app:
        yield Started(app, api)


def _digests_sent(harness: Harness) -> list[tuple[int, str]]:
    with harness.database.read_session() as session:
        rows = session.execute(
            text(
                "SELECT chat_id, period FROM outbox_message WHERE kind = 'digest' AND "
                "state = 'sent' ORDER BY chat_id"
            )  # fmt: skip
        ).all()
    return [(int(chat), str(period)) for chat, period in rows]


def _headlines(calls: list[SentCall], chat_id: int) -> int:
    """How many digests a chat was shown (each digest has one 周报 headline)."""
    return sum("周报" in (c.text or "") for c in calls if c.chat_id == chat_id)


# -- The weekly digest -------------------------------------------------------------------------


async def test_a_digest_missed_while_down_is_sent_once_and_never_again(
    weekly: Harness, settings: Settings
) -> None:
    weekly.clock.set(TUESDAY)  # down all Monday
    async with started(weekly, settings) as first:
        sent = await first.run(WEEKLY_CATCH_UP)
    for chat_id in ALL_CHATS:
        assert _headlines(sent, chat_id) == 1, chat_id
    assert _digests_sent(weekly) == sorted((chat, WEEK) for chat in ALL_CHATS)

    for moment in (TUESDAY + timedelta(minutes=1), TUESDAY + timedelta(days=1)):
        weekly.clock.set(moment)
        async with started(weekly, settings) as again:
            assert await again.run(WEEKLY_CATCH_UP) == []
    assert len(_digests_sent(weekly)) == len(ALL_CHATS)


async def test_a_start_at_nine_runs_the_catch_up_and_the_monday_job_once(
    weekly: Harness, settings: Settings
) -> None:
    """Started at Monday 09:00 sharp: the catch-up and the scheduled job fire together."""
    weekly.clock.set(weekly.clock.now() + timedelta(seconds=5))
    async with started(weekly, settings) as process:
        sent = await process.run(WEEKLY_CATCH_UP, WEEKLY_JOB)
    for chat_id in ALL_CHATS:
        assert _headlines(sent, chat_id) == 1, chat_id


async def test_down_across_two_mondays_sends_only_the_latest_week(
    weekly: Harness, settings: Settings
) -> None:
    """A digest of a week before last is no news: only the latest due week is caught up."""
    weekly.clock.set(TUESDAY + timedelta(weeks=1))
    async with started(weekly, settings) as process:
        await process.run(WEEKLY_CATCH_UP)
    assert {period for _, period in _digests_sent(weekly)} == {"2026-W47"}
    async with started(weekly, settings) as again:
        assert await again.run(WEEKLY_CATCH_UP) == []


# -- The weekly check-in question --------------------------------------------------------------


async def test_a_check_in_question_missed_while_down_is_asked_once(
    harness: Harness, settings: Settings
) -> None:
    leaders = (LEADER_A3, LEADER_B1)
    harness.clock.set(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))  # Thursday 17:00: not yet due
    async with started(harness, settings) as early:
        sent = await early.run(CHECKIN_CATCH_UP)
    assert ASK not in texts(sent)

    harness.clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=UTC))  # Friday 18:00: missed 17:00
    async with started(harness, settings) as first:
        sent = await first.run(CHECKIN_CATCH_UP)
    for leader in leaders:
        asked = [c for c in sent if c.chat_id == leader and ASK in (c.text or "")]
        assert len(asked) == 1, leader

    harness.clock.advance(timedelta(hours=1))
    async with started(harness, settings) as again:
        sent = await again.run(CHECKIN_CATCH_UP)
    assert ASK not in texts(sent)


# -- The deadline scan -------------------------------------------------------------------------


async def test_deadlines_passed_while_down_are_announced_once(
    harness: Harness, settings: Settings
) -> None:
    bind_all(harness)
    await harness.send("#报事 3号楼门口路灯坏了", user_id=LEADER_A3, chat=group(RESIDENTS_CHAT))
    harness.clock.advance(timedelta(days=3))  # down past the 24 h answer deadline, twice over

    async with started(harness, settings) as first:
        sent = await first.run(SCAN_JOB_NAME)
    # Three days late is twice over the deadline: one escalation, not a reminder, an alert
    # and an escalation one after another.
    alerts = [c for c in sent if c.chat_id == COMMITTEE_CHAT and c.method == "sendMessage"]
    assert ["超时一倍" in (c.text or "") for c in alerts] == [True], texts(alerts)
    assert any(c.chat_id == TOWN_CHAT and c.method == "sendMessage" for c in sent)

    harness.clock.advance(timedelta(minutes=5))
    async with started(harness, settings) as again:
        assert await again.run(SCAN_JOB_NAME) == []
