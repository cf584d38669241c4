"""Benchmark ingest: issue reports and activity messages through the real Application.

Run ``python -m benchmarks.bench_ingest`` from the repository root (or ``make bench`` for all).
Writes ``benchmarks/results/ingest.json``.

What runs: ``bot.app.build_application`` over the offline Bot API (``bot.offline``), on a
SQLite file in WAL mode holding a Pudong-scale district (``benchmarks/district.py``: 3,179 小区,
about 62,000 楼组, 75,000 members, 4,573 bound chats), with the real parser, storage and
replies. Building leaders send ``#报事 …`` and ``#志愿 …`` messages in their 小区's residents
chat; each report also posts its card in the committee chat.

How updates go in: ``await app.process_update(update)``, one at a time: exactly what PTB's
update fetcher does with each update it takes from ``app.update_queue`` (govbot keeps PTB's
default of processing updates sequentially). Building the ``Update`` objects is not timed.

- **throughput**: a batch of updates back to back; messages/s = count / elapsed. The baseline,
  report, activity and mixed batches take turns, five rounds, and each figure is the median of
  its rounds (the ratio: of its ratios to the same round's baseline).
- **latency at offered load**: updates *arrive* at a fixed rate (an asyncio producer puts each
  on a queue at ``t0 + i/rate``) and one consumer processes them in order, as PTB's fetcher
  does; latency = finished - arrived, so it includes any time spent waiting in the queue.
- **baseline**: the same Application with its handlers replaced by one that only replies, fed
  the same messages, in the same run; every figure is also given as a ratio to it.

Every figure is measured on two copies of the district side by side: one with no records, one
after bulk-inserting 10,000 issues and 100,000 activities (13 weeks). Each report, activity and
mixed batch goes to both, one right after the other (the same messages; which goes first
alternates by round), so the throughput lost with the records stored is the median of ratios
between batches that ran seconds apart, not a minute apart as when the two were measured one
after the other (the machine's speed moved by up to 2× in between). The SQL of one report and
one activity is captured and ``EXPLAIN QUERY PLAN``-ed on the loaded database; any full-table
scan is listed in the results.
"""

from __future__ import annotations

import asyncio
import json
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from telegram import Update
from telegram.ext import MessageHandler, filters

from benchmarks.district import District, add_records, build_district
from bot.app import build_application, settle_heap
from bot.offline import OfflineBotAPI
from bot.settings import Settings
from bot.updates import make_group_chat, make_message_update, make_user, next_message_id, to_update
from handlers.context import GovApplication, GovContext
from storage.clock import MovableClock
from storage.db import Database
from storage.errors import DomainError

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "ingest.json"
NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Shanghai
BATCH = 200  # messages per throughput batch
ROUNDS = 5  # interleaved rounds of the throughput batches
THROUGHPUT_PHASES = ("baseline_reply_only", "reports", "activities", "mixed")
OFFERED_RATE = 100.0  # messages/s for the latency measurement
OFFERED_SECONDS = 5.0
STORED_ISSUES, STORED_ACTIVITIES = 10_000, 100_000
TARGETS = {"messages_per_s": 500.0, "ratio_to_baseline": 0.25, "p99_ms": 50.0, "degradation": 0.2}

ISSUE_TEXTS = (
    "#报事 {b}楼道里堆满了纸箱和旧家具，影响通行",
    "#报事 {b}门口有人乱停车，堵住了出入口",
    "#报事 {b}楼上漏水，天花板在滴水",
    "#报事 {b}晚上楼下噪声很大，影响休息",
    "#报事 {b}附近垃圾分类没做好，垃圾桶满了",
    "#报事 {b}前面的路面破损，有个大坑",
    "#报事 {b}楼下有流浪猫狗，晚上叫",
    "#报事 {b}电梯门口贴满小广告",
)
ACTIVITY_TEXTS = (
    "#志愿 今天组织{n}名志愿者清理{b}楼道，共2小时",
    "#会议 听证会 停车收费方案 到会{n}人 通过",
    "#走访 走访{b}独居老人{h}户",
    "#巡查 巡查{b}消防通道 {n}人 1小时",
    "#演练 消防演练 参加{n}人",
    "#志愿 {n}名党员志愿者在{b}门口测血压，半小时",
)


@dataclass(frozen=True)
class Phase:
    name: str
    messages: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies_ms)
        return {
            "messages": self.messages,
            "seconds": round(self.seconds, 3),
            "messages_per_s": round(self.rate, 1),
            "p50_ms": round(_quantile(ordered, 0.50), 2),
            "p99_ms": round(_quantile(ordered, 0.99), 2),
            "mean_ms": round(statistics.fmean(ordered), 2),
        }


