"""The outbox sender against the offline Bot API: pacing, every injected fault, crash and resume.

Time is virtual: one ``VirtualTime`` is the sender's clock, monotonic clock and sleep, and the
offline server's clock and monotonic clock, so pacing is checked against the server's own rate
limiter and the tests run instantly.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TimedOut
from telegram.request import RequestData

from bot.offline import SEND_METHODS, Fault, OfflineBotAPI, RateLimits, SentCall
from bot.pacing import Pacing
from bot.sender import OutboxSender, start_sender, stop_sender
from storage import outbox
from storage.bindings import active_binding, bind_chat, binding_for_chat, create_bind_code
from storage.clock import SystemClock
from storage.db import Database
from storage.outbox import OutboxState, photo_part, text_part
from storage.tables import Audience, OutboxMessage
from tests.district import District
from tests.harness import Harness

TOKEN = "123456:ABC-offline"
START = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
GROUP, OTHER_GROUP, PRIVATE = -100_123, -100_456, 7001


class VirtualTime:
    """One virtual clock for wall time, monotonic time and sleeping."""

    def __init__(self) -> None:
        self.elapsed = 0.0

    def now(self) -> datetime:
        return START + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    async def sleep(self, seconds: float) -> None:
        self.elapsed += max(seconds, 0.0)
        await asyncio.sleep(0)


class SimulatedKill(BaseException):
    """Stands for SIGKILL: nothing catches it, nothing after it runs."""


class KillingAPI(OfflineBotAPI):
    """The offline server, except that the process dies as its ``kill_at``-th send (0-based)
    is about to reach it. The kill is seen at the transport, where Telegram would see it, so
    the test holds whichever Bot method the sender calls. The restarted process lives on."""

    kill_at: int | None = None
    sends = 0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *a: Any, **k: Any
    ) -> tuple[int, bytes]:
        if url.rsplit("/", 1)[-1] in SEND_METHODS:
            if self.sends == self.kill_at:
                self.kill_at = None
                raise SimulatedKill
            self.sends += 1
        return await super().do_request(url, method, request_data, *a, **k)


@pytest.fixture
def vt() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def api(vt: VirtualTime) -> OfflineBotAPI:
    return OfflineBotAPI(clock=vt, rate_limits=RateLimits(), monotonic=vt.monotonic)


@pytest.fixture
async def bot(api: OfflineBotAPI) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, request=api) as the_bot:
        yield the_bot


def make_sender(bot: Any, database: Database, vt: VirtualTime, **kw: Any) -> OutboxSender:
    return OutboxSender(bot, database, vt, monotonic=vt.monotonic, sleep=vt.sleep, **kw)


def enqueue(
    database: Database, chat_id: int, *parts: outbox.OutboxPart, period: str = "2026-W47"
) -> OutboxMessage:
    with database.session() as session:
        return outbox.enqueue(
            session,
            chat_id=chat_id,
            kind="digest",
            period=period,
            parts=list(parts) or [text_part(f"简报 {chat_id}")],
            now=START,
        )


def row(database: Database, message: OutboxMessage) -> OutboxMessage:
    with database.session() as session:
        found = session.get(OutboxMessage, message.id)
        assert found is not None
        return found


def texts_to(api: OfflineBotAPI, chat_id: int) -> list[str]:
    return api.texts(chat_id)


def calls_to(api: OfflineBotAPI, chat_id: int) -> list[SentCall]:
    """Every send to the chat the server saw, delivered or not."""
    return [c for c in api.calls if c.chat_id == chat_id and c.method.startswith("send")]


def bind(database: Database, district: District, chat_id: int) -> None:
    with database.session() as session:
        code = create_bind_code(
            session,
            unit_id=district.units["sunshine"],
            audience=Audience.RESIDENTS,
            created_by=None,
            now=START,
        )
        bind_chat(session, code=code.code, chat_id=chat_id, title="群", member_id=None, now=START)


# -- Pacing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 60.0])
async def test_a_fanout_to_hundreds_of_chats_keeps_every_limit(
    database: Database, vt: VirtualTime, scale: float
):
    api = OfflineBotAPI(clock=vt, rate_limits=RateLimits(scale=scale), monotonic=vt.monotonic)
    chats = [-100_000 - n for n in range(100)] + [1000 + n for n in range(100)]
    expected = {}
    with database.session() as session:
        messages = []
        for n, chat in enumerate(chats):
            parts = [f"{chat} 第{p}部分" for p in range(1 + n % 2)]
            expected[chat] = parts
            messages.append(
                outbox.QueuedMessage(chat, "digest", "W47", [text_part(p) for p in parts])
            )
        outbox.enqueue_many(session, messages=messages, now=START)

    async with Bot(TOKEN, request=api) as bot:
        sender = make_sender(bot, database, vt, pacing=Pacing(scale=scale))
        stats = await sender.drain_until_idle()

    assert api.violations == 0
    assert {chat: api.texts(chat) for chat in chats} == expected  # once each, parts in order
    total = sum(len(parts) for parts in expected.values())
    assert (stats.sent, stats.parts) == (len(chats), total)
    # The overall limit binds here: the achieved rate is close to 30/s (scaled).
    sends = [call.at for call in api.sent() if call.method == "sendMessage"]
    span = (max(sends) - min(sends)).total_seconds() + 1.0 / scale
    assert 0.9 <= total / span / (30 * scale) <= 1.0


async def test_parts_answered_together_share_a_commit_and_never_more_than_max_in_flight(
    database: Database, monkeypatch: Any
):
    """A fast fan-out commits several confirmations at once (a group commit), yet no commit
    holds more parts than may be in flight: that is what bounds a kill's resends.

    Real time here, with every limit compressed 1000×: under the virtual clock the sends of
    a drain never overlap, so there would be nothing to group. It takes a fraction of a
    second and asserts nothing about time."""
    expected = _fanout(database, 60)
    real: Callable[..., Any] = outbox.mark_parts_sent
    batches: list[int] = []

    def counting(session: Any, **kwargs: Any) -> Any:
        batches.append(len(kwargs["confirmed"]))
        return real(session, **kwargs)

    monkeypatch.setattr(outbox, "mark_parts_sent", counting)
    clock = SystemClock()
    api = OfflineBotAPI(clock=clock, rate_limits=RateLimits(scale=1000.0))
    async with Bot(TOKEN, request=api) as bot:
        sender = OutboxSender(bot, database, clock, pacing=Pacing(scale=1000.0), max_in_flight=6)
        await sender.drain_until_idle()

    assert api.violations == 0
    assert {chat: api.texts(chat) for chat in expected} == expected
    assert sum(batches) == sum(len(parts) for parts in expected.values())
    assert len(batches) < sum(batches)  # parts shared commits
    assert max(batches) <= 6


async def test_one_group_gets_at_most_twenty_a_minute_and_a_private_chat_one_a_second(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot
):
    enqueue(database, GROUP, *[text_part(f"群消息{n}") for n in range(45)])
    enqueue(database, PRIVATE, *[text_part(f"私聊{n}") for n in range(5)])

    await make_sender(bot, database, vt).drain_until_idle()

    assert api.violations == 0
    assert api.texts(GROUP) == [f"群消息{n}" for n in range(45)]
    group_times = [c.at for c in api.sent(GROUP)]
    assert group_times[20] - group_times[0] >= timedelta(seconds=60)
    assert group_times[40] - group_times[20] >= timedelta(seconds=60)
    private_times = [c.at for c in api.sent(PRIVATE)]
    assert all(
        b - a >= timedelta(seconds=1)
        for a, b in zip(private_times, private_times[1:], strict=False)
    )


async def test_photos_captions_and_buttons_are_sent_as_stored(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot, tmp_path: Path
):
    chart = tmp_path / "media" / "chart.png"
    chart.parent.mkdir()
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    markup = {"inline_keyboard": [[{"text": "详情", "callback_data": "digest:1"}]]}
    long_caption = "说明" * 600  # over 1024: moves into a text part after the photo
    enqueue(
        database,
        GROUP,
        photo_part(str(chart), caption="<b>本周指数</b>"),
        photo_part(str(chart), caption=long_caption),
        text_part("完", reply_markup=markup),
    )

    await make_sender(bot, database, vt).drain_until_idle()

    calls = api.sent(GROUP)
    assert [c.method for c in calls] == ["sendPhoto", "sendPhoto", "sendMessage", "sendMessage"]
    assert calls[0].caption == "<b>本周指数</b>"
    assert calls[0].photo_bytes == chart.stat().st_size
    assert calls[1].caption is None
    assert calls[2].text == long_caption
    assert calls[3].reply_markup == markup


async def test_each_request_is_the_one_send_message_or_send_photo_would_make(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot, tmp_path: Path
):
    """The sender skips PTB's ``send_*`` wrappers (it never needs the ``Message`` they build):
    what reaches Telegram must still be exactly what they would have sent."""
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    markup = {"inline_keyboard": [[{"text": "详情", "callback_data": "digest:1"}]]}
    enqueue(
        database,
        GROUP,
        photo_part(str(chart), caption="<b>本周</b> & 指数"),
        photo_part(str(chart)),
        text_part("<i>完</i>", reply_markup=markup),
        text_part("再见"),
    )
    await make_sender(bot, database, vt).drain_until_idle()
    by_sender = api.sent(GROUP)

    api.clear()
    photo = chart.read_bytes()
    await bot.send_photo(GROUP, photo, caption="<b>本周</b> & 指数", parse_mode="HTML")
    await bot.send_photo(GROUP, photo, parse_mode="HTML")
    keyboard = InlineKeyboardMarkup.de_json(markup, bot)
    await bot.send_message(GROUP, "<i>完</i>", parse_mode="HTML", reply_markup=keyboard)
    await bot.send_message(GROUP, "再见", parse_mode="HTML")
    by_ptb = api.sent(GROUP)

    def request(call: SentCall) -> tuple[Any, ...]:
        return (call.method, dict(call.params), call.files)

    assert [request(c) for c in by_sender] == [request(c) for c in by_ptb]


# -- Faults -------------------------------------------------------------------------------------


async def test_retry_after_pauses_that_chat_only(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot
):
    slow = enqueue(database, GROUP, text_part("一"), text_part("二"))
    enqueue(database, OTHER_GROUP)
    api.fail_next("sendMessage", GROUP, error=Fault.too_many_requests(7))

    await make_sender(bot, database, vt).drain_until_idle()

    [refused] = [c for c in calls_to(api, GROUP) if not c.delivered]
    delivered = api.sent(GROUP)
    assert api.texts(GROUP) == ["一", "二"]
    assert all(c.at >= refused.at + timedelta(seconds=7) for c in delivered)
    assert api.sent(OTHER_GROUP)[0].at < refused.at + timedelta(seconds=7)  # not held up
    assert row(database, slow).state == OutboxState.SENT
    assert row(database, slow).attempts == 3


async def test_retry_after_on_two_chats_pauses_everything(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot
):
    for chat in range(1, 11):
        enqueue(database, chat)
    api.fail_next("sendMessage", 1, error=Fault.too_many_requests(5))
    api.fail_next("sendMessage", 2, error=Fault.too_many_requests(5))

    await make_sender(bot, database, vt).drain_until_idle()

    second_refusal = [c for c in api.calls if not c.delivered][1]
    quiet_until = second_refusal.at + timedelta(seconds=5)
    assert not [c for c in api.sent() if second_refusal.at < c.at < quiet_until]
    assert all(api.texts(chat) == [f"简报 {chat}"] for chat in range(1, 11))


async def test_server_errors_are_retried_with_backoff_and_delivered_once(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot
):
    message = enqueue(database, GROUP)
    api.fail_next("sendMessage", GROUP, error=Fault.server_error(502), times=2)

    await make_sender(bot, database, vt).drain_until_idle()

    attempts = calls_to(api, GROUP)
    assert [c.delivered for c in attempts] == [False, False, True]
    assert attempts[1].at - attempts[0].at >= timedelta(seconds=2)
    assert attempts[2].at - attempts[1].at >= timedelta(seconds=4)
    assert api.texts(GROUP) == [f"简报 {GROUP}"]
    assert (row(database, message).state, row(database, message).attempts) == ("sent", 3)


async def test_a_chat_that_keeps_failing_is_given_up_after_max_attempts(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot
):
    message = enqueue(database, GROUP)
    api.fail_next("sendMessage", GROUP, error=Fault.server_error(500), times=100)

    await make_sender(bot, database, vt, max_attempts=4).drain_until_idle()

    assert len(calls_to(api, GROUP)) == 4
    failed = row(database, message)
    assert failed.state == OutboxState.FAILED
    assert (failed.last_error or "").startswith("gave up after 4 attempts")


async def test_bad_request_fails_at_once_and_is_never_retried(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot
):
    bad = enqueue(database, GROUP)
    good = enqueue(database, OTHER_GROUP)
    api.fail_next("sendMessage", GROUP, error=Fault.bad_request("Bad Request: chat not found"))
    sender = make_sender(bot, database, vt)

    await sender.drain_until_idle()
    await vt.sleep(3600)
    await sender.drain_until_idle()

    assert len(calls_to(api, GROUP)) == 1
    failed = row(database, bad)
    assert (failed.state, failed.attempts) == (OutboxState.FAILED, 1)
    assert "chat not found" in (failed.last_error or "").lower()
    assert row(database, good).state == OutboxState.SENT


@pytest.mark.parametrize("fault", [Fault.timeout_before_accept(), Fault.timeout_after_accept()])
async def test_a_timeout_is_ambiguous_and_never_resent_automatically(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot, fault: Fault
):
    """PTB cannot tell the two timeouts apart: both are recorded, neither is resent."""
    message = enqueue(database, GROUP, text_part("一"), text_part("二"))
    api.fail_next("sendMessage", GROUP, error=fault)
    sender = make_sender(bot, database, vt)

    stats = await sender.drain_until_idle()
    await vt.sleep(3600)
    await sender.drain_until_idle()

    assert len(calls_to(api, GROUP)) == 1  # no second attempt, ever
    reached = fault == Fault.timeout_after_accept()
    assert api.texts(GROUP) == (["一"] if reached else [])  # never a duplicate
    doubtful = row(database, message)
    assert (doubtful.state, doubtful.parts_sent, stats.ambiguous) == ("ambiguous", 0, 1)
    with database.session() as session:
        assert [r.id for r in outbox.ambiguous_messages(session)] == [message.id]

    # Someone checks the chat and settles it; the rest then goes out exactly once.
    with database.session() as session:
        outbox.resolve_ambiguous(
            session, message_id=message.id or 0, delivered=reached, now=vt.now()
        )
    await sender.drain_until_idle()
    assert api.texts(GROUP) == ["一", "二"]


class ConnectTimeoutOnce(OfflineBotAPI):
    """Fails the first send with the TimedOut PTB raises for a connect timeout."""

    failed = False

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *a: Any, **k: Any
    ) -> tuple[int, bytes]:
        if url.endswith("/sendMessage") and not self.failed:
            self.failed = True
            raise TimedOut from httpx.ConnectTimeout("connect timed out")
        return await super().do_request(url, method, request_data, *a, **k)


async def test_a_timeout_before_connecting_is_safely_retried(database: Database, vt: VirtualTime):
    api = ConnectTimeoutOnce(clock=vt, monotonic=vt.monotonic)
    message = enqueue(database, GROUP)
    async with Bot(TOKEN, request=api) as bot:
        await make_sender(bot, database, vt).drain_until_idle()
    assert api.texts(GROUP) == [f"简报 {GROUP}"]
    assert (row(database, message).state, row(database, message).attempts) == ("sent", 2)


async def test_forbidden_deactivates_the_binding_and_fails_that_chats_rows(
    database: Database, district: District, vt: VirtualTime, api: OfflineBotAPI, bot: Bot
):
    bind(database, district, GROUP)
    first = enqueue(database, GROUP)
    second = enqueue(database, GROUP, period="alert:1")
    other = enqueue(database, OTHER_GROUP)
    api.fail_next("sendMessage", GROUP, error=Fault.forbidden())

    await make_sender(bot, database, vt).drain_until_idle()

    assert len(calls_to(api, GROUP)) == 1  # the second row is not even tried
    assert [row(database, m).state for m in (first, second, other)] == [
        "failed",
        "failed",
        "sent",
    ]
    with database.session() as session:
        assert active_binding(session, chat_id=GROUP) is None
        assert binding_for_chat(session, chat_id=GROUP).inactive_reason == "forbidden"  # type: ignore[union-attr]


async def test_chat_migration_moves_the_binding_and_delivers_to_the_new_id(
    database: Database, district: District, vt: VirtualTime, api: OfflineBotAPI, bot: Bot
):
    new_id = -1_009_999_000_111
    bind(database, district, GROUP)
    message = enqueue(database, GROUP, text_part("一"), text_part("二"))
    later = enqueue(database, GROUP, period="alert:1")
    api.fail_next("sendMessage", GROUP, error=Fault.chat_migrated(new_id))

    stats = await make_sender(bot, database, vt).drain_until_idle()

    assert api.texts(GROUP) == []
    assert api.texts(new_id) == ["一", "二", f"简报 {GROUP}"]
    assert (row(database, message).chat_id, row(database, message).state) == (new_id, "sent")
    assert row(database, later).chat_id == new_id
    assert stats.migrated == 1
    assert api.violations == 0
    with database.session() as session:
        assert active_binding(session, chat_id=new_id) is not None
        assert binding_for_chat(session, chat_id=GROUP) is None


async def test_a_missing_photo_fails_the_row_without_a_request(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot, tmp_path: Path
):
    message = enqueue(database, GROUP, photo_part(str(tmp_path / "gone.png")))
    await make_sender(bot, database, vt).drain_until_idle()
    failed = row(database, message)
    assert (failed.state, failed.attempts) == ("failed", 0)
    assert calls_to(api, GROUP) == []


async def test_enqueueing_the_same_period_again_sends_nothing_twice(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot
):
    sender = make_sender(bot, database, vt)
    enqueue(database, GROUP)
    await sender.drain_until_idle()
    enqueue(database, GROUP)
    await sender.drain_until_idle()
    assert api.texts(GROUP) == [f"简报 {GROUP}"]


# -- Crash and resume ---------------------------------------------------------------------------


def _fanout(database: Database, chats: int) -> dict[int, list[str]]:
    expected = {}
    messages = []
    for n in range(chats):
        chat = -100_000 - n if n % 2 else 2000 + n
        parts = [f"{chat}/{p}" for p in range(1 + n % 4)]
        expected[chat] = parts
        messages.append(outbox.QueuedMessage(chat, "digest", "W47", [text_part(p) for p in parts]))
    with database.session() as session:
        outbox.enqueue_many(session, messages=messages, now=START)
    return expected


async def _resume(database: Database, bot: Bot, vt: VirtualTime) -> None:
    # A restart takes a while. (The new process does not know what the dead one sent just
    # before: a restart within a minute may earn a 429 from a group, which is then honoured.)
    await vt.sleep(60)
    with database.session() as session:
        outbox.recover_interrupted(session, now=vt.now())
    await make_sender(bot, database, vt).drain_until_idle()


@pytest.mark.parametrize("seed", range(12))
async def test_killed_before_a_random_send_then_resumed_sends_each_part_once(
    database: Database, vt: VirtualTime, seed: int
):
    expected = _fanout(database, 40)
    total = sum(len(parts) for parts in expected.values())
    api = KillingAPI(clock=vt, rate_limits=RateLimits(), monotonic=vt.monotonic)
    api.kill_at = kill_at = random.Random(seed).randrange(total)

    async with Bot(TOKEN, request=api) as bot:
        with pytest.raises(SimulatedKill):
            await make_sender(bot, database, vt).drain_until_idle()
        assert api.sends == kill_at  # it died as the random send was about to go out
        await _resume(database, bot, vt)

    assert {chat: api.texts(chat) for chat in expected} == expected
    assert api.violations == 0


@pytest.mark.parametrize("seed", range(12))
async def test_cancelled_mid_drain_then_resumed_sends_each_part_once(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot, seed: int
):
    expected = _fanout(database, 40)
    drain = asyncio.create_task(make_sender(bot, database, vt).drain_until_idle())
    for _ in range(random.Random(seed).randrange(5, 400)):
        await asyncio.sleep(0)
        if drain.done():
            break
    drain.cancel()
    with pytest.raises(asyncio.CancelledError):
        await drain
    await _resume(database, bot, vt)

    assert {chat: api.texts(chat) for chat in expected} == expected


async def test_a_kill_between_telegrams_answer_and_the_commit_resends_only_those_parts(
    database: Database, vt: VirtualTime, api: OfflineBotAPI, bot: Bot, monkeypatch: Any
):
    """The one window no outbox can close: Telegram has the part, our database does not.

    After the restart exactly the parts whose confirmation died are sent again (at least
    once); every other part exactly once, nothing lost.
    """
    expected = _fanout(database, 10)
    real: Callable[..., Any] = outbox.mark_parts_sent
    commits = 0
    lost_confirmations: list[tuple[int, int, int]] = []

    def dies_on_the_third_commit(session: Any, **kwargs: Any) -> Any:
        nonlocal commits
        commits += 1
        if commits == 3:
            lost_confirmations.extend(kwargs["confirmed"])
            raise SimulatedKill
        return real(session, **kwargs)

    monkeypatch.setattr(outbox, "mark_parts_sent", dies_on_the_third_commit)
    with pytest.raises(SimulatedKill):
        await make_sender(bot, database, vt).drain_until_idle()
    monkeypatch.setattr(outbox, "mark_parts_sent", real)
    await _resume(database, bot, vt)

    counts = Counter(call.text for call in api.sent() if call.method == "sendMessage")
    assert set(counts) == {text for parts in expected.values() for text in parts}  # no loss
    twice = [text for text, n in counts.items() if n == 2]
    assert len(twice) == len(lost_confirmations) >= 1
    assert max(counts.values()) == 2


# -- Running in the Application -----------------------------------------------------------------


async def test_start_sender_resumes_interrupted_rows_and_runs_until_stopped(harness: Harness):
    with harness.database.session() as session:
        message = outbox.enqueue(
            session,
            chat_id=GROUP,
            kind="digest",
            period="W47",
            parts=[text_part("一"), text_part("二")],
            now=harness.clock.now(),
        )
        outbox.claim_due_rows(session, now=harness.clock.now(), limit=10)  # then the process died
        outbox.mark_part_sent(session, message_id=message.id or 0, part=0, now=harness.clock.now())

    sender = await start_sender(harness.app, sleep=asyncio.sleep)
    async with asyncio.timeout(5):
        await harness.api.wait_for_sent(chat_id=GROUP)
        with harness.database.session() as session:
            later = outbox.enqueue(
                session,
                chat_id=PRIVATE,
                kind="alert",
                period="1",
                parts=[text_part("预警")],
                now=harness.clock.now(),
            )
        sender.wake()
        await harness.api.wait_for_sent(chat_id=PRIVATE)
    await stop_sender(harness.app)

    assert harness.api.texts(GROUP) == ["二"]  # part one was confirmed before the "crash"
    assert harness.api.texts(PRIVATE) == ["预警"]
    with harness.database.session() as session:
        states = session.exec(select(OutboxMessage.state)).all()
    assert list(states) == ["sent", "sent"]
    assert later.id is not None
