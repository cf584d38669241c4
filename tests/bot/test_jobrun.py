"""The keyed-period guard the weekly pipeline runs under."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobrun import KeyedRuns
from storage.clock import MovableClock
from storage.db import Database
from storage.jobrun import is_finished, run_once

KEY = "weekly:2026-W47"


async def test_a_key_runs_once_even_when_asked_twice_at_the_same_time(
    database: Database, clock: MovableClock
):
    runs = KeyedRuns(database, clock)
    started = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def work() -> None:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()

    first = asyncio.create_task(runs.run(KEY, work))
    await started.wait()
    assert not await runs.run(KEY, work)  # the catch-up and the schedule fired together
    release.set()
    assert await first
    assert not await runs.run(KEY, work)  # finished: never again
    assert calls == 1


async def test_a_run_whose_process_died_is_resumed(database: Database, clock: MovableClock):
    with database.session() as session:
        assert run_once(session, key=KEY, now=clock.now())  # started, then the process died
    done: list[str] = []

    async def work() -> None:
        done.append(KEY)

    assert await KeyedRuns(database, clock).run(KEY, work)
    assert done == [KEY]
    with database.session() as session:
        assert is_finished(session, key=KEY)


async def test_a_failed_run_stays_unfinished_and_may_run_again(
    database: Database, clock: MovableClock
):
    runs = KeyedRuns(database, clock)

    async def broken() -> None:
        raise RuntimeError("renderer crashed")

    async def fixed() -> None:
        return None

    with pytest.raises(RuntimeError):
        await runs.run(KEY, broken)
    assert await runs.run(KEY, fixed)
