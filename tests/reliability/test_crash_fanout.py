"""Item 3: the process dies while the Monday digests are going out; after a restart every chat
has its digest exactly once.

What the sender's own tests already show (synthetic rows, no pipeline) is listed in
``docs/reliability.md``; this adds the whole path as it runs in production: the Monday job
scores, renders the digests (texts and chart photos) through the real Application and starts
sending; the "process" dies before its N-th send (``SimulatedKill``, which nothing catches);
a new Application starts on the same database as ``govbot run`` does (``start_sender``:
recover what was half-sent, then the background sender) and runs the start-up catch-up, which
resumes the unfinished weekly run. Every part of every chat's digest then reached the chat
exactly once, over both processes.

A kill between Telegram accepting a part and the commit of its confirmation resends that part
(at least once, never lost): that window is pinned down in ``tests/bot/test_sender.py``
(``test_a_kill_between_telegrams_answer_and_the_commit_resends_only_those_parts``).
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import text

from bot.digest import charts
from bot.sender import OutboxSender, start_sender, stop_sender
from bot.settings import Settings
from bot.weekly import CATCH_UP_JOB, WEEKLY_JOB
from tests.bot.test_weekly_e2e import ALL_CHATS
from tests.bot.test_weekly_e2e import weekly as weekly  # the fixture, re-exported
from tests.harness import Harness
from tests.reliability.test_missed_schedule import Started, started

KILL_POINTS = (0, 4, 9)  # before the 1st, 5th and 10th send of the week's 12


class SimulatedKill(BaseException):
    """Stands for SIGKILL: nothing catches it, nothing after it runs."""


def _dies_before(kill_at: int, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the sender die before its ``kill_at``-th send (0-based); the list counts sends."""
    real = OutboxSender._send
    sends = [0]

    async def send(self: OutboxSender, chat_id: int, part: Any, photo: bytes | None) -> None:
        if sends[0] == kill_at:
            raise SimulatedKill
        sends[0] += 1
        await real(self, chat_id, part, photo)

    monkeypatch.setattr(OutboxSender, "_send", send)
    return sends


def _rows(harness: Harness) -> list[tuple[int, str, str, int, int]]:
    """Every outbox row the week made (digests and alerts): chat, kind, state, parts, sent."""
    with harness.database.read_session() as session:
        rows = session.execute(
            text("SELECT chat_id, kind, state, payload, parts_sent FROM outbox_message")
        ).all()
    return [
        (int(chat), str(kind), str(state), len(json.loads(payload)["parts"]), int(sent))
        for chat, kind, state, payload, sent in rows
    ]


@functools.cache
def _small_png() -> bytes:
    return REAL_DIMENSIONS(charts.DimensionChart("t", ["a"], [1.0], None, "now", "before"))


REAL_DIMENSIONS = charts.dimensions_png


@pytest.fixture(autouse=True)
def quick_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """One small chart for every chart: what is drawn does not matter to the fan-out, and
    the restarted run renders the week again."""
    for name in ("dimensions_png", "trend_png", "ranking_png"):
        monkeypatch.setattr(charts, name, lambda _chart: _small_png())


def _delivered(*apis: Any) -> Counter[tuple[int, str, str]]:
    """Every message delivered to a chat, over every process: (chat, method, text/caption)."""
    return Counter(
        (int(c.chat_id), c.method, c.readable or "")
        for api in apis
        for c in api.calls
        if c.method in ("sendMessage", "sendPhoto") and c.delivered and c.chat_id is not None
    )


async def _restart_and_catch_up(process: Started) -> None:
    """What ``govbot run`` does at start-up, then the catch-up job, until the outbox is empty."""
    await start_sender(process.app)
    try:
        await process.run(CATCH_UP_JOB)
        for _ in range(500):
            if not _unsent(process):
                break
            await asyncio.sleep(0.01)
    finally:
        await stop_sender(process.app)


def _unsent(process: Started) -> int:
    services = process.app.bot_data["services"]
    with services.db.read_session() as session:
        return int(
            session.execute(
                text("SELECT count(*) FROM outbox_message WHERE state IN ('pending','sending')")
            ).scalar()
            or 0
        )


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", KILL_POINTS)
async def test_killed_mid_fanout_every_chat_gets_its_digest_exactly_once(
    weekly: Harness, settings: Settings, monkeypatch: pytest.MonkeyPatch, kill_at: int
) -> None:
    sends = _dies_before(kill_at, monkeypatch)
    assert weekly.app.job_queue is not None
    (job,) = weekly.app.job_queue.get_jobs_by_name(WEEKLY_JOB)
    with pytest.raises(SimulatedKill):
        await job.run(weekly.app)  # Monday 09:00: the job starts sending, then dies
    assert sends == [kill_at]
    monkeypatch.undo()

    async with started(weekly, settings) as process:
        await _restart_and_catch_up(process)
        delivered = _delivered(weekly.api, process.api)

    rows = _rows(weekly)
    assert {chat for chat, kind, *_ in rows if kind == "digest"} == set(ALL_CHATS)
    for chat_id in ALL_CHATS:
        mine = [row for row in rows if row[0] == chat_id]
        assert all((state, sent) == ("sent", parts) for _, _, state, parts, sent in mine)
        shown = [n for (chat, _, _), n in delivered.items() if chat == chat_id]
        assert sum(shown) == sum(row[3] for row in mine), chat_id  # every part arrived ...
        assert set(shown) == {1}, chat_id  # ... exactly once
    assert sum(delivered.values()) > max(KILL_POINTS)  # the kill really was mid-fan-out