def _quantile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Messages:
    """Realistic messages from the district's building leaders, in their residents chats."""

    def __init__(self, district: District, seed: int) -> None:
        self.district = district
        self.rng = random.Random(seed)

    def _sender(self) -> tuple[dict[str, Any], dict[str, Any], str]:
        compound = self.rng.choice(self.district.compounds)
        building = self.rng.choice(compound.buildings)
        user = make_user(building.leader_user_id, f"楼组长{building.id}")
        return user, make_group_chat(compound.chat_id, f"{compound.id}居民群"), building.name

    def report(self) -> dict[str, Any]:
        user, chat, building = self._sender()
        text = self.rng.choice(ISSUE_TEXTS).format(b=building)
        return self._update(text, user, chat)

    def activity(self) -> dict[str, Any]:
        user, chat, building = self._sender()
        n, h = self.rng.randint(3, 40), self.rng.randint(2, 9)
        text = self.rng.choice(ACTIVITY_TEXTS).format(b=building, n=n, h=h)
        return self._update(text, user, chat)

    def mixed(self, count: int) -> list[dict[str, Any]]:
        """One report for every five activities (the ratio of the stored records)."""
        return [self.report() if i % 6 == 0 else self.activity() for i in range(count)]

    @staticmethod
    def _update(text: str, user: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
        message_id = next_message_id(chat["id"])
        return make_message_update(text, user=user, chat=chat, message_id=message_id, date=NOW)


async def throughput(app: GovApplication, name: str, updates: list[dict[str, Any]]) -> Phase:
    """Process ``updates`` back to back, as the update fetcher does with a full queue."""
    objects = [to_update(u, app.bot) for u in updates]
    latencies = []
    start = time.perf_counter()
    for update in objects:
        began = time.perf_counter()
        await app.process_update(update)
        latencies.append((time.perf_counter() - began) * 1000)
    return Phase(name, len(objects), time.perf_counter() - start, latencies)


async def offered_load(
    app: GovApplication, name: str, updates: list[dict[str, Any]], rate: float
) -> Phase:
    """Updates arrive at ``rate``/s; one consumer processes them in order (PTB's fetcher)."""
    objects = [to_update(u, app.bot) for u in updates]
    queue: asyncio.Queue[tuple[Update, float] | None] = asyncio.Queue()
    latencies: list[float] = []

    async def produce() -> None:
        t0 = time.perf_counter()
        for i, update in enumerate(objects):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((update, time.perf_counter()))
        queue.put_nowait(None)

    async def consume() -> None:
        while (item := await queue.get()) is not None:
            update, arrived = item
            await app.process_update(update)
            latencies.append((time.perf_counter() - arrived) * 1000)

    start = time.perf_counter()
    await asyncio.gather(produce(), consume())
    return Phase(name, len(objects), time.perf_counter() - start, latencies)


FAILURES: list[BaseException] = []  # what the handlers raised, other than a rule's refusal


async def _record_failure(_update: object, context: GovContext) -> None:
    """The bot answers a failed update with an apology and goes on; the benchmark must not."""
    if context.error is not None and not isinstance(context.error, DomainError):
        FAILURES.append(context.error)


async def reply_only(update: Update, context: GovContext) -> None:  # noqa: ARG001
    """The baseline's one handler: answer every message with a fixed text, with PTB's own
    ``Message.reply_text`` (as in every run since the first: govbot's ``reply`` has skipped
    building the sent ``Message`` since the fifth pass, a saving the baseline must not share)."""
    if update.effective_message is not None:
        await update.effective_message.reply_text("收到")


def make_app(
    district: District, clock: MovableClock, *, baseline: bool, synchronous: str | None = None
) -> GovApplication:
    """The bot's Application on the district; ``synchronous`` overrides storage.db's
    ``PRAGMA synchronous=NORMAL`` (only for the what-if measurement)."""
    settings = Settings(_env_file=None, database_url=district.url)  # type: ignore[call-arg]
    api = OfflineBotAPI(clock=clock, message_ids=next_message_id)
    database = Database(district.url)
    if synchronous is not None:

        def override(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

        event.listen(database.engine, "connect", override)
    app = build_application(settings, api, clock=clock, database=database)
    if baseline:
        for group, handlers in list(app.handlers.items()):
            for handler in list(handlers):
                app.remove_handler(handler, group)
        app.add_handler(MessageHandler(filters.ALL, reply_only))
    app.add_error_handler(_record_failure)
    return app


STATES = ("empty", "loaded")  # the district without and with the stored records


async def measure(
    districts: dict[str, District], clock: MovableClock, seed: int
) -> dict[str, Any]:
    """Baseline, reports, activities and the offered-load latency on both districts.

    The throughput phases run in ``ROUNDS`` interleaved rounds (the baseline; then reports,
    activities and mixed, each batch on both districts in turn; again): the machine's speed
    moves by 2x within a minute, and a ratio is only meaningful between batches that ran side
    by side. Each phase reports the median of its rounds' rates and the median of its
    per-round ratios to that round's baseline; the degradation is the median of the per-round
    ratios of the loaded district's rate to the empty one's.
    """
    messages = Messages(districts["empty"], seed)
    base = make_app(districts["empty"], clock, baseline=True)
    apps = {state: make_app(districts[state], clock, baseline=False) for state in STATES}
    kinds = {
        "reports": lambda: [messages.report() for _ in range(BATCH)],
        "activities": lambda: [messages.activity() for _ in range(BATCH)],
        "mixed": lambda: messages.mixed(BATCH),
    }
    baselines: list[Phase] = []
    rounds: dict[str, dict[str, list[Phase]]] = {s: {k: [] for k in kinds} for s in STATES}
    count = int(OFFERED_RATE * OFFERED_SECONDS)
    async with base, apps["empty"], apps["loaded"]:
        warm_up = messages.mixed(30)  # org tree, catalogues, SQL caches
        for app in (base, *apps.values()):
            await throughput(app, "warm-up", warm_up)
        for app in apps.values():
            await settle_heap(app)  # as `govbot run` does once started (its post_init)
        for number in range(ROUNDS):
            baselines.append(await throughput(base, "baseline_reply_only", messages.mixed(BATCH)))
            order = STATES if number % 2 == 0 else STATES[::-1]
            for kind, batch in kinds.items():
                updates = batch()
                for state in order:
                    rounds[state][kind].append(await throughput(apps[state], kind, updates))
        base_load = await offered_load(
            base, "baseline_at_100_per_s", messages.mixed(count), OFFERED_RATE
        )
        loads = {
            state: await offered_load(
                apps[state], "mixed_at_100_per_s", messages.mixed(count), OFFERED_RATE
            )
            for state in STATES
        }
    # What if every commit were flushed to disk (fsync) before the reply? (one batch each, after)
    what_if: dict[str, Phase] = {}
    for state in STATES:
        durable = make_app(districts[state], clock, baseline=False, synchronous="FULL")
        async with durable:
            await throughput(durable, "warm-up", messages.mixed(10))
            what_if[state] = await throughput(
                durable, "mixed_if_synchronous_full", messages.mixed(BATCH)
            )
    if FAILURES:
        raise RuntimeError(f"{len(FAILURES)} updates failed, the first with {FAILURES[0]!r}")
    median_baseline = statistics.median(b.rate for b in baselines)
    results: dict[str, Any] = {}
    for state, label in zip(STATES, ("district, no records stored", _LOADED_LABEL), strict=True):
        phases = {"baseline_reply_only": baselines, **rounds[state]}
        table = {name: _rounds_summary(runs, baselines) for name, runs in phases.items()}
        table[base_load.name] = {**base_load.summary(), "offered_per_s": OFFERED_RATE}
        table[loads[state].name] = {**loads[state].summary(), "offered_per_s": OFFERED_RATE}
        table[what_if[state].name] = {
            **what_if[state].summary(),
            "ratio_to_baseline": round(what_if[state].rate / median_baseline, 3),
        }
        _print_table(f"{label} ({ROUNDS} interleaved rounds of {BATCH}; medians)", table)
        results[state] = table
    results["degradation"] = {
        kind: _lost(rounds["empty"][kind], rounds["loaded"][kind]) for kind in kinds
    }
    return results


def _lost(empty: list[Phase], loaded: list[Phase]) -> float:
    """The share of throughput lost on the loaded district: one minus the median, over the
    rounds, of its batch's rate to the rate of the empty district's batch beside it."""
    kept = statistics.median(b.rate / a.rate for a, b in zip(empty, loaded, strict=True))
    return round(1 - kept, 3)


_LOADED_LABEL = (
    f"with {STORED_ISSUES:,} issues and {STORED_ACTIVITIES:,} activities stored, side by side"
)


def _print_table(title: str, table: dict[str, Any]) -> None:
    print(f"\n{title}")
    print(f"{'phase':<26}{'msg/s':>9}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for name, row in table.items():
        ratio = f"{row.get('ratio_to_baseline', float('nan')):.2f}"
        print(
            f"{name:<26}{row['messages_per_s']:>9.1f}{ratio:>8}"
            f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['mean_ms']:>9.2f}"
        )


def _rounds_summary(phases: list[Phase], baselines: list[Phase]) -> dict[str, Any]:
    """Latencies pooled over the rounds; rate and ratio as the medians of the rounds'."""
    pooled = Phase(
        phases[0].name,
        sum(p.messages for p in phases),
        sum(p.seconds for p in phases),
        [ms for p in phases for ms in p.latencies_ms],
    )
    return {
        **pooled.summary(),
        "messages_per_s": round(statistics.median(p.rate for p in phases), 1),
        "ratio_to_baseline": round(
            statistics.median(p.rate / b.rate for p, b in zip(phases, baselines, strict=True)), 3
        ),
        "rounds_messages_per_s": [round(p.rate, 1) for p in phases],
    }


def query_plans(district: District, clock: MovableClock, seed: int) -> dict[str, Any]:
    """Capture the SQL of one report and one activity; EXPLAIN QUERY PLAN each statement."""
    messages = Messages(district, seed)
    statements: dict[str, list[str]] = {}

    async def capture() -> None:
        app = make_app(district, clock, baseline=False)
        engine = app.bot_data["services"].db.engine
        current: list[str] = []

        def trace(dbapi_connection: Any, *_: Any) -> None:
            # The driver's own trace: it sees the statements storage runs on the sqlite3
            # connection directly too, with their parameters written in.
            dbapi_connection.set_trace_callback(current.append)

        event.listen(engine, "checkout", trace)
        async with app:
            for kind in ("report", "activity"):
                current.clear()
                update = getattr(messages, kind)()
                await app.process_update(to_update(update, app.bot))
                statements[kind] = list(current)
        event.remove(engine, "checkout", trace)

    asyncio.run(capture())
    if FAILURES:
        raise RuntimeError(f"{len(FAILURES)} updates failed, the first with {FAILURES[0]!r}")
    db = sqlite3.connect(district.path)
    plans: dict[str, Any] = {}
    for kind, sqls in statements.items():
        scans = []
        for sql in dict.fromkeys(sqls):
            if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
                continue
            rows = db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            detail = [row[-1] for row in rows]
            full = [d for d in detail if d.startswith("SCAN") and "CONSTANT ROW" not in d]
            if full:
                scans.append({"sql": " ".join(sql.split())[:200], "plan": detail})
        plans[kind] = {"statements": len(sqls), "full_scans": scans}
        print(f"{kind}: {len(sqls)} SQL statements, {len(scans)} with a full-table scan")
        for scan in scans:
            print(f"   {scan['plan']}  ←  {scan['sql'][:120]}")
    db.close()
    return plans


def copy_district(district: District, path: Path) -> District:
    """The same district in a second database file (SQLite's online backup)."""
    with (
        closing(sqlite3.connect(district.path)) as source,
        closing(sqlite3.connect(path)) as target,
    ):
        source.backup(target)
    return replace(district, url=f"sqlite:///{path}", path=path)


def main() -> dict[str, Any]:
    clock = MovableClock(NOW)
    with tempfile.TemporaryDirectory(prefix="govbot-bench-") as folder:
        started = time.perf_counter()
        empty = build_district(Path(folder) / "empty.sqlite", now=NOW)
        print(f"district {empty.counts()} built in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        loaded = copy_district(empty, Path(folder) / "loaded.sqlite")
        add_records(loaded, issues=STORED_ISSUES, activities=STORED_ACTIVITIES, end=NOW)
        print(
            f"a copy with {STORED_ISSUES:,} issues and {STORED_ACTIVITIES:,} activities stored "
            f"in {time.perf_counter() - started:.1f} s"
        )
        measured = asyncio.run(measure({"empty": empty, "loaded": loaded}, clock, seed=1))
        plans = query_plans(loaded, clock, seed=3)
    degradation = measured.pop("degradation")
    # Also from the phases' medians (the rounds' rates), as a check on the paired figure.
    raw = {
        name: round(
            1
            - measured["loaded"][name]["messages_per_s"]
            / measured["empty"][name]["messages_per_s"],
            3,
        )
        for name in degradation
    }
    print(f"\nthroughput lost with records stored: {degradation} (from the medians: {raw})")
    result = {
        "district": empty.counts(),
        "stored": {"issues": STORED_ISSUES, "activities": STORED_ACTIVITIES},
        "targets": TARGETS,
        **measured,
        "degradation": degradation,
        "degradation_raw": raw,
        "query_plans": plans,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
