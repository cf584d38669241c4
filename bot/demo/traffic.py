"""Twelve weeks of what community workers actually send, driven through the real bot.

Everything happens in simulated time on an event queue: a report at 09:40 is accepted and
dispatched by the committee a few hours later through the card's buttons, handled by the
property company days later (sometimes after its deadline, so the deadline scan reminds, alerts
and escalates), and rated by the reporter in private. Activities are logged in the styles the
parser understands and confirmed; building leaders answer the weekly check-in, except a few
who go silent. The scheduled jobs run at their simulated times.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.demo.world import Compound, Person, World
from bot.driver import OfflineDriver, buttons
from bot.offline import SentCall
from storage.clock import MovableClock
from storage.tables import Role

# What residents' problems sound like, with the building filled in ({b}).
REPORTS = [
    "{b}楼道堆物，消防通道被占",
    "{b}门口有人飞线充电，电瓶车停在楼道里，太危险了",
    "{b}顶楼漏水，502室天花板一直在滴水",
    "小区东门乱停车，消防车道被堵死了",
    "{b}电梯故障，已经停了两天，老人上下楼很困难",
    "垃圾分类点有人乱扔小包垃圾，味道很大",
    "{b}楼上装修噪声太大，晚上十点还在敲",
    "绿化带被踩坏了，好几棵冬青倒了",
    "{b}前面的路灯坏了，晚上很黑",
    "小区里流浪猫太多了，晚上叫得睡不着",
    "{b}楼道里贴满了小广告",
    "{b}下水道堵塞，污水漫到了路上",
    "{b}有人搞群租，一套房住了十几个人，进出很杂",
    "{b}独居的王阿姨好几天没出门了，她女儿电话13912345678",
    "{b}旁边有人违法搭建，在绿地上搭了个棚子",
    "地桩锁占了公共车位，别人停不进去",
    "{b}门口的道路破损，坑很深，老人容易摔倒",
    "物业服务太差，保洁一周才来一次",
]
ACTIVITIES = [
    "#志愿 今天组织{n}名志愿者清理{b}楼道，共2小时",
    "#志愿 {n}名志愿者在小区门口帮老人测血压，一个半小时",
    "#走访 走访独居老人{h}户",
    "#走访 今天上午走访{b}困难家庭{h}户，了解生活情况",
    "#巡查 下午2点到4点巡查小区消防通道和电瓶车充电",
    "#巡查 夜间巡查一小时，{b}楼道灯已报修",
    "#服务 家门口服务站为{n}位居民代办医保，共3小时",
    "#培训 垃圾分类培训 参加{n}人",
]
COMMITTEE_ACTIVITIES = [
    "#会议 听证会 停车收费方案 到会{n}人 通过",
    "#会议 协调会 电梯加装费用分摊 到会{n}人 待定",
    "#会议 评议会 物业服务评议 到会{n}人 通过",
    "#会议 议事会 楼道堆物整治 {n}人参加 通过",
    "#党建 三会一课 {n}名党员参加，学习社区治理文件",
    "#演练 消防演练 参加{n}人",
]


@dataclass(order=True)
class Event:
    at: datetime
    seq: int
    action: Callable[[], Awaitable[None]] = field(compare=False)


@dataclass
class Tally:
    reports: int = 0
    dispatched: int = 0
    resolved: int = 0
    ratings: int = 0
    reopened: int = 0
    activities: int = 0
    checkins: int = 0
    photos: int = 0


class Traffic:
    def __init__(
        self,
        *,
        world: World,
        driver: OfflineDriver,
        clock: MovableClock,
        residents_chat: dict[str, int],
        committee_chat: dict[str, int],
        seed: int,
    ) -> None:
        self.world = world
        self.driver = driver
        self.clock = clock
        self.residents_chat = residents_chat
        self.committee_chat = committee_chat
        self.rng = random.Random(seed)
        self.queue: list[Event] = []
        self.seq = itertools.count()
        self.tally = Tally()
        self.updates = 0
        self.next_hour: datetime | None = None  # the next simulated hour to run the jobs of
        self.people = {p.user_id: p for p in world.people}
        # Some compounds run better than others; it shows in how fast things get handled.
        self.quality = {c.path: self.rng.uniform(0.2, 1.0) for c in world.compounds}
        # A few buildings whose leader stops answering the weekly check-in.
        leaders = world.by_role(Role.BUILDING_LEADER)
        self.silent = {p.user_id for p in self.rng.sample(leaders, max(1, len(leaders) // 25))}

    # -- the event queue -------------------------------------------------------------------

    def at(self, moment: datetime, action: Callable[[], Awaitable[None]]) -> None:
        heapq.heappush(self.queue, Event(moment, next(self.seq), action))

    async def run_until(self, end: datetime, on_hour: Callable[[], Awaitable[None]]) -> None:
        """Run the events before ``end`` in time order; ``on_hour`` runs once every simulated
        hour (an hour at the end of one call is not run again by the next)."""
        if self.next_hour is None:
            self.next_hour = self.clock.now().replace(minute=0, second=0, microsecond=0)
        while True:
            due = self.queue[0].at if self.queue and self.queue[0].at < end else end
            while self.next_hour <= due:
                self.clock.set(max(self.clock.now(), self.next_hour))
                self.next_hour += timedelta(hours=1)
                await on_hour()
            if not self.queue or self.queue[0].at >= end:
                self.clock.set(end)
                return
            event = heapq.heappop(self.queue)
            self.clock.set(max(self.clock.now(), event.at))
            await event.action()

    # -- one week of plans -----------------------------------------------------------------

    def plan_week(self, monday: datetime) -> None:
        for compound in self.world.compounds:
            quality = self.quality[compound.path]
            for _ in range(self._poisson(2.5 - quality)):
                self.at(self._daytime(monday), self._report(compound))
            for _ in range(self._poisson(1.0 + 2.0 * quality)):
                self.at(self._daytime(monday), self._activity(compound))
        for town, committee in self.world.committees:
            staff = self._committee_staff(f"{town}/{committee}")
            self.at(self._daytime(monday), self._committee_activity(staff))

    def _daytime(self, monday: datetime) -> datetime:
        day = self.rng.randrange(7)
        minutes = self.rng.randrange(8 * 60, 20 * 60)  # 08:00–20:00 local (UTC+8)
        return monday + timedelta(days=day, minutes=minutes - 9 * 60)

    def _poisson(self, lam: float) -> int:
        count, limit, product = 0, pow(2.718281828, -max(lam, 0.0)), self.rng.random()
        while product > limit:
            count += 1
            product *= self.rng.random()
        return count

    # -- reports and their handling ----------------------------------------------------------

    def _report(self, compound: Compound) -> Callable[[], Awaitable[None]]:
        async def report() -> None:
            reporter = self._reporter(compound)
            building = self.rng.choice(compound.buildings)
            text = "#报事 " + self.rng.choice(REPORTS).format(b=building)
            chat = self.driver.group(self.residents_chat[compound.path], f"{compound.name}居民群")
            photo = f"photo-{next(self.seq)}" if self.rng.random() < 0.4 else None
            sent = await self._send(text, reporter, chat, photo=photo)
            self.tally.reports += 1
            self.tally.photos += photo is not None
            card = self._card(sent)
            if card is not None:
                delay = timedelta(minutes=self.rng.randrange(20, 6 * 60))
                self.at(self.clock.now() + delay, self._dispatch(compound, card, reporter))

        return report

    def _reporter(self, compound: Compound) -> Person:
        leaders = [
            p
            for p in self.world.by_role(Role.BUILDING_LEADER)
            if p.unit.startswith(compound.path + "/")
        ]
        grid = [p for p in self.world.by_role(Role.GRID_WORKER) if p.unit.endswith(compound.grid)]
        return self.rng.choice(leaders + grid)

    @staticmethod
    def _card(sent: list[SentCall]) -> SentCall | None:
        """The new issue's card in the committee chat (the message with dispatch buttons)."""
        for call in sent:
            if any(data.startswith("iss:dsp:") for _, data in buttons(call)):
                return call
        return None

    def _dispatch(
        self, compound: Compound, card: SentCall, reporter: Person
    ) -> Callable[[], Awaitable[None]]:
        async def dispatch() -> None:
            staff = self._committee_staff(f"{compound.town}/{compound.committee}")
            options = {
                data.split(":")[-1]: data
                for _, data in buttons(card)
                if data.startswith("iss:dsp:")
            }
            party = "property" if self.rng.random() < 0.7 else "committee"
            sent = await self._press(
                options[party], staff, self._committee_group(compound), card.message_id
            )
            self.tally.dispatched += 1
            handler = staff if party == "committee" else self._property(compound)
            notice = next((c for c in sent if c.chat_id == handler.user_id and buttons(c)), None)
            quality = self.quality[compound.path]
            # Well-run compounds fix things in a day or two; others take a week or more.
            days = self.rng.expovariate(1 / (1.0 + 8.0 * (1 - quality)))
            due = self.clock.now() + timedelta(days=days, hours=self.rng.randrange(1, 8))
            self.at(due, self._resolve(card, notice, handler, compound, reporter))

        return dispatch

    def _resolve(
        self,
        card: SentCall,
        notice: SentCall | None,
        handler: Person,
        compound: Compound,
        reporter: Person,
    ) -> Callable[[], Awaitable[None]]:
        async def resolve() -> None:
            # The property company answers the private notice it got; the committee presses
            # 已解决 on the (edited) card in its own group.
            number = next(d for _, d in buttons(card) if d.startswith("iss:dsp:")).split(":")[2]
            if notice is not None:
                chat, message_id = None, notice.message_id
            else:
                chat, message_id = self._committee_group(compound), card.message_id
            sent = await self._press(f"iss:res:{number}", handler, chat, message_id)
            self.tally.resolved += 1
            question = next(
                (c for c in sent if c.chat_id == reporter.user_id and buttons(c)), None
            )
            if question is not None and self.rng.random() < 0.85:
                later = self.clock.now() + timedelta(hours=self.rng.uniform(1, 30))
                self.at(later, self._rate(question, reporter))

        return resolve

    def _rate(self, question: SentCall, reporter: Person) -> Callable[[], Awaitable[None]]:
        async def rate() -> None:
            options = [d for _, d in buttons(question)]
            if self.rng.random() < 0.1:
                data = next(d for d in options if d.startswith("iss:nfix:"))
                self.tally.reopened += 1
            else:
                stars = self.rng.choices([3, 4, 5], weights=[2, 4, 5])[0]
                data = next(
                    d for d in options if d.startswith("iss:fix:") and d.endswith(f":{stars}")
                )
                self.tally.ratings += 1
            await self._press(data, reporter, None, question.message_id)

        return rate

    # -- activities and check-ins ----------------------------------------------------------

    def _activity(self, compound: Compound) -> Callable[[], Awaitable[None]]:
        async def activity() -> None:
            leaders = [
                p
                for p in self.world.by_role(Role.BUILDING_LEADER)
                if p.unit.startswith(compound.path + "/")
            ]
            person = self.rng.choice(leaders)
            building = person.unit.rsplit("/", 1)[-1]
            text = self.rng.choice(ACTIVITIES).format(
                n=self.rng.randrange(3, 16), h=self.rng.randrange(2, 9), b=building
            )
            await self._log_and_confirm(text, person)

        return activity

    def _committee_activity(self, person: Person) -> Callable[[], Awaitable[None]]:
        async def activity() -> None:
            text = self.rng.choice(COMMITTEE_ACTIVITIES).format(n=self.rng.randrange(12, 45))
            await self._log_and_confirm(text, person)

        return activity

    async def _log_and_confirm(self, text: str, person: Person) -> None:
        sent = await self._send(text, person, None)
        confirm = next((d for c in sent for _, d in buttons(c) if d.startswith("act:ok:")), None)
        if confirm is not None:
            message_id = next(c.message_id for c in sent if buttons(c))
            await self._press(confirm, person, None, message_id)
            self.tally.activities += 1

    async def answer_checkins(self, asked: list[SentCall]) -> None:
        """Building leaders answer the weekly question, most with 无异常, the silent never."""
        for question in asked:
            person = self.people.get(int(question.chat_id or 0))
            options = buttons(question)
            if person is None or person.user_id in self.silent or not options:
                continue
            if self.rng.random() < 0.1:
                continue  # a busy week: no answer this time
            data = options[0][1]  # 无异常
            await self._press(data, person, None, question.message_id)
            self.tally.checkins += 1

    # -- helpers ---------------------------------------------------------------------------

    def _committee_staff(self, committee_path: str) -> Person:
        return next(p for p in self.world.by_role(Role.COMMITTEE) if p.unit == committee_path)

    def _property(self, compound: Compound) -> Person:
        return next(p for p in self.world.by_role(Role.PROPERTY) if p.unit == compound.path)

    def _committee_group(self, compound: Compound) -> dict[str, Any]:
        path = f"{compound.town}/{compound.committee}"
        return self.driver.group(self.committee_chat[path], f"{compound.committee}工作群")

    async def _send(
        self, text: str, person: Person, chat: dict[str, Any] | None, **kw: Any
    ) -> list[SentCall]:
        self.updates += 1
        return await self.driver.send(
            text, user_id=person.user_id, name=person.name, chat=chat, **kw
        )

    async def _press(
        self, data: str, person: Person, chat: dict[str, Any] | None, message_id: int | None
    ) -> list[SentCall]:
        self.updates += 1
        return await self.driver.press(
            data, user_id=person.user_id, chat=chat, message_id=message_id
        )
