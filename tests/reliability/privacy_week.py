"""A realistic week full of personal data, driven through the real Application, for the privacy
sweep (item 9): roster people with names and phones, reports and activities that name them,
their phones (mobile, landline, full-width digits), ID numbers and rooms, the closed loop,
check-ins, the deadline scan and the Monday digest with its charts.

Everything the bot sent is in ``harness.api.calls``; the charts' labels are captured by
:class:`ChartSpy` as the renderer hands them to ``bot/digest/charts.py``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot import updates as u
from bot.digest import charts
from bot.offline import SentCall
from bot.weekly import WEEKLY_JOB
from handlers.checkins import ASK_JOB, SILENT_JOB
from handlers.issue_jobs import SCAN_JOB_NAME
from storage.roster import ensure_member, grant_role
from storage.tables import Audience, Member, Role
from tests.bot.test_issue_loop_e2e import COMMITTEE_CHAT, RESIDENTS_CHAT, TOWN_CHAT
from tests.digest_seed import PERSONAL, seed_records
from tests.district import COMMITTEE_A, LEADER_A3, LEADER_B1, PROPERTY_A, RESIDENT_A
from tests.harness import Harness, buttons
from tests.reliability.support import WEST_RESIDENTS_CHAT

# Monday 2026-11-09 09:00 in Shanghai: the week the digest of Monday 2026-11-16 reports on.
WEEK_START = datetime(2026, 11, 9, 1, 0, tzinfo=UTC)
DIGEST_MONDAY = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
BUILDING_CHAT = -1001003  # residents group of 阳光小区 3号楼
RESIDENT_CHATS = (RESIDENTS_CHAT, BUILDING_CHAT, WEST_RESIDENTS_CHAT)

# People added to the roster, with their phones as typed: mobile, landline, full-width.
WANG, CHEN, OUYANG = 2001, 2002, 2003
PEOPLE = {
    WANG: ("王秀英", "13812345678", Role.VOLUNTEER, "sunshine"),
    CHEN: ("陈建国", "021-58881234", Role.PARTY_MEMBER, "sunshine"),
    OUYANG: ("欧阳娜娜", "１３９１２３４５６７８", Role.RESIDENT, "sunshine_3"),
}
ID_NUMBERS = ("310115198503127716", "31011519900101123X")
ROOMS = ("502室", "3-502", "1201室", "602室")
DISTRICT_NAMES = (
    "管理员老王", "街道小李", "张书记", "赵社工", "李阿姨", "钱师傅", "周网格",
    "阳光物业孙经理", "业委会吴主任", "志愿者小陈", "党员老刘", "居民小杨",
)  # fmt: skip


def secrets() -> dict[str, list[str]]:
    """What must never reach a residents chat, by kind (phones and IDs as bare digits)."""
    names = [name for name, *_ in PEOPLE.values()] + list(DISTRICT_NAMES)
    names += [p for p in PERSONAL if not p[0].isdigit() and "室" not in p]
    phones = [_digits(phone) for _, phone, *_ in PEOPLE.values()]
    phones += [p for p in PERSONAL if p.isdigit()]
    return {
        "name": sorted(set(names)),
        "phone": sorted(set(phones)),
        "id": [_digits(i) for i in ID_NUMBERS],
        "room": list(ROOMS),
    }


def _digits(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", unicodedata.normalize("NFKC", text))


def leaks(text: str) -> list[str]:
    """The seeded personal data found in ``text``; masked numbers (138****5678) are fine.

    Full-width characters are folded to ASCII and separators removed before numbers are
    looked for, so ``１３８-1234 5678`` counts as ``13812345678``.
    """
    folded = unicodedata.normalize("NFKC", text)
    bare = re.sub(r"[\s\-–—()（）]", "", folded)
    found = []
    for kind, values in secrets().items():
        for value in values:
            haystack = bare if kind in ("phone", "id") else folded
            if value in haystack or (kind == "room" and value in text):
                found.append(f"{kind}:{value}")
    return found


# -- Charts ------------------------------------------------------------------------------------


@dataclass
class ChartSpy:
    """Wraps the chart functions: every chart drawn, with its labels and its PNG."""

    drawn: list[tuple[object, bytes]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in ("dimensions_png", "trend_png", "ranking_png"):
            monkeypatch.setattr(charts, name, self._wrap(getattr(charts, name)))
        # Worker processes would draw with the unwrapped functions: draw here, where the spy is.
        monkeypatch.setattr(charts, "default_workers", lambda: 1)

    def _wrap(self, draw: Callable[[Any], bytes]) -> Callable[[Any], bytes]:
        @functools.wraps(draw)
        def spy(chart: Any) -> bytes:
            png = draw(chart)
            self.drawn.append((chart, png))
            return png

        return spy

    def chart_of(self, png: bytes) -> object | None:
        return next((chart for chart, drawn in self.drawn if drawn == png), None)


def chart_labels(chart: object) -> list[str]:
    """Every string drawn on a chart: titles, axis and tick labels, legends, series names."""
    out: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif hasattr(value, "__dataclass_fields__"):
            for f in fields(value):  # type: ignore[arg-type]
                walk(getattr(value, f.name))

    walk(chart)
    return out


# -- What a residents chat was shown -------------------------------------------------------------


def shown_in(calls: Iterable[SentCall], chat_ids: Iterable[int]) -> list[tuple[SentCall, str]]:
    """Every text, caption, edit and button label sent to these chats, with its call."""
    wanted = {str(c) for c in chat_ids}
    shown = []
    for call in calls:
        if str(call.chat_id) not in wanted:
            continue
        for value in (call.text, call.caption, call.params.get("text")):
            if isinstance(value, str):
                shown.append((call, value))
        shown += [(call, label) for label, _ in buttons(call)]
    return shown


# -- The week --------------------------------------------------------------------------------


@dataclass
class Week:
    harness: Harness
    spy: ChartSpy
    # The bot's answers to activity messages (and their confirm edit), swept on their own.
    activity_replies: list[SentCall] = field(default_factory=list)

    @property
    def calls(self) -> list[SentCall]:
        return list(self.harness.api.calls)


def add_people(harness: Harness) -> None:
    """The roster's personal data: names and phones of three more people."""
    units = harness.district.units
    now = harness.clock.now()
    with harness.database.session() as session:
        for user_id, (name, phone, role, unit) in PEOPLE.items():
            member = ensure_member(session, user_id=user_id, name=name, language="zh", now=now)
            member.phone = phone
            grant_role(
                session,
                member_id=member.id or 0,
                role=role,
                unit_id=units[unit],
                granted_by=None,
                now=now,
            )
            harness.district.members[user_id] = member.id or 0
        session.commit()
        assert session.get(Member, harness.district.members[WANG]) is not None


