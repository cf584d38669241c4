"""Benchmark the weekly fan-out: 63,000 bound chats' digests through the outbox sender.

Run ``python -m benchmarks.bench_fanout`` from the repository root (``--chats N`` for a smaller
run, ``--runs clean`` for one of the runs). The offline Bot API enforces Telegram's flood
limits compressed ``--scale`` times (at the default ``--scale 30``: 900 messages/s overall, 20
per 2 s to one group), so a run sends for about a minute and a half rather than the ~47
minutes the real limits need for 84,000 messages. The database is built once and each run
sends from its own copy. Three runs:

- ``ceiling``: the sender flat out (limits × 1000, which never bind) on 6,000 chats: the most
  parts a second this machine lets it send right now, and its CPU per part. Every run reports
  ``allowed_share_of_ceiling``: the allowed rate over that. Well below 1, the rate target
  tests the sender's pacing; near 1, it tests the machine (why the default scale is 30: see
  docs/performance.md, "Fan-out").
- ``clean``: no faults. Reports the achieved rate as a ratio of the allowed overall rate.
- ``faults_and_kill``: Forbidden, ChatMigrated, 5xx, 429 and timeouts injected, and the process
  "killed" (an exception nothing catches, raised in the transport) before a random send, then
  restarted: recovery, a fresh sender, the rest of the fan-out.

Each run reports rate limit violations, duplicates (a part delivered twice to one chat) and
losses (a part never delivered to a chat it was owed to, not counting chats that removed the
bot and parts left ambiguous, which are counted separately), the CPU the process used per
part, and how long its threads waited for a CPU (``run_queue_wait_seconds``, from
``/proc/self/task/*/schedstat``): a busy machine shows there. Writes
``benchmarks/results/fanout.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from telegram import Bot  # noqa: E402

import bot  # noqa: E402, F401  (PTB_TIMEDELTA before telegram builds a RetryAfter)
from bot.offline import SEND_METHODS, Fault, FaultKind, OfflineBotAPI, RateLimits  # noqa: E402
from bot.pacing import Pacing  # noqa: E402
from bot.sender import OutboxSender  # noqa: E402
from storage import outbox  # noqa: E402
from storage.clock import SystemClock  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.schema import upgrade_database  # noqa: E402
from storage.tables import ChatBinding, Unit, UnitKind  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "fanout.json"
DEFAULT_SCALE = 30.0
# The ceiling run: the sender flat out (limits × 1000 never bind) on a smaller fan-out.
CEILING_CHATS, CEILING_SCALE = 6_000, 1000.0
# tmpfs when there is one: the benchmark measures the sender, not the disk.
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None
TOKEN = "123456:ABC-offline"
# A 1×1 PNG: the offline server reads its size; what matters here is the upload path.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class Killed(BaseException):
    """Stands for SIGKILL: nothing catches it."""


class KillingAPI(OfflineBotAPI):
    """The offline server, except that the process dies as its ``kill_at``-th send (0-based)
    is about to leave: the kill is seen where Telegram would see it, whatever path the sender
    takes to the transport. Set ``kill_at`` to None for the restarted process."""

    def __init__(self, *, kill_at: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kill_at = kill_at
        self.sends = 0
        self.parts: list[tuple[int, str | None, datetime]] = []  # (chat, text or caption, at)

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        files: Any,  # noqa: ARG002
        result: Any,  # noqa: ARG002
        *,
        delivered: bool = True,
        error: str | None = None,  # noqa: ARG002
    ) -> None:
        """Keep only what the audit reads, as tuples of plain values (which the garbage
        collector stops tracking). The offline server's full records of 84,000 sends (each
        call's parameters, files and markup) would be the largest thing in the process, and
        the collector's walks over them paused the sender for up to 0.4 s at a time, 2-3% of
        the run: a cost of measuring in the same process, not of the bot, whose sends leave
        it."""
        if delivered and method in ("sendMessage", "sendPhoto"):
            readable = params.get("text", params.get("caption"))
            self.parts.append((int(str(params.get("chat_id"))), readable, self._clock.now()))

    def _new_message(self, chat_id: Any, content: dict[str, Any], params: dict[str, Any]) -> Any:
        """The message as sent, not kept for later edits (nothing is edited here): Telegram
        keeps the messages, and the server's copy would be garbage-collector work done in the
        sender's process."""
        message = super()._new_message(chat_id, content, params)
        self._messages.pop((str(chat_id), message["message_id"]), None)
        return message

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if url.rsplit("/", 1)[-1] in SEND_METHODS:
            if self.sends == self.kill_at:
                raise Killed
            self.sends += 1
        return await super().do_request(url, method, *args, **kwargs)


def digest_text(chat_id: int) -> str:
    lines = [f"<b>阳光小区 第47周治理简报</b> #{chat_id}"]
    lines += [f"• 指标{n}：本周 {70 + n}.5 分，较上周 +{n % 3}.0" for n in range(12)]
    return "\n".join(lines)


