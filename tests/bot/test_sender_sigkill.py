"""A real SIGKILL mid-fan-out, twice, then a run to the end: nothing lost, duplicates bounded.

The sender runs in a subprocess that is killed with SIGKILL at a random moment after it
started sending. The offline server inside it logs every accepted message to a file (its record
survives the kill, as Telegram's would). The only duplicates allowed are parts Telegram had
accepted whose confirmation the kill prevented: at most the sends in flight, per kill.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.sender import OutboxSender
from storage import outbox
from storage.db import Database
from storage.outbox import text_part
from tests.conftest import START

ROOT = Path(__file__).resolve().parents[2]
KILLS = 2


def _start_worker(url: str, log: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.bot.sigkill_worker", url, str(log)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_sigkill_mid_fanout_loses_nothing(database: Database, tmp_path: Path):
    rng = random.Random(47)
    expected: dict[int, list[str]] = {}
    messages = []
    for n in range(400):
        chat = -100_000 - n if n % 2 else 3000 + n
        expected[chat] = [f"{chat}/{p}" for p in range(1 + n % 3)]
        messages.append(
            outbox.QueuedMessage(chat, "digest", "W47", [text_part(t) for t in expected[chat]])
        )
    with database.session() as session:
        outbox.enqueue_many(session, messages=messages, now=START)
    log = tmp_path / "accepted.log"

    kills = 0
    for _ in range(KILLS):
        worker = _start_worker(database.url, log)
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "draining"
        time.sleep(rng.uniform(0.05, 0.6))
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            kills += 1
        worker.wait(timeout=30)
        worker.stdout.close()
    worker = _start_worker(database.url, log)
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, out

    accepted = Counter(tuple(line.split("\t")) for line in log.read_text().splitlines())
    owed = {(str(chat), text) for chat, parts in expected.items() for text in parts}
    assert set(accepted) == owed  # nothing lost, nothing unexpected
    duplicates = sum(count - 1 for count in accepted.values())
    in_flight = OutboxSender.__init__.__kwdefaults__["max_in_flight"]  # type: ignore[index]
    assert duplicates <= kills * in_flight
    with database.session() as session:
        assert outbox.next_due(session) is None  # everything finished