def bind_chats(harness: Harness) -> None:
    for chat_id, unit, audience in (
        (RESIDENTS_CHAT, "sunshine", Audience.RESIDENTS),
        (BUILDING_CHAT, "sunshine_3", Audience.RESIDENTS),
        (WEST_RESIDENTS_CHAT, "west", Audience.RESIDENTS),
        (COMMITTEE_CHAT, "committee_a", Audience.COMMITTEE),
        (TOWN_CHAT, "town", Audience.TOWN),
    ):
        harness.bind(chat_id, unit, audience)


def seed_history(harness: Harness) -> None:
    """Thirteen earlier weeks straight into the tables (texts full of PERSONAL), for scores."""
    units = harness.district.units
    with harness.database.session() as session:
        seed_records(
            session,
            harness.district,
            compounds=[units["sunshine"], units["plum"], units["west"]],
            buildings={
                units["sunshine"]: [units["sunshine_1"], units["sunshine_3"]],
                units["plum"]: [units["plum_12"]],
                units["west"]: [units["west_1"]],
            },
            last_week_monday=date(2026, 11, 2),
            weeks=13,
        )


# Telegram shows the bot each person's own first name: the roster's, here.
FIRST_NAMES = {LEADER_A3: "李阿姨", RESIDENT_A: "居民小杨", COMMITTEE_A: "张书记",
               PROPERTY_A: "阳光物业孙经理", LEADER_B1: "钱师傅"}  # fmt: skip