def build(
    database: Database, media: Path, chats: list[int], now: datetime
) -> dict[int, list[str]]:
    """Bind every chat and enqueue its digest; return what each chat is owed, in order."""
    chart = media / "2026-W47" / "chart.png"
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_bytes(PNG)
    expected: dict[int, list[str]] = {}
    messages = []
    for n, chat in enumerate(chats):
        text = digest_text(chat)
        if n % 3 == 0:  # residents' digests come with a chart
            caption = f"本周指数 #{chat}"
            parts = [outbox.photo_part(str(chart), caption=caption), outbox.text_part(text)]
            expected[chat] = [caption, text]
        else:
            parts = [outbox.text_part(text)]
            expected[chat] = [text]
        messages.append(outbox.QueuedMessage(chat, "digest", "2026-W47", parts))
    with database.session() as session:
        unit = Unit(kind=UnitKind.TOWN, name="花木街道", created_at=now)
        session.add(unit)
        session.flush()
        rows = [
            {"chat_id": chat, "unit_id": unit.id, "audience": "residents", "bound_at": now}
            for chat in chats
        ]
        session.execute(insert(ChatBinding), rows)
        session.commit()
        outbox.enqueue_many(session, messages=messages, now=now)
    return expected


def inject_faults(
    api: OfflineBotAPI, chats: list[int], rng: random.Random, scale: float
) -> dict[str, Any]:
    picked = rng.sample(chats, 130)
    forbidden, migrated, flaky, limited, timeouts = (
        picked[:30],
        picked[30:40],
        picked[40:90],
        picked[90:110],
        picked[110:130],
    )
    new_ids = {}
    for chat in forbidden:
        for method in ("sendMessage", "sendPhoto"):
            api.fail_next(method, chat, error=Fault.forbidden(), times=5)
    for n, chat in enumerate(migrated):
        new_ids[chat] = -1_009_000_000_000 - n
        for method in ("sendMessage", "sendPhoto"):
            api.fail_next(method, chat, error=Fault.chat_migrated(new_ids[chat]))
    for chat in flaky:
        api.fail_next("sendMessage", chat, error=Fault.server_error(502), times=2)
    # "Retry after 1 s" on the benchmark's compressed clock, as the offline server's own 429s.
    wait = round(1 / scale, 3)
    too_many = Fault(
        FaultKind.TOO_MANY_REQUESTS,
        429,
        f"Too Many Requests: retry after {wait}",
        {"retry_after": wait},
    )
    for chat in limited:
        api.fail_next("sendMessage", chat, error=too_many)
    for chat in timeouts:
        api.fail_next("sendMessage", chat, error=Fault.timeout_after_accept())
    return {"forbidden": set(forbidden), "migrated": new_ids, "timeouts": set(timeouts)}


def audit(api: KillingAPI, expected: dict[int, list[str]], faults: dict[str, Any]) -> dict:
    delivered: dict[int, list[str]] = {}
    for chat, readable, _at in api.parts:
        if readable is not None:
            delivered.setdefault(chat, []).append(readable)
    duplicates = sum(
        count - 1 for parts in delivered.values() for count in Counter(parts).values() if count > 1
    )
    losses = 0
    out_of_order = 0
    for chat, owed in expected.items():
        if chat in faults.get("forbidden", ()):
            continue
        target = faults.get("migrated", {}).get(chat, chat)
        got = delivered.get(target, [])
        if chat in faults.get("timeouts", ()):
            continue  # ambiguous by policy: reported, not resent (counted below)
        losses += sum(1 for part in owed if part not in got)
        if [part for part in got if part in owed] != owed[: len(got)]:
            out_of_order += 1
    return {"duplicates": duplicates, "losses": losses, "out_of_order_chats": out_of_order}


def send_rate(api: KillingAPI) -> tuple[int, float]:
    times = [at for _chat, _readable, at in api.parts]
    span = (max(times) - min(times)).total_seconds()
    return len(times), span


def build_template(folder: Path, chats: int, now: datetime) -> tuple[Path, dict[int, list[str]]]:
    """Migrate a database, bind ``chats`` chats and enqueue their digests, once: each run
    sends from its own copy of that file."""
    path = folder / "template.sqlite"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    database = Database(url)
    chat_ids = [-1_000_000_000 - n for n in range(chats)]
    expected = build(database, folder / "media", chat_ids, now)
    database.dispose()  # the last connection closing checkpoints the WAL into the file
    return path, expected


def copy_database(template: Path, folder: Path, name: str) -> Database:
    path = folder / f"{name}.sqlite"
    for suffix in ("", "-wal"):
        source = template.with_name(template.name + suffix)
        if source.exists():
            shutil.copyfile(source, path.with_name(path.name + suffix))
    return Database(f"sqlite:///{path}")


