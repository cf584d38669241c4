"""Item 2: SIGKILL while messages flow. A child process runs the real Application on a SQLite
file, long polling the offline Bot API (tests/reliability/ingest_child.py); it is killed with
SIGKILL at seeded random moments, restarted with the same update stream (Telegram replays what
was not confirmed), and finally run to the end. Every message whose receipt reached the chat
is stored exactly once, nothing is stored twice, and ``PRAGMA integrity_check`` is ok.

The children are forked from the test process (their imports already done) so that the kill
points are cheap; each is still a separate process on its own SQLite connection, killed by
the kernel without any chance to clean up.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import updates as u
from storage.bindings import bind_chat, create_bind_code
from storage.clock import MovableClock
from storage.db import Database
from storage.tables import Audience
from tests.bot.test_issue_loop_e2e import RESIDENTS_CHAT
from tests.district import LEADER_A3, RESIDENT_A, District
from tests.reliability import ingest_child
from tests.reliability.support import group

MESSAGES = 80
KILL_POINTS = 24
SEED = 20261116
PLACES = ("楼道堆物", "路灯坏了", "垃圾满了", "电梯异响", "漏水")


def _stream() -> list[dict[str, object]]:
    people = (LEADER_A3, RESIDENT_A)
    return [
        {
            **u.make_message_update(
                f"#报事 3号楼{PLACES[n % len(PLACES)]}，第{n}次",
                user=u.make_user(people[n % 2]),
                chat=group(RESIDENTS_CHAT),
                message_id=n,
            ),
            "update_id": n,
        }
        for n in range(1, MESSAGES + 1)
    ]


def _bind_residents_chat(database: Database, district: District, clock: MovableClock) -> None:
    with database.session() as session:
        code = create_bind_code(
            session,
            unit_id=district.units["sunshine"],
            audience=Audience.RESIDENTS,
            created_by=None,
            now=clock.now(),
        )
        bind_chat(
            session, code=code.code, chat_id=RESIDENTS_CHAT, title=None, member_id=None,
            now=clock.now(),
        )  # fmt: skip


def _stored(database: Database) -> dict[int, int]:
    """How many issues each source message made."""
    with database.read_session() as session:
        rows = session.execute(
            text(
                "SELECT source_message_id, count(*) FROM issue WHERE source_chat_id = :chat"
                " GROUP BY source_message_id"
            ),
            {"chat": RESIDENTS_CHAT},
        ).all()
    return {int(m): int(n) for m, n in rows}


def _acked(log: Path) -> set[int]:
    if not log.exists():
        return set()
    return {int(line) for line in log.read_text().split()}


def _start(
    database: Database, stream: Path, log: Path, *, remember_offset: bool = False
) -> tuple[BaseProcess, Event]:
    context = multiprocessing.get_context("fork")
    polling = context.Event()
    database.dispose()  # no SQLite connection may cross the fork
    child = context.Process(
        target=ingest_child.run,
        args=(
            database.url.removeprefix("sqlite:///"),
            str(stream),
            str(log),
            polling,
            remember_offset,
        ),  # fmt: skip
        daemon=True,
    )
    child.start()
    return child, polling


def _wait_for_kill_moment(child: BaseProcess, log: Path, rng: random.Random) -> None:
    """Until a seeded random point of the stream: a number of receipts still to come, then a
    few milliseconds more, so the kill lands while some message is being handled. Counted in
    receipts, not seconds: a fixed time window would fall after the last message on a machine
    or a build that handles them faster (80 messages took about 0.3 s here)."""
    done = len(_acked(log))
    target = rng.randrange(done, MESSAGES) if done < MESSAGES else 0
    for _ in range(30_000):  # a bound on a stuck child: 60 s
        if not child.is_alive() or len(_acked(log)) >= target:
            break
        time.sleep(0.002)
    child.join(timeout=rng.uniform(0.0, 0.01))


def _kill_and_restart(
    database: Database, tmp_path: Path, *, kills: int, remember_offset: bool
) -> tuple[Path, list[int]]:
    """Run the child ``kills`` times, each SIGKILLed at a seeded random moment, then once to
    the end; returns the acknowledgement log and how many receipts existed after each kill."""
    stream, log = tmp_path / "stream.json", tmp_path / "acks.log"
    stream.write_text(json.dumps(_stream(), ensure_ascii=False), encoding="utf-8")
    rng = random.Random(SEED)
    acked_after_kill = []
    for _ in range(kills):
        child, polling = _start(database, stream, log, remember_offset=remember_offset)
        assert polling.wait(timeout=30), "the child never started polling"
        _wait_for_kill_moment(child, log, rng)
        if child.is_alive():
            os.kill(child.pid or 0, signal.SIGKILL)
            child.join(timeout=10)
            # 0: it finished on its own between is_alive() and the kill; both are fine.
            assert child.exitcode in (0, -signal.SIGKILL)
        acked_after_kill.append(len(_acked(log)))
        stored = _stored(database)
        assert _acked(log) <= set(stored), "a receipt was sent for a message not stored"
        assert set(stored.values()) <= {1}, "a message was stored twice"
    child, _polling = _start(database, stream, log, remember_offset=remember_offset)
    child.join(timeout=60)
    assert child.exitcode == 0
    return log, acked_after_kill


@pytest.mark.slow
def test_sigkill_during_ingest_loses_no_acknowledged_message(
    database: Database, district: District, clock: MovableClock, tmp_path: Path
) -> None:
    _bind_residents_chat(database, district, clock)
    log, acked_after_kill = _kill_and_restart(
        database, tmp_path, kills=KILL_POINTS, remember_offset=False
    )
    stored = _stored(database)
    assert stored == dict.fromkeys(range(1, MESSAGES + 1), 1)  # each exactly once
    assert _acked(log) <= set(stored)
    with database.read_session() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    # The kills landed mid-stream, not all before the first or after the last receipt.
    assert any(0 < acked < MESSAGES for acked in acked_after_kill), acked_after_kill


@pytest.mark.slow
def test_sigkill_after_telegram_forgot_the_updates_loses_nothing(
    database: Database, district: District, clock: MovableClock, tmp_path: Path
) -> None:
    _bind_residents_chat(database, district, clock)
    _kill_and_restart(database, tmp_path, kills=3, remember_offset=True)
    assert _stored(database) == dict.fromkeys(range(1, MESSAGES + 1), 1)
