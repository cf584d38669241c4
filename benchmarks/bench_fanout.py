"""Benchmark the weekly fan-out: 63,000 bound chats' digests through the outbox sender.

Run ``python -m benchmarks.bench_fanout`` from the repository root (``--chats N`` for a smaller
run). The offline Bot API enforces Telegram's flood limits compressed ``--scale`` times (at
the default ``--scale 30``: 900 messages/s overall, 20 per 2 s to one group), so a run takes
about a minute and a half rather than the ~47 minutes the real limits need for 84,000
messages. The sender's CPU (about 1 ms a part on this machine, half of it in PTB) is what
limits the achieved rate at this scale; ``--scale 10`` measures the pacing alone. Two runs:

- ``clean``: no faults. Reports the achieved rate as a ratio of the allowed overall rate.
- ``faults_and_kill``: Forbidden, ChatMigrated, 5xx, 429 and timeouts injected, and the process
  "killed" (an exception nothing catches) before a random send, then restarted: recovery, a
  fresh sender, the rest of the fan-out.

Each run reports rate limit violations, duplicates (a part delivered twice to one chat) and
losses (a part never delivered to a chat it was owed to, not counting chats that removed the
bot and parts left ambiguous, which are counted separately). Writes
``benchmarks/results/fanout.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
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
from bot.offline import Fault, OfflineBotAPI, RateLimits  # noqa: E402
from bot.pacing import Pacing  # noqa: E402
from bot.sender import OutboxSender  # noqa: E402
from storage import outbox  # noqa: E402
from storage.clock import SystemClock  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.schema import upgrade_database  # noqa: E402
from storage.tables import ChatBinding, Unit, UnitKind  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "fanout.json"
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


class KillingBot:
    """Dies before its ``kill_at``-th send; otherwise the real Bot."""

    def __init__(self, real: Bot, kill_at: int | None) -> None:
        self.real = real
        self.kill_at = kill_at
        self.sends = 0

    async def send_message(self, **kwargs: Any) -> Any:
        self._tick()
        return await self.real.send_message(**kwargs)

    async def send_photo(self, **kwargs: Any) -> Any:
        self._tick()
        return await self.real.send_photo(**kwargs)

    def _tick(self) -> None:
        if self.sends == self.kill_at:
            raise Killed
        self.sends += 1


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


def inject_faults(api: OfflineBotAPI, chats: list[int], rng: random.Random) -> dict[str, Any]:
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
    for chat in limited:
        api.fail_next("sendMessage", chat, error=Fault.too_many_requests(1))
    for chat in timeouts:
        api.fail_next("sendMessage", chat, error=Fault.timeout_after_accept())
    return {"forbidden": set(forbidden), "migrated": new_ids, "timeouts": set(timeouts)}


def audit(api: OfflineBotAPI, expected: dict[int, list[str]], faults: dict[str, Any]) -> dict:
    delivered: dict[int, list[str]] = {}
    for call in api.sent():
        if call.method in ("sendMessage", "sendPhoto") and call.readable is not None:
            delivered.setdefault(int(str(call.chat_id)), []).append(call.readable)
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


def send_rate(api: OfflineBotAPI) -> tuple[int, float]:
    times = [c.at for c in api.sent() if c.method in ("sendMessage", "sendPhoto")]
    span = (max(times) - min(times)).total_seconds()
    return len(times), span


async def run(
    name: str, chats: int, scale: float, seed: int, *, faults: bool, kill: bool
) -> dict[str, Any]:
    rng = random.Random(seed)
    clock = SystemClock()
    with tempfile.TemporaryDirectory(dir=SCRATCH) as d:
        url = f"sqlite:///{d}/fanout.sqlite"
        upgrade_database(url)
        database = Database(url)
        chat_ids = [-1_000_000_000 - n for n in range(chats)]
        started = time.perf_counter()
        expected = build(database, Path(d) / "media", chat_ids, clock.now())
        enqueue_seconds = time.perf_counter() - started
        api = OfflineBotAPI(clock=clock, rate_limits=RateLimits(scale=scale))
        injected = inject_faults(api, chat_ids, rng) if faults else {}
        total_parts = sum(len(parts) for parts in expected.values())
        pacing = Pacing(scale=scale)
        restarts = 0
        started = time.perf_counter()
        async with Bot(TOKEN, request=api) as real_bot:
            kill_at = rng.randrange(total_parts) if kill else None
            sender = OutboxSender(KillingBot(real_bot, kill_at), database, clock, pacing=pacing)  # type: ignore[arg-type]
            try:
                stats = await sender.drain_until_idle()
            except Killed:
                restarts += 1
                await asyncio.sleep(pacing.seconds(1.0))  # the restart takes a moment
                with database.session() as session:
                    outbox.recover_interrupted(session, now=clock.now())
                sender = OutboxSender(real_bot, database, clock, pacing=pacing)
                stats = await sender.drain_until_idle()
        send_seconds = time.perf_counter() - started
        with database.session() as session:
            ambiguous = len(outbox.ambiguous_messages(session))
        database.dispose()
    delivered, span = send_rate(api)
    allowed = 30 * scale
    achieved = delivered / (span + pacing.seconds(1.0)) if span else 0.0
    return {
        "run": name,
        "chats": chats,
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
        "enqueue_seconds": round(enqueue_seconds, 2),
        "send_seconds": round(send_seconds, 2),
        "last_drain": {
            "sent": stats.sent,
            "deferred": stats.deferred,
            "failed": stats.failed,
            "migrated": stats.migrated,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=63_000)
    parser.add_argument("--scale", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", nargs="*", default=["clean", "faults_and_kill"])
    args = parser.parse_args()
    results = []
    for name, faults, kill in (("clean", False, False), ("faults_and_kill", True, True)):
        if name not in args.runs:
            continue
        print(f"running {name}: {args.chats} chats at {args.scale}× speed …", flush=True)
        result = asyncio.run(
            run(name, args.chats, args.scale, args.seed, faults=faults, kill=kill)
        )
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": "fanout", "when": datetime.now(UTC).isoformat(timespec="seconds")}
    RESULTS.write_text(
        json.dumps({**report, "runs": results}, indent=2, ensure_ascii=False) + "\n"
    )
    print(f"wrote {RESULTS}")
    ok = all(r["violations"] == 0 and r["duplicates"] == 0 and r["losses"] == 0 for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