def cpu_and_run_queue() -> tuple[float, float]:
    """CPU seconds this process used, and seconds its threads waited for a CPU while
    runnable (Linux only; 0 elsewhere): the second says how busy the machine was."""
    waited = 0
    for stat in Path("/proc/self/task").glob("*/schedstat"):
        with contextlib.suppress(OSError, ValueError):
            waited += int(stat.read_text().split()[1])
    return time.process_time(), waited / 1e9


async def run(
    name: str,
    database: Database,
    expected: dict[int, list[str]],
    scale: float,
    seed: int,
    *,
    faults: bool,
    kill: bool,
) -> dict[str, Any]:
    rng = random.Random(seed)
    clock = SystemClock()
    chat_ids = list(expected)
    total_parts = sum(len(parts) for parts in expected.values())
    api = KillingAPI(kill_at=None, clock=clock, rate_limits=RateLimits(scale=scale))
    injected = inject_faults(api, chat_ids, rng, scale) if faults else {}
    api.kill_at = rng.randrange(total_parts) if kill else None
    pacing = Pacing(scale=scale)
    restarts = 0
    cpu_before, waited_before = cpu_and_run_queue()
    started = time.perf_counter()
    async with Bot(TOKEN, request=api) as real_bot:
        sender = OutboxSender(real_bot, database, clock, pacing=pacing)
        try:
            stats = await sender.drain_until_idle()
        except Killed:
            restarts += 1
            api.kill_at = None
            await asyncio.sleep(pacing.seconds(1.0))  # the restart takes a moment
            with database.session() as session:
                outbox.recover_interrupted(session, now=clock.now())
            sender = OutboxSender(real_bot, database, clock, pacing=pacing)
            stats = await sender.drain_until_idle()
    send_seconds = time.perf_counter() - started
    cpu_after, waited_after = cpu_and_run_queue()
    with database.session() as session:
        ambiguous = len(outbox.ambiguous_messages(session))
    database.dispose()
    delivered, span = send_rate(api)
    allowed = 30 * scale
    achieved = delivered / (span + pacing.seconds(1.0)) if span else 0.0
    return {
        "run": name,
        "chats": len(chat_ids),
        "parts_owed": total_parts,
        "parts_delivered": delivered,
        "scale": scale,
        "allowed_overall_per_second": allowed,
        "achieved_per_second": round(achieved, 1),
        "rate_ratio": round(achieved / allowed, 3),
        "violations": api.violations,
        **audit(api, expected, injected),
        "ambiguous_rows": ambiguous,
        "restarts": restarts,
        "send_seconds": round(send_seconds, 2),
        "cpu_ms_per_part": round((cpu_after - cpu_before) / max(delivered, 1) * 1000, 3),
        "cpu_share_of_one_core": round((cpu_after - cpu_before) / send_seconds, 2),
        "run_queue_wait_seconds": round(waited_after - waited_before, 1),
        "last_drain": {
            "sent": stats.sent,
            "deferred": stats.deferred,
            "failed": stats.failed,
            "migrated": stats.migrated,
        },
    }


RUNS = {  # name: (faults, kill)
    "ceiling": (False, False),
    "clean": (False, False),
    "faults_and_kill": (True, True),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=63_000)
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", nargs="*", default=list(RUNS), choices=list(RUNS))
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(dir=SCRATCH) as scratch:
        folder = Path(scratch)
        templates: dict[int, tuple[Path, dict[int, list[str]]]] = {}
        setup_seconds = 0.0
        for name in args.runs:
            faults, kill = RUNS[name]
            chats = min(args.chats, CEILING_CHATS) if name == "ceiling" else args.chats
            scale = CEILING_SCALE if name == "ceiling" else args.scale
            if chats not in templates:
                started = time.perf_counter()
                sub = folder / str(chats)
                sub.mkdir()
                templates[chats] = build_template(sub, chats, SystemClock().now())
                setup_seconds += time.perf_counter() - started
            template, expected = templates[chats]
            database = copy_database(template, folder, name)
            print(f"running {name}: {chats} chats at {scale:g}× speed …", flush=True)
            result = asyncio.run(
                run(name, database, expected, scale, args.seed, faults=faults, kill=kill)
            )
            print(json.dumps(result, ensure_ascii=False), flush=True)
            results.append(result)
    ceiling = next((r for r in results if r["run"] == "ceiling"), None)
    if ceiling is not None:
        for result in results:
            if result is ceiling:
                continue
            # How much of the sender's flat-out rate (same run, same machine) the limits ask
            # for: near 1, the test measures the machine rather than the sender's pacing.
            result["allowed_share_of_ceiling"] = round(
                result["allowed_overall_per_second"] / ceiling["achieved_per_second"], 2
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "fanout",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "setup_seconds": round(setup_seconds, 1),
    }
    RESULTS.write_text(
        json.dumps({**report, "runs": results}, indent=2, ensure_ascii=False) + "\n"
    )
    print(f"wrote {RESULTS}")
    ok = all(r["violations"] == 0 and r["duplicates"] == 0 and r["losses"] == 0 for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