def _user(harness: Harness, user_id: int) -> dict[str, Any]:
    name = PEOPLE[user_id][0] if user_id in PEOPLE else FIRST_NAMES[user_id]
    return harness.user(user_id, name)


def _group(chat_id: int) -> dict[str, Any]:
    return u.make_group_chat(chat_id, "阳光小区居民群")


async def say(
    week: Week, text: str, user_id: int, chat_id: int, *, mention: int | None = None
) -> list[SentCall]:
    """``user_id`` writes ``text`` in a group; ``mention`` names a person by their account."""
    harness = week.harness
    user = _user(harness, user_id)
    chat = _group(chat_id)
    if text.startswith("/"):
        command, _, rest = text.partition(" ")
        update = u.make_command_update(command, *rest.split(), user=user, chat=chat)
    else:
        update = u.make_message_update(text, user=user, chat=chat)
    update["message"]["date"] = int(harness.clock.now().timestamp())
    if mention is not None:
        name = PEOPLE[mention][0]
        message = update["message"]
        message.setdefault("entities", []).append(
            {
                "type": "text_mention",
                "offset": u.utf16_len(text[: text.index(name)]),
                "length": u.utf16_len(name),
                "user": _user(harness, mention),
            }
        )
    return await harness.process(update)


def _card(week: Week, number: int) -> SentCall:
    return next(
        c
        for c in week.harness.api.sent(COMMITTEE_CHAT, "sendMessage")
        if any(d.startswith(f"iss:acc:{number}") for _, d in buttons(c))
    )


def _number(calls: list[SentCall]) -> int:
    found = re.search(r"#(\d+)", "\n".join(c.text or "" for c in calls))
    assert found, [c.text for c in calls]
    return int(found.group(1))


async def press(
    week: Week, data: str, user_id: int, chat_id: int, message_id: int | None = None
) -> list[SentCall]:
    harness = week.harness
    update = u.make_callback_update(
        data, user=_user(harness, user_id), chat=_group(chat_id) if chat_id < 0 else
        harness.private(user_id), message_id=message_id,
    )  # fmt: skip
    return await harness.process(update)


async def press_private(week: Week, data: str, user_id: int, message_id: int | None) -> None:
    harness = week.harness
    update = u.make_callback_update(
        data, user=_user(harness, user_id), chat=harness.private(user_id), message_id=message_id
    )
    await harness.process(update)


async def run_job(week: Week, name: str) -> None:
    queue = week.harness.app.job_queue
    assert queue is not None
    (job,) = queue.get_jobs_by_name(name)
    await job.run(week.harness.app)


async def close_the_loop(week: Week, number: int, reporter: int, *, fixed: bool) -> None:
    """Accept and dispatch from the card, property handles and resolves, the reporter rates."""
    card = _card(week, number)
    await press(week, f"iss:dsp:{number}:property", COMMITTEE_A, COMMITTEE_CHAT, card.message_id)
    await press_private(week, f"iss:prog:{number}", PROPERTY_A, None)
    week.harness.clock.advance(timedelta(hours=5))
    await press_private(week, f"iss:res:{number}", PROPERTY_A, None)
    asks = [
        c
        for c in week.harness.api.sent(reporter, "sendMessage")
        if any(d.startswith(f"iss:fix:{number}") for _, d in buttons(c))
    ]
    assert asks, f"#{number}: the reporter was not asked"
    data = f"iss:fix:{number}:4" if fixed else f"iss:nfix:{number}"
    await press_private(week, data, reporter, asks[-1].message_id)


