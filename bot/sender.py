"""The outbox sender: drains due outbox rows into Telegram, paced and crash-safe.

Policies (also in docs/reliability.md, "Outbox and sending"):

- **Pacing** (``bot.pacing``): ≤ 30 messages/s overall, ≤ 20/min per group, ≤ 1/s per private
  chat; one request in flight per chat, so a chat's parts arrive in order.
- **429 RetryAfter**: the row is deferred by ``retry_after`` and its chat paused as long. When a
  second chat is told to wait while another chat's pause still runs, Telegram is throttling the
  bot as a whole, and *all* sending pauses.
- **5xx, network errors, and timeouts that surely never reached Telegram** (connect or pool
  timeouts): retried with exponential backoff; the row fails after ``max_attempts`` such tries.
- **TimedOut otherwise**: PTB cannot tell whether Telegram accepted the request before the
  answer was lost, so the row becomes ``ambiguous``: not resent automatically (a resend may
  duplicate), reported by ``storage.outbox.ambiguous_messages``, settled by
  ``resolve_ambiguous``.
- **BadRequest**: the row fails at once, never retried.
- **Forbidden** (bot removed or blocked): the chat's binding is deactivated and every
  unfinished row for that chat fails.
- **ChatMigrated**: the binding and the chat's unfinished rows move to the new chat id, and the
  part is sent there.
- **Anything else** (a bug, an unreadable photo file): the row fails and the error is logged;
  one bad row never blocks the queue.

The sender writes each part's outcome to the database right after Telegram answers, so a
process killed mid-drain resumes (``recover_interrupted``) at the first unconfirmed part.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum, auto
from pathlib import Path
from typing import Any, TypeVar

import httpx
from telegram import Bot, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application

from bot.pacing import Pacer, Pacing, Slot, retry_after_seconds
from handlers.context import run_db
from storage import outbox
from storage.bindings import deactivate_chat, migrate_chat
from storage.clock import Clock
from storage.db import Database
from storage.outbox import OutboxPart, PartKind

logger = logging.getLogger(__name__)

T = TypeVar("T")
# At most one commit of confirmations per this many (real) seconds; see ``_group_commit``.
_COMMIT_EVERY = 0.003
# Photo files kept in memory during one drain (the most recently read ones).
_PHOTOS_KEPT = 8
Sleep = Callable[[float], Awaitable[None]]


class Outcome(Enum):
    SENT = auto()
    RETRY_AFTER = auto()
    RETRYABLE = auto()
    AMBIGUOUS = auto()
    FAILED = auto()
    FORBIDDEN = auto()
    MIGRATED = auto()


@dataclass(frozen=True, slots=True)
class _Result:
    outcome: Outcome
    error: str = ""
    wait: float = 0.0  # RETRY_AFTER: seconds Telegram asked us to wait
    new_chat_id: int = 0  # MIGRATED
    attempted: bool = True  # False when no request was made (unreadable photo)


@dataclass(slots=True)
class _Job:
    """One claimed row, in memory while its parts go out."""

    message_id: int
    chat_id: int
    payload: str
    parts_sent: int
    failures: int  # unsuccessful attempts so far, for the backoff
    _parts: list[OutboxPart] | None = None

    @classmethod
    def from_row(cls, row: outbox.ClaimedRow) -> _Job:
        return cls(
            message_id=row.id,
            chat_id=row.chat_id,
            payload=row.payload,
            parts_sent=row.parts_sent,
            failures=max(0, row.attempts - row.parts_sent),
        )

    @property
    def parts(self) -> list[OutboxPart]:
        """Decoded once, when the row's first part goes out: a claim of hundreds of rows
        must not hold the event loop while it decodes them all."""
        if self._parts is None:
            self._parts = outbox.decode_parts(self.payload)
        return self._parts


@dataclass(slots=True)
class DrainStats:
    """What one drain did: rows finished per outcome and parts delivered."""

    sent: int = 0
    parts: int = 0
    deferred: int = 0
    failed: int = 0
    ambiguous: int = 0
    migrated: int = 0

    def add(self, other: DrainStats) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class _Batch:
    """The chats of one claimed batch, scheduled by when each may next get a message."""

    queues: dict[int, deque[_Job]] = field(default_factory=dict)
    ready: list[tuple[float, int, int]] = field(default_factory=list)  # (at, seq, chat)
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)
    active: set[int] = field(default_factory=set)  # chats waiting in ``ready`` or in flight
    photos: dict[str, bytes] = field(default_factory=dict)  # photo files read in this drain
    seq: int = 0

    def add(self, job: _Job) -> None:
        self.queues.setdefault(job.chat_id, deque()).append(job)

    def schedule(self, chat_id: int, at: float) -> None:
        """Put the chat in line unless it already is (one request in flight per chat)."""
        if chat_id in self.active or not self.queues.get(chat_id):
            return
        self.active.add(chat_id)
        self.seq += 1
        heapq.heappush(self.ready, (at, self.seq, chat_id))


class OutboxSender:
    """Sends what the outbox holds. ``drain_once`` for tests and pipelines, ``run`` forever."""

    def __init__(
        self,
        bot: Bot,
        database: Database,
        clock: Clock,
        *,
        pacing: Pacing | None = None,
        monotonic: Callable[[], float] | None = None,
        sleep: Sleep = asyncio.sleep,
        max_in_flight: int = 10,
        claim_batch: int = 500,
        max_attempts: int = 8,
        backoff: timedelta = timedelta(seconds=2),
        max_backoff: timedelta = timedelta(minutes=10),
    ) -> None:
        self.bot = bot
        self.database = database
        self.clock = clock
        self.pacing = pacing or Pacing()
        self.pacer = Pacer(self.pacing, monotonic or time.monotonic)
        self._sleep = sleep
        self.max_in_flight = max_in_flight
        self.claim_batch = claim_batch
        self._low_water = claim_batch // 4  # chats left in line when the next claim starts
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._db_lock = asyncio.Lock()
        self._confirmations: list[tuple[tuple[int, int, int], asyncio.Future[None]]] = []
        self._last_commit = float("-inf")  # loop time the last confirmation commit began
        self._commit_early = max(1, max_in_flight // 2)  # this many waiting: commit at once
        self._commit_due: asyncio.Future[None] | None = None  # a group commit waiting for it
        self._wakeup = asyncio.Event()
        self._stopping = False

    # -- Draining --------------------------------------------------------------------------

    async def drain_once(self, now: datetime | None = None) -> DrainStats:
        """Send every row due by ``now`` (default: the clock's now), paced; return when none is
        left due. Rows deferred during the drain (429, 5xx) stay for a later drain.

        Rows are claimed ``claim_batch`` at a time, and the next claim is made while the
        current rows are still going out, so a long fan-out never stops between batches.
        """
        stats = DrainStats()
        batch = _Batch()
        refill: asyncio.Task[list[outbox.ClaimedRow]] | None = None
        claimed_empty = False  # the last claim found nothing: claim again only once idle
        try:
            while True:
                idle = not batch.ready and not batch.in_flight
                if refill is None and (
                    idle or (not claimed_empty and len(batch.ready) <= self._low_water)
                ):
                    cutoff = now or self.clock.now()
                    refill = asyncio.create_task(
                        self._db(outbox.claim_due_rows, now=cutoff, limit=self.claim_batch)
                    )
                if refill is not None and (refill.done() or idle):
                    rows = await refill
                    refill = None
                    claimed_empty = not rows
                    if not rows and idle:
                        return stats
                    for row in rows:
                        batch.add(_Job.from_row(row))
                    for chat_id in {row.chat_id for row in rows}:
                        batch.schedule(chat_id, 0.0)
                    continue
                wait = self._launch_ready(batch, stats)
                if wait is not None and wait <= 0:
                    continue
                if batch.in_flight:
                    await self._await_in_flight(batch, wait, refill)
                else:  # None here would mean a window waits on nothing: never spin on it
                    await self._sleep(wait if wait is not None else self.pacing.seconds(0.01))
        finally:
            # Cancelled or crashed: let the sends already started finish and be recorded, so
            # a graceful stop leaves no part delivered but unconfirmed. Nothing new starts.
            pending: list[asyncio.Future[Any]] = [*batch.in_flight]
            if refill is not None:
                pending.append(refill)
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def drain_until_idle(self, *, max_wait: timedelta = timedelta(hours=1)) -> DrainStats:
        """Drain, then wait for deferred rows and drain again, until nothing is pending (or the
        next pending row is more than ``max_wait`` away). The weekly pipeline and the tests
        use it to see a whole fan-out through, retries included."""
        stats = DrainStats()
        while True:
            stats.add(await self.drain_once())
            due = await self._db(outbox.next_due)
            if due is None:
                return stats
            before = self.clock.now()
            delay = (due - before).total_seconds()
            if delay > max_wait.total_seconds():
                return stats
            await self._sleep(max(delay, 0.0))
            if delay > 0 and self.clock.now() == before:
                return stats  # a test clock that sleeping does not move: nothing will come due

    async def run(self, *, poll_interval: float = 5.0) -> None:
        """Send forever: drain, then sleep until the next row is due, a poll interval passes,
        or ``wake`` is called. ``stop`` ends it after the current drain."""
        while not self._stopping:
            try:
                await self.drain_once()
                due = await self._db(outbox.next_due)
            except Exception:  # never let one bad moment end the sender for good
                logger.exception("outbox drain failed; retrying after the poll interval")
                due = None
                # The failed drain's rows are nobody's now (one sender per database).
                with contextlib.suppress(Exception):
                    await self._db(outbox.recover_interrupted, now=self.clock.now())
            delay = poll_interval
            if due is not None:
                delay = min(delay, max(0.0, (due - self.clock.now()).total_seconds()))
            self._wakeup.clear()
            if not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=delay)

    def wake(self) -> None:
        """New rows were enqueued: drain now instead of at the next poll."""
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    # -- One batch -------------------------------------------------------------------------

    def _launch_ready(self, batch: _Batch, stats: DrainStats) -> float | None:
        """Start the next send if its chat and the overall limit allow it now.

        Returns 0 after starting one, else how long until one may start (None: only an
        in-flight send finishing can make room).
        """
        if not batch.ready or len(batch.in_flight) >= self.max_in_flight:
            return None
        at, seq, chat_id = batch.ready[0]
        now = self.pacer.monotonic()
        if at > now:
            return at - now
        chat_wait = self.pacer.chat_wait(chat_id, now)
        if chat_wait is None or chat_wait > 0:
            heapq.heapreplace(batch.ready, (now + (chat_wait or 0.0), seq, chat_id))
            return 0.0 if chat_wait is not None else None
        overall_wait = self.pacer.overall_wait(now)
        if overall_wait is None or overall_wait > 0:
            return overall_wait
        heapq.heappop(batch.ready)
        job = batch.queues[chat_id][0]
        # Counted now, not when the task first runs: the next launch must already see it.
        slot = self.pacer.reserve(chat_id)
        task = asyncio.create_task(self._deliver_part(batch, job, slot, stats))
        batch.in_flight.add(task)
        return 0.0

    async def _await_in_flight(
        self, batch: _Batch, wait: float | None, refill: asyncio.Future[Any] | None
    ) -> None:
        # A real-time timeout: in production the monotonic clock is real time; under a test's
        # virtual clock the in-flight sends finish long before it.
        timeout = None if wait is None else max(wait, 0.001)
        waiting: set[asyncio.Future[Any]] = set(batch.in_flight)
        if refill is not None:
            waiting.add(refill)  # new rows to schedule wake the loop too
        done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not refill:
                batch.in_flight.discard(task)
                task.result()  # a crash (or a simulated kill) ends the drain here

    async def _deliver_part(self, batch: _Batch, job: _Job, slot: Slot, stats: DrainStats) -> None:
        chat_id = job.chat_id
        try:
            result = await self._attempt(job, batch.photos)
        finally:
            self.pacer.finish(slot)
        await self._settle(batch, job, result, stats)
        batch.active.discard(chat_id)
        now = self.pacer.monotonic()
        batch.schedule(chat_id, now)
        batch.schedule(job.chat_id, now)  # the new id, after a migration

    # -- One attempt -----------------------------------------------------------------------

    async def _attempt(self, job: _Job, photos: dict[str, bytes]) -> _Result:
        """Send the job's next part and classify what happened."""
        part = job.parts[job.parts_sent]
        photo = None
        if part.kind is PartKind.PHOTO:
            try:
                photo = await self._photo(part.photo or "", photos)
            except OSError as exc:
                return _Result(Outcome.FAILED, f"photo unreadable: {exc}", attempted=False)
        try:
            await self._send(job.chat_id, part, photo)
        except RetryAfter as exc:
            return _Result(
                Outcome.RETRY_AFTER, str(exc), wait=retry_after_seconds(exc.retry_after)
            )
        except ChatMigrated as exc:
            return _Result(Outcome.MIGRATED, str(exc), new_chat_id=int(exc.new_chat_id))
        except Forbidden as exc:
            return _Result(Outcome.FORBIDDEN, f"Forbidden: {exc}")
        except TimedOut as exc:
            if _surely_unsent(exc):
                return _Result(Outcome.RETRYABLE, f"TimedOut before sending: {exc}")
            return _Result(Outcome.AMBIGUOUS, f"TimedOut: {exc}")
        except BadRequest as exc:
            return _Result(Outcome.FAILED, f"BadRequest: {exc}")
        except TelegramError as exc:  # NetworkError (5xx, connection) and the rare others
            return _Result(Outcome.RETRYABLE, f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            logger.exception("sending outbox message %s failed", job.message_id)
            return _Result(Outcome.FAILED, f"{type(exc).__name__}: {exc}")
        return _Result(Outcome.SENT)

    @staticmethod
    async def _photo(path: str, photos: dict[str, bytes]) -> bytes:
        """The photo file's bytes, read once per drain: a compound's chart goes to each of its
        buildings' chats, and a thread hand-off per part would cost more than the send."""
        if path in photos:
            return photos[path]
        data = await asyncio.to_thread(Path(path).read_bytes)
        if len(photos) >= _PHOTOS_KEPT:
            del photos[next(iter(photos))]
        photos[path] = data
        return data

    async def _send(self, chat_id: int, part: OutboxPart, photo: bytes | None) -> None:
        """One Bot API call for the part; Telegram's errors raise as PTB maps them.

        It goes through ``Bot._post``, the step ``send_message``/``send_photo`` end in, with
        the same parameters they would send, but the answer is not turned into a ``Message``:
        the sender needs only success or the error, and building the ``Message`` was half of
        its CPU per part (``Message.de_json``; docs/performance.md, "Fan-out"). ``_post`` is
        PTB's, not public; tests/bot/test_sender.py checks that the requests stay identical.
        """
        data: dict[str, Any] = {"chat_id": chat_id}
        if part.kind is PartKind.PHOTO:
            endpoint = "sendPhoto"
            data["photo"] = InputFile(photo or b"")
            data["caption"] = part.text or None
        else:
            endpoint = "sendMessage"
            data["text"] = part.text
        data["parse_mode"] = ParseMode.HTML
        if part.reply_markup:
            data["reply_markup"] = InlineKeyboardMarkup.de_json(dict(part.reply_markup), self.bot)
        await self.bot._post(endpoint, data)

    # -- Recording the outcome -------------------------------------------------------------

    async def _settle(self, batch: _Batch, job: _Job, result: _Result, stats: DrainStats) -> None:
        queue = batch.queues[job.chat_id]
        if result.outcome is Outcome.SENT:
            await self._confirm(job)
            job.parts_sent += 1
            stats.parts += 1
            if job.parts_sent >= len(job.parts):
                queue.popleft()
                stats.sent += 1
        elif result.outcome is Outcome.MIGRATED:
            await self._migrate(batch, job.chat_id, result.new_chat_id)
            stats.migrated += 1
        elif result.outcome is Outcome.FORBIDDEN:
            await self._db(_forbid_chat, job=job, error=result.error, now=self.clock.now())
            stats.failed += len(batch.queues.pop(job.chat_id))
        else:
            queue.popleft()
            await self._record_unsent(job, result, stats)
        if not batch.queues.get(job.chat_id, True):
            del batch.queues[job.chat_id]

    async def _record_unsent(self, job: _Job, result: _Result, stats: DrainStats) -> None:
        """The row leaves this drain: deferred, ambiguous or failed."""
        if result.outcome is Outcome.RETRY_AFTER:
            self.pacer.pause_chat(job.chat_id, result.wait)
            if self.pacer.other_chats_paused(job.chat_id):
                self.pacer.pause_all(result.wait)
            await self._defer(job, result.wait, result.error)
            stats.deferred += 1
        elif result.outcome is Outcome.RETRYABLE and job.failures + 1 < self.max_attempts:
            delay = min(self.backoff * 2**job.failures, self.max_backoff).total_seconds()
            await self._defer(job, self.pacing.seconds(delay), result.error)
            stats.deferred += 1
        elif result.outcome is Outcome.AMBIGUOUS:
            await self._db(outbox.mark_ambiguous, message_id=job.message_id, error=result.error)
            stats.ambiguous += 1
        else:
            error = result.error
            if result.outcome is Outcome.RETRYABLE:
                error = f"gave up after {job.failures + 1} attempts: {error}"
            await self._db(
                outbox.mark_failed,
                message_id=job.message_id,
                error=error,
                attempted=result.attempted,
            )
            stats.failed += 1

    async def _defer(self, job: _Job, seconds: float, error: str) -> None:
        until = self.clock.now() + timedelta(seconds=seconds)
        await self._db(outbox.defer, message_id=job.message_id, until=until, error=error)

    async def _migrate(self, batch: _Batch, old_chat_id: int, new_chat_id: int) -> None:
        """Move the binding and the rows, then send the chat's queue to the new id."""
        moved = await self._db(
            _migrate_chat, old_chat_id=old_chat_id, new_chat_id=new_chat_id, now=self.clock.now()
        )
        for job in batch.queues.pop(old_chat_id):
            if job.message_id in moved:
                job.chat_id = new_chat_id
                batch.add(job)

    async def _confirm(self, job: _Job) -> None:
        """Record that the job's current part arrived, together with whatever other parts were
        confirmed meanwhile (one transaction for all: a group commit)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirmations.append(((job.message_id, job.parts_sent, len(job.parts)), done))
        if self._commit_due is not None and len(self._confirmations) >= self._commit_early:
            _resolve(self._commit_due)  # enough to share a commit: stop waiting
        async with self._db_lock:
            if not done.done():
                await _uninterrupted(self._group_commit(done))
        await done

    async def _group_commit(self, done: asyncio.Future[None]) -> None:
        """Commit every confirmation waiting, at most one commit per ``_COMMIT_EVERY`` unless
        half of ``max_in_flight`` are already waiting.

        Waiting for that gap to pass lets a fast fan-out put several parts in one commit
        (5-6 parts instead of 2-3 at 900 parts a second: fewer transactions and thread
        hand-offs, 10-20% less CPU a part); at Telegram's real pace, a part every 33 ms, no
        confirmation waits. A part waiting here still counts against ``max_in_flight``, so
        the parts a kill can make us resend stay bounded; committing early once half of them
        wait keeps that bound from holding back new sends.
        """
        loop = asyncio.get_running_loop()
        pause = self._last_commit + _COMMIT_EVERY - loop.time()
        if pause > 0 and len(self._confirmations) < self._commit_early:
            self._commit_due = due = loop.create_future()
            timer = loop.call_later(pause, _resolve, due)
            try:
                await due
            finally:
                timer.cancel()
                self._commit_due = None
        waiting, self._confirmations = self._confirmations, []
        self._last_commit = loop.time()  # the gap runs from one commit's start to the next
        try:
            await asyncio.to_thread(
                self._in_session,
                outbox.mark_parts_sent,
                {"confirmed": [item for item, _ in waiting], "now": self.clock.now()},
            )
        except BaseException as exc:
            for _, future in waiting:
                if future is not done:
                    future.set_exception(exc)
            raise
        for _, future in waiting:
            future.set_result(None)

    async def _db(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """One storage call in a worker thread; the sender's writes go one at a time, so they
        never wait on each other for SQLite's write lock."""
        async with self._db_lock:
            return await _uninterrupted(asyncio.to_thread(self._in_session, fn, kwargs))

    def _in_session(self, fn: Callable[..., T], kwargs: dict[str, Any]) -> T:
        with self.database.session() as session:
            return fn(session=session, **kwargs)


# -- Storage steps that belong together --------------------------------------------------------


def _forbid_chat(session: Any, *, job: _Job, error: str, now: datetime) -> None:
    """The bot may no longer write to the chat: stop sending there, fail what was queued."""
    deactivate_chat(session, chat_id=job.chat_id, reason="forbidden", now=now)
    outbox.mark_failed(session, message_id=job.message_id, error=error)
    outbox.fail_chat(session, chat_id=job.chat_id, error=f"chat unavailable: {error}")


def _migrate_chat(session: Any, *, old_chat_id: int, new_chat_id: int, now: datetime) -> list[int]:
    migrate_chat(session, old_chat_id=old_chat_id, new_chat_id=new_chat_id, now=now)
    return outbox.retarget_chat(session, old_chat_id=old_chat_id, new_chat_id=new_chat_id)


# -- Small helpers -------------------------------------------------------------------------------


async def _uninterrupted(work: Awaitable[T]) -> T:
    """Await database work in a thread; if cancelled meanwhile, let it finish first.

    The thread cannot be stopped half-way anyway: returning early would leave a commit landing
    after the caller believes the sender stopped (and a restart could miss what it wrote).
    """
    future = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _surely_unsent(exc: TimedOut) -> bool:
    """Connect and pool timeouts happen before any byte of the request left: safe to retry.

    Any other timeout (read, write, or one without a known cause) may have been accepted.
    """
    return isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


# -- Application hooks ---------------------------------------------------------------------------

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
SENDER_KEY = "outbox_sender"
_TASK_KEY = "outbox_sender_task"


async def start_sender(app: AnyApplication, **options: Any) -> OutboxSender:
    """Resume what a killed process left half-sent, then run the sender in the background.

    Called from the Application's ``post_init`` (``govbot run``); ``options`` go to
    ``OutboxSender``. The sender is kept in ``services.extras["outbox_sender"]``, so whoever
    enqueues can ``wake()`` it.
    """
    services = app.bot_data["services"]
    await run_db(services.db, outbox.recover_interrupted, now=services.clock.now())
    sender = OutboxSender(app.bot, services.db, services.clock, **options)
    services.extras[SENDER_KEY] = sender
    # Not app.create_task: the Application awaits those in stop(), and this one never ends
    # on its own.
    services.extras[_TASK_KEY] = asyncio.create_task(sender.run(), name="outbox-sender")
    return sender


async def stop_sender(app: AnyApplication, *, grace: float = 10.0) -> None:
    """Let the sender finish the part in flight, then end it (``post_stop``)."""
    services = app.bot_data["services"]
    sender: OutboxSender | None = services.extras.pop(SENDER_KEY, None)
    task: asyncio.Task[None] | None = services.extras.pop(_TASK_KEY, None)
    if sender is None or task is None:
        return
    sender.stop()
    try:
        await asyncio.wait_for(task, timeout=grace)
    except TimeoutError:
        logger.warning("outbox sender did not stop within %.0f s; cancelled", grace)


async def drain_outbox(app: AnyApplication) -> None:
    """Hand the queued rows to the running sender, or drain them here if none runs.

    ``govbot run`` always has a sender (``start_sender``): this only wakes it. Without one
    (the tests, the demo) the due rows are sent now, by a sender made for this drain: its
    pacing knows nothing of earlier drains, and a row deferred by a 429 or 5xx waits for the
    next drain.
    """
    services = app.bot_data["services"]
    sender: OutboxSender | None = services.extras.get(SENDER_KEY)
    if sender is not None:
        sender.wake()
        return
    await OutboxSender(app.bot, services.db, services.clock).drain_once()
