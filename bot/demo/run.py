"""Run the demo: build a synthetic district and drive it through the real bot, offline.

Everything goes through the same paths a deployment uses: the roster is imported from a
spreadsheet by `import_roster_file`, people join by opening invite links that committee members
create with /invite, chats are bound with /bind, and every message after that is an update
processed by the real Application over the offline transport, with a clock the demo moves.
"""

from __future__ import annotations

import asyncio
import csv
import re
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from tqdm import tqdm

from bot.app import build_application
from bot.demo.traffic import Tally, Traffic
from bot.demo.world import Person, World, build_world
from bot.digest.charts import ChartCache
from bot.digest.compute import score_week
from bot.digest.fanout import DIGEST_KIND
from bot.digest.folder import render_week_folder
from bot.digest.weeks import digest_week
from bot.driver import OfflineDriver, texts
from bot.offline import OfflineBotAPI, SentCall
from bot.settings import Settings
from bot.updates import next_message_id
from bot.weekly import WEEKLY_JOB, media_dir_for
from handlers.checkins import ASK_JOB, SILENT_JOB
from handlers.issue_jobs import SCAN_JOB_NAME
from handlers.ledger import ledger_workbook
from storage.clock import MovableClock
from storage.db import Database
from storage.invites import create_invite
from storage.ledger import read_ledger
from storage.org import resolve_unit, unit_path
from storage.outbox import sent_count
from storage.roster_import import import_roster_file
from storage.schema import upgrade_database
from storage.snapshots import read_week
from storage.tables import Audience, Role

T = TypeVar("T")

SHANGHAI = ZoneInfo("Asia/Shanghai")
REBUILD_AFTER_WEEKS = 4
CHECKIN_DAY = 4  # Friday, the default check-in day

# The demo's twelve weeks end on the Sunday before this Monday 09:00 Shanghai time.
DEMO_END = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoSize:
    towns: int
    committees_per_town: int
    compounds_per_committee: int


# The default district is sized so that `make demo` (12 weeks) finishes in under a minute on a
# 2-core machine while still having two towns, several committees and all four housing types.
SIZES = {
    "default": DemoSize(towns=2, committees_per_town=2, compounds_per_committee=2),
    "large": DemoSize(towns=2, committees_per_town=3, compounds_per_committee=2),
    "small": DemoSize(towns=1, committees_per_town=2, compounds_per_committee=2),
}


@dataclass
class DemoChats:
    """The group chats of the demo district, by unit path."""

    residents: dict[str, int] = field(default_factory=dict)  # compound path → chat id
    committee: dict[str, int] = field(default_factory=dict)  # committee path → chat id
    town: dict[str, int] = field(default_factory=dict)  # town → chat id


@dataclass
class DemoResult:
    out_dir: Path
    world: World
    chats: DemoChats
    weeks: int
    counts: Counter[str] = field(default_factory=Counter)
    tally: Tally = field(default_factory=Tally)
    last_week: str = ""
    rankings: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        housing = Counter(c.housing.value for c in self.world.compounds)
        roles = Counter(p.role.value for p in self.world.people)
        lines = [
            "govbot demo — a synthetic district driven through the real bot, offline",
            f"  district: {len(self.world.towns)} 街镇, {len(self.world.committees)} 居委, "
            f"{len(self.world.compounds)} 小区 "
            f"({', '.join(f'{k} {v}' for k, v in sorted(housing.items()))}), "
            f"{sum(len(c.buildings) for c in self.world.compounds)} 楼组",
            f"  people: {len(self.world.people)} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(roles.items()))})",
            f"  chats bound: {len(self.chats.residents)} residents, "
            f"{len(self.chats.committee)} committee, {len(self.chats.town)} town",
            f"  {self.weeks} weeks: {self.tally.reports} issues reported "
            f"({self.tally.photos} with photos), {self.tally.dispatched} dispatched, "
            f"{self.tally.resolved} resolved, {self.tally.ratings} rated, "
            f"{self.tally.reopened} reopened; {self.tally.activities} activities logged; "
            f"{self.tally.checkins} weekly check-ins",
            f"  updates processed: {self.counts['updates']}, bot messages: {self.counts['sent']}, "
            f"weekly digests delivered: {self.counts['digests']}",
            f"  index for {self.last_week} (top and bottom within each housing type):",
            *(
                f"    {housing:<12} ▲ {ranked[0][0]} {ranked[0][1]:.1f}"
                + (f"   ▼ {ranked[-1][0]} {ranked[-1][1]:.1f}" if len(ranked) > 1 else "")
                for housing, ranked in sorted(self.rankings.items())
            ),
            f"  took {sum(self.timings.values()):.0f} s: "
            + ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in self.timings.items()),
            f"  files in {self.out_dir}/: digests/{self.last_week}/ (text and charts), "
            f"ledger.xlsx (台账), roster.csv, govbot.sqlite "
            f"(try: govbot chat --db {self.out_dir}/govbot.sqlite)",
        ]
        return "\n".join(lines)