async def log_activities(week: Week) -> None:
    """Activities in residents chats naming people (one by their account), one confirmed."""
    sent = await say(
        week,
        "#志愿 王秀英带领10名志愿者清理3号楼502室门口楼道，共2小时，联系13812345678",
        LEADER_A3,
        BUILDING_CHAT,
        mention=WANG,
    )
    week.activity_replies += sent
    confirm = next(d for c in sent for _, d in buttons(c) if d.startswith("act:ok:"))
    week.activity_replies += await say(
        week, "#走访 走访独居老人欧阳娜娜(3-502) 6户，电话021-58881234", LEADER_A3, BUILDING_CHAT
    )
    week.activity_replies += await say(
        week,
        "#会议 楼组会 陈建国主持 到会12人 讨论602室群租 通过",
        LEADER_A3,
        RESIDENTS_CHAT,
        mention=CHEN,
    )
    week.activity_replies += await press(
        week, confirm, LEADER_A3, BUILDING_CHAT, sent[0].message_id
    )


async def drive_week(week: Week) -> None:
    """Tuesday to Sunday of 2026-W46 through the real Application, then Monday's jobs."""
    harness = week.harness
    clock = harness.clock
    clock.set(WEEK_START + timedelta(days=1))  # Tuesday 09:00

    # Reports in residents chats naming people, phones, IDs and rooms.
    first = _number(
        await say(
            week,
            "#报事 3号楼502室王秀英家门口楼道堆物，电话13812345678，身份证310115198503127716",
            LEADER_A3,
            BUILDING_CHAT,
        )
    )
    await harness.process(
        u.make_message_update(None, user=_user(harness, LEADER_A3), chat=_group(BUILDING_CHAT),
                              photo="photo-502")
    )  # fmt: skip
    second = _number(
        await say(
            week,
            "#报事 3-502漏水到楼下1201室，联系陈建国 021-58881234 或 １３９１２３４５６７８",
            RESIDENT_A,
            RESIDENTS_CHAT,
        )
    )
    third = _number(
        await say(
            week,
            "/report 3号楼 602室群租，住了十几个人，房东欧阳娜娜 31011519900101123X",
            OUYANG,
            BUILDING_CHAT,
        )
    )
    clock.advance(timedelta(hours=2))
    await say(
        week,
        "#报事 噪声扰民 1201室 欧阳娜娜 半夜装修 139 1234 5678",
        WANG,
        RESIDENTS_CHAT,
    )

    # Activities naming people (one by their account), confirmed in the chat.
    clock.advance(timedelta(hours=3))
    await log_activities(week)

    # A check-in written in the residents chat, and one in private.
    clock.advance(timedelta(days=1))
    await say(week, "#零报告 有情况 502室王秀英家漏水 电话13812345678", LEADER_A3, BUILDING_CHAT)
    await harness.send("无异常", user_id=LEADER_B1)

    # The closed loop: dispatched, handled, resolved, rated (and one not fixed).
    clock.advance(timedelta(hours=2))
    await close_the_loop(week, first, LEADER_A3, fixed=True)
    await close_the_loop(week, second, RESIDENT_A, fixed=False)
    third_card = _card(week, third).message_id
    await press(week, f"iss:acc:{third}", COMMITTEE_A, COMMITTEE_CHAT, third_card)

    # Days pass: reminders, overdue alerts, escalations; the residents look at /index.
    for _ in range(4):
        clock.advance(timedelta(days=1))
        await run_job(week, SCAN_JOB_NAME)
    await say(week, "/index", RESIDENT_A, RESIDENTS_CHAT)
    await say(week, "/issues", RESIDENT_A, RESIDENTS_CHAT)

    # Monday 09:00: the check-in question, the silent-building scan, the digest.
    clock.set(DIGEST_MONDAY)
    await run_job(week, ASK_JOB)
    await run_job(week, SILENT_JOB)
    await run_job(week, WEEKLY_JOB)
    await say(week, "/index", RESIDENT_A, BUILDING_CHAT)  # now with a score and its chart


def prepare(harness: Harness, monkeypatch: pytest.MonkeyPatch, *, history: bool = True) -> Week:
    spy = ChartSpy()
    spy.install(monkeypatch)
    add_people(harness)
    bind_chats(harness)
    if history:
        seed_history(harness)
    return Week(harness=harness, spy=spy)
