"""Database access from handlers: short work on the loop unless a writer holds the lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session

from handlers.context import Services, _write_later, run_db_quick
from storage.clock import MovableClock
from storage.db import Database


def _write(*, session: Session, ran_in: list[int]) -> str:
    ran_in.append(threading.get_ident())
    session.execute(text("CREATE TABLE probe (x INTEGER)"))
    session.commit()
    return "recorded"


async def test_quick_work_on_a_free_database_runs_on_the_event_loop(database: Database) -> None:
    ran_in: list[int] = []
    assert await run_db_quick(database, _write, ran_in=ran_in) == "recorded"
    assert ran_in == [threading.get_ident()]


async def test_quick_work_waits_for_another_writer_in_a_thread_and_is_not_lost(
    database: Database,
) -> None:
    path = database.engine.url.database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. the weekly job storing a snapshot
    ran_in: list[int] = []
    work = asyncio.create_task(run_db_quick(database, _write, ran_in=ran_in))
    await asyncio.sleep(0.05)
    assert not work.done()  # waiting for the lock, and the loop is free meanwhile
    other.execute("COMMIT")
    other.close()
    assert await work == "recorded"
    assert len(ran_in) == 1
    assert ran_in[0] != threading.get_ident()
    with database.read_session() as session:
        assert session.execute(text("SELECT count(*) FROM probe")).scalar_one() == 0


async def test_quick_work_still_gives_other_tasks_their_turn(database: Database) -> None:
    """The sender, the jobs and the update fetcher share the loop with a stream of updates."""
    turns: list[str] = []

    async def other_task() -> None:
        turns.append("other task ran")

    other = asyncio.create_task(other_task())
    await run_db_quick(database, _write, ran_in=[])
    assert turns == ["other task ran"]
    await other


async def test_the_later_timer_is_armed_again_after_an_error(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure in the timer's callback is logged by asyncio; it must not leave the timer
    looking armed, or no queued write would be committed before shutdown."""
    services = Services(db=database, clock=MovableClock(datetime(2026, 11, 16, tzinfo=UTC)),
                        tz=ZoneInfo("Asia/Shanghai"))  # fmt: skip

    def broken() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(database, "session_if_free", broken)
    services.later_timer = asyncio.get_running_loop().call_later(60, lambda: None)
    with pytest.raises(sqlite3.OperationalError):
        _write_later(services)
    assert services.later_timer is None  # GovContext.write_soon arms it again