class Demo:
    """One run of the demo; the stages are methods so tests can run a shortened one."""

    def __init__(
        self, out_dir: Path, *, size: DemoSize, weeks: int, seed: int, progress: bool
    ) -> None:
        self.out_dir = out_dir
        self.weeks = weeks
        self.progress = progress
        self.world = build_world(
            towns=size.towns,
            committees_per_town=size.committees_per_town,
            compounds_per_committee=size.compounds_per_committee,
            seed=seed,
        )
        self.clock = MovableClock(DEMO_END - timedelta(weeks=weeks))
        self.started = self.clock.now()
        self.seed = seed
        self.weeks_scored: list[str] = []
        self.timings: defaultdict[str, float] = defaultdict(float)
        self._last_lap = time.perf_counter()
        self.rankings: dict[str, list[tuple[str, float]]] = {}
        self.chats = DemoChats()
        self.counts: Counter[str] = Counter()
        self.database_url = f"sqlite:///{out_dir / 'govbot.sqlite'}"
        self._digest_job: asyncio.Task[list[SentCall]] | None = None

    async def run(self) -> DemoResult:
        self._prepare_folder()
        upgrade_database(self.database_url)
        self.database = Database(self.database_url)
        self._import_roster()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=self.database_url,
            bot_username="govbot_demo_bot",
        )
        api = OfflineBotAPI(clock=self.clock, message_ids=next_message_id)
        app = build_application(settings, api, clock=self.clock, database=self.database)
        async with app:
            self.app = app
            self.driver = OfflineDriver(app=app, api=api, clock=self.clock)
            await self._join_everyone()
            await self._bind_chats()
            self._lap("setup")
            await self._simulate_weeks()
        await asyncio.to_thread(self.database.write_later)  # the last replies' ids, queued
        self.counts["sent"] = len(api.calls)
        await asyncio.to_thread(self._write_digests)
        await asyncio.to_thread(self._write_ledger)
        self._lap("files")
        return DemoResult(
            self.out_dir,
            self.world,
            self.chats,
            self.weeks,
            self.counts,
            self.traffic.tally,
            self.weeks_scored[-1],
            self.rankings,
            dict(self.timings),
        )

    async def _simulate_weeks(self) -> None:
        self.traffic = Traffic(
            world=self.world,
            driver=self.driver,
            clock=self.clock,
            residents_chat=self.chats.residents,
            committee_chat=self.chats.committee,
            seed=self.seed,
        )
        start = self.started = self.clock.now()
        for week in self._progress(list(range(self.weeks)), "weeks"):
            monday = start + timedelta(weeks=week)
            self.traffic.plan_week(monday)
            await self.traffic.run_until(monday + timedelta(weeks=1), self._on_the_hour)
        await self._digests_sent()  # the last week's, started on the Monday the demo ends
        self.counts["updates"] += self.traffic.updates
        with self.database.read_session() as session:
            self.counts["digests"] = sent_count(session, kind=DIGEST_KIND)
        self._lap("traffic and jobs")

    def _lap(self, phase: str) -> None:
        """Add the time since the last lap to ``phase`` (the weekly digests are kept apart)."""
        now = time.perf_counter()
        elapsed = now - self._last_lap
        if phase == "traffic and jobs":
            elapsed -= self.timings["weekly digests"]
        self.timings[phase] += elapsed
        self._last_lap = now

    def _write_digests(self) -> None:
        """The last week's digest of every compound, committee and town, as text and PNG."""
        week = self.weeks_scored[-1]
        render_week_folder(
            self.database,
            week=week,
            out=self.out_dir / "digests" / week,
            now=self.clock.now(),
            tz=SHANGHAI,
            charts=ChartCache(media_dir_for(self.database_url) / week),  # drawn on Monday
        )
        with self.database.read_session() as session:
            scores = read_week(session, period=week)
            names = {i: unit_path(session, int(i)).split("/")[-1] for i in scores.index}
        self.rankings = {
            housing: [
                (names[i], float(row["total"]))
                for i, row in group.sort_values("total", ascending=False).iterrows()
            ]
            for housing, group in scores.groupby("housing_type")
        }

    def _write_ledger(self) -> None:
        with self.database.read_session() as session:
            ledger = read_ledger(session, unit_id=None)
        (self.out_dir / "ledger.xlsx").write_bytes(ledger_workbook(ledger, "zh", SHANGHAI))

    async def _on_the_hour(self) -> None:
        """The scheduled jobs, at the simulated hours a deployment would run them."""
        local = self.clock.now().astimezone(SHANGHAI)
        await self._run_job(SCAN_JOB_NAME)
        if local.weekday() == CHECKIN_DAY and local.hour == 17:
            asked = await self._run_job(ASK_JOB)
            await self.traffic.answer_checkins([c for c in asked if c.reply_markup])
        if local.hour == 18:
            await self._run_job(SILENT_JOB)
        if local.weekday() == 0 and local.hour == 9 and self.clock.now() > self.started:
            await self._weekly_digest()

    async def _weekly_digest(self) -> None:
        """Monday 09:00: last week's digests go to every bound chat. After the first month the
        thresholds are rebuilt once from four weeks of records (until then they rest on the
        first week alone), as an office would do after its first month.

        The week is scored here, before the new week's traffic, so the scores never depend on
        how fast the machine is. The rest of the Monday job (alerts, rendering, drawing the
        charts in worker processes, sending) then runs in the background while the traffic goes
        on, as a deployment's job queue runs it beside the updates; it finds the week scored."""
        await self._digests_sent()
        started = time.perf_counter()
        week = digest_week(self.clock.now(), SHANGHAI)
        self.weeks_scored.append(week)
        await asyncio.to_thread(
            score_week,
            self.database,
            week=week,
            now=self.clock.now(),
            tz=SHANGHAI,
            rebuild_thresholds=len(self.weeks_scored) == REBUILD_AFTER_WEEKS,
        )
        self.timings["weekly digests"] += time.perf_counter() - started
        self._digest_job = asyncio.create_task(self._run_job(WEEKLY_JOB))

    async def _digests_sent(self) -> None:
        """Wait for the Monday job still running in the background, if any."""
        if self._digest_job is not None:
            started = time.perf_counter()
            await self._digest_job
            self._digest_job = None
            self.timings["weekly digests"] += time.perf_counter() - started

    async def _run_job(self, name: str) -> list[SentCall]:
        before = len(self.driver.api.calls)
        for job in self.app.job_queue.get_jobs_by_name(name):  # type: ignore[union-attr]
            await job.run(self.app)
        return list(self.driver.api.calls[before:])

    def _prepare_folder(self) -> None:
        if self.out_dir.exists():
            shutil.rmtree(self.out_dir)
        self.out_dir.mkdir(parents=True)

    def _import_roster(self) -> None:
        path = self.out_dir / "roster.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(self.world.roster_rows())
        with self.database.session() as session:
            report = import_roster_file(session, path=path, now=self.clock.now())
        if not report.ok:
            raise RuntimeError(f"demo roster did not import: {report.problems}")

    async def _send(self, text: str, person: Person, chat: dict[str, object] | None = None) -> str:
        self.counts["updates"] += 1
        sent = await self.driver.send(text, user_id=person.user_id, name=person.name, chat=chat)
        return texts(sent)

    async def _join_everyone(self) -> None:
        """Staff join by links printed on the command line; the rest by /invite from staff."""
        staff_roles = (Role.TOWN, Role.COMMITTEE)
        for person in self.world.people:
            if person.role in staff_roles:
                await self._join(person, self._bootstrap_invite(person))
        committee_of = {path: self._committee_member(path) for _, path in self._committee_paths()}
        others = [p for p in self.world.people if p.role not in staff_roles]
        for person in self._progress(others, "joining"):
            inviter = committee_of["/".join(person.unit.split("/")[:2])]
            unit = "/".join(person.unit.split("/")[2:]) or person.unit
            reply = await self._send(f"/invite {person.role.value} {unit}", inviter)
            match = re.search(r"start=([\w-]+)", reply)
            if match is None:
                raise RuntimeError(f"/invite did not give a link for {person}: {reply}")
            await self._join(person, match.group(1))

    def _bootstrap_invite(self, person: Person) -> str:
        with self.database.session() as session:
            unit = resolve_unit(session, person.unit)
            invite = create_invite(
                session,
                role=person.role,
                unit_id=unit.id or 0,
                created_by=None,
                now=self.clock.now(),
            )
        return invite.code

    async def _join(self, person: Person, code: str) -> None:
        reply = await self._send(f"/start {code}", person)
        if "欢迎加入" not in reply:
            raise RuntimeError(f"{person.name} could not join: {reply}")

    def _committee_paths(self) -> Iterable[tuple[str, str]]:
        for town, committee in self.world.committees:
            yield town, f"{town}/{committee}"

    def _committee_member(self, committee_path: str) -> Person:
        return next(
            p for p in self.world.people if p.role == Role.COMMITTEE and p.unit == committee_path
        )

    async def _bind_chats(self) -> None:
        chat_ids = iter(range(-1_001_000_000_001, -1_002_000_000_000, -1))
        for compound in self.world.compounds:
            chat_id = next(chat_ids)
            member = self._committee_member(f"{compound.town}/{compound.committee}")
            unit = "/".join(compound.path.split("/")[2:])
            await self._bind(member, unit, Audience.RESIDENTS, chat_id, f"{compound.name}居民群")
            self.chats.residents[compound.path] = chat_id
        for _, path in self._committee_paths():
            chat_id = next(chat_ids)
            member = self._committee_member(path)
            name = path.split("/")[-1]
            await self._bind(member, name, Audience.COMMITTEE, chat_id, f"{name}工作群")
            self.chats.committee[path] = chat_id
        for town in self.world.towns:
            chat_id = next(chat_ids)
            officer = next(p for p in self.world.by_role(Role.TOWN) if p.unit == town)
            await self._bind(officer, town, Audience.TOWN, chat_id, f"{town}工作群")
            self.chats.town[town] = chat_id

    async def _bind(
        self, person: Person, unit: str, audience: Audience, chat_id: int, title: str
    ) -> None:
        reply = await self._send(f"/bind {unit} {audience.value}", person)
        match = re.search(r"/bind ([A-Z2-9]{8})", reply)
        if match is None:
            raise RuntimeError(f"no binding code for {unit}: {reply}")
        group = self.driver.group(chat_id, title)
        reply = await self._send(f"/bind {match.group(1)}", person, chat=group)
        if "绑定" not in reply:
            raise RuntimeError(f"binding {title} failed: {reply}")

    def _progress(self, items: list[T], label: str) -> Iterable[T]:
        if not self.progress:
            return items
        return tqdm(items, desc=label, unit="", file=sys.stderr, leave=False)


async def run_demo(
    out_dir: Path,
    *,
    size: str = "default",
    weeks: int = 12,
    seed: int = 2026,
    progress: bool = True,
) -> DemoResult:
    demo = Demo(out_dir, size=SIZES[size], weeks=weeks, seed=seed, progress=progress)
    return await demo.run()
