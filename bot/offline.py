"""An in-process stand-in for the Telegram Bot API, used by the tests, `govbot demo` and `chat`.

`OfflineBotAPI` is a `telegram.request.BaseRequest`: PTB builds the same HTTP calls it would send
to api.telegram.org and hands them to `do_request`, which answers them here with the JSON the
real server would return. Everything above the transport (Bot, ExtBot, Updater, Application,
PTB's error mapping) therefore runs for real, and a test can assert on what the bot *sent*
instead of on internals (the aiogram `MockedBot` pattern).

Beyond answering, it can misbehave on purpose: `fail_next` injects the failures the outbox has
to survive (429, 5xx, 403, chat migration, timeouts before and after the server accepted a
message) as real Bot API error responses, and `RateLimits` makes it answer 429 when the bot
sends faster than Telegram allows, counting each such send in `violations`.

Wire one instance into both request slots, so getUpdates and the other calls share state::

    api = OfflineBotAPI()
    app = Application.builder().token("123456:ABC-offline").request(api).get_updates_request(api)
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import logging
import math
import re
import struct
import threading
import time
import zlib
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import unquote

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from storage.clock import Clock, SystemClock

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]
ChatId = int | str

DEFAULT_BOT_ID: Final = 123456
"""Matches the numeric part of the conventional test token `123456:ABC-offline`."""
DEFAULT_BOT_USERNAME: Final = "govbot_demo_bot"
DEFAULT_BOT_FIRST_NAME: Final = "基层治理助手"

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64

# Methods that put a new message into a chat: these are what Telegram's flood limits count.
SEND_METHODS: Final = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup"})
# Methods whose record carries text a user of the chat gets to read (see `texts`).
_READABLE_METHODS: Final = SEND_METHODS | {"editMessageText", "editMessageCaption"}
# getUpdates is asked every few hundred milliseconds while polling; recording it would bury
# what the bot actually said under polling noise.
_UNRECORDED_METHODS: Final = frozenset({"getUpdates"})

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_HTML_TAG = re.compile(r"<[^>]+>")


# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One file the bot uploaded in a multipart request."""

    field: str
    filename: str
    mimetype: str
    data: bytes


@dataclass(frozen=True, slots=True)
class SentCall:
    """One Bot API call as the server saw it, in the order it arrived.

    `delivered` is False when the call was answered with an error or timed out before the server
    accepted it; `error` then says which. A timeout *after* acceptance is `delivered` with an
    error: the message reached the chat even though the bot never heard back.
    """

    method: str
    chat_id: ChatId | None
    text: str | None
    caption: str | None
    parse_mode: str | None
    reply_markup: Mapping[str, Any] | None
    photo_bytes: int | None
    message_id: int | None
    at: datetime
    params: Mapping[str, Any]
    files: tuple[UploadedFile, ...] = ()
    delivered: bool = True
    error: str | None = None

    @property
    def readable(self) -> str | None:
        """The text or caption a member of the chat reads."""
        return self.text if self.text is not None else self.caption


# --------------------------------------------------------------------------------------------
# Faults


class FaultKind(StrEnum):
    TOO_MANY_REQUESTS = "too_many_requests"
    SERVER_ERROR = "server_error"
    TIMEOUT_BEFORE_ACCEPT = "timeout_before_accept"
    TIMEOUT_AFTER_ACCEPT = "timeout_after_accept"
    FORBIDDEN = "forbidden"
    CHAT_MIGRATED = "chat_migrated"
    BAD_REQUEST = "bad_request"


@dataclass(frozen=True, slots=True)
class Fault:
    """A failure to inject with `OfflineBotAPI.fail_next`; build one with the class methods.

    Error faults become real Bot API error responses, so PTB's own mapping turns them into
    `RetryAfter`, `NetworkError`, `Forbidden`, `ChatMigrated` or `BadRequest`; the two timeout
    faults raise `telegram.error.TimedOut` from the transport, as httpx would.
    """

    kind: FaultKind
    status: int = 0
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def too_many_requests(cls, retry_after: int = 5) -> Fault:
        return cls(
            FaultKind.TOO_MANY_REQUESTS,
            429,
            f"Too Many Requests: retry after {retry_after}",
            {"retry_after": retry_after},
        )

    @classmethod
    def server_error(cls, status: int = 502) -> Fault:
        descriptions = {500: "Internal Server Error", 502: "Bad Gateway", 504: "Gateway Timeout"}
        return cls(FaultKind.SERVER_ERROR, status, descriptions.get(status, "Server Error"))

    @classmethod
    def timeout_before_accept(cls) -> Fault:
        return cls(FaultKind.TIMEOUT_BEFORE_ACCEPT)

    @classmethod
    def timeout_after_accept(cls) -> Fault:
        return cls(FaultKind.TIMEOUT_AFTER_ACCEPT)

    @classmethod
    def forbidden(
        cls, description: str = "Forbidden: bot was kicked from the group chat"
    ) -> Fault:
        return cls(FaultKind.FORBIDDEN, 403, description)

    @classmethod
    def chat_migrated(cls, new_chat_id: int) -> Fault:
        return cls(
            FaultKind.CHAT_MIGRATED,
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": new_chat_id},
        )

    @classmethod
    def bad_request(cls, description: str = "Bad Request: chat not found") -> Fault:
        return cls(FaultKind.BAD_REQUEST, 400, description)

    @property
    def is_timeout(self) -> bool:
        return self.kind in (FaultKind.TIMEOUT_BEFORE_ACCEPT, FaultKind.TIMEOUT_AFTER_ACCEPT)


@dataclass(slots=True)
class _PendingFault:
    method: str
    chat_id: ChatId | None
    fault: Fault
    remaining: int
    order: int  # faults are taken in the order they were injected

    @property
    def key(self) -> tuple[str, str | None]:
        """What it matches: one method, to one chat or (None) to any."""
        return self.method, None if self.chat_id is None else str(self.chat_id)


class BotAPIError(Exception):
    """An error answer (HTTP status plus Bot API description) raised inside a method handler."""

    def __init__(
        self, status: int, description: str, parameters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = dict(parameters or {})


# --------------------------------------------------------------------------------------------
# Rate limits


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Telegram's flood limits for sending messages.

    `scale` compresses time so benchmarks finish quickly: with `scale=60` every window is 60
    times shorter (20 messages per *second* to a group), and `retry_after` is scaled to match.
    """

    overall_per_second: int = 30
    group_per_minute: int = 20
    private_per_second: int = 1
    scale: float = 1.0


class _RateLimiter:
    """Sliding windows of send times, overall and per chat."""

    def __init__(self, limits: RateLimits, monotonic: Callable[[], float]) -> None:
        self._limits = limits
        self._monotonic = monotonic
        self._overall: deque[float] = deque()
        self._per_chat: defaultdict[str, deque[float]] = defaultdict(deque)

    def _chat_window(self, chat_id: ChatId | None) -> tuple[int, float]:
        is_group = isinstance(chat_id, str) or (chat_id is not None and chat_id < 0)
        if is_group:
            return self._limits.group_per_minute, 60.0
        return self._limits.private_per_second, 1.0

    def admit(self, chat_id: ChatId | None, weight: int) -> float | None:
        """Count `weight` messages to `chat_id` now; return seconds to wait if that is too many."""
        now = self._monotonic()
        chat_limit, chat_seconds = self._chat_window(chat_id)
        windows = (
            (self._overall, self._limits.overall_per_second, 1.0),
            (self._per_chat[str(chat_id)], chat_limit, chat_seconds),
        )
        wait = 0.0
        for sent_at, limit, seconds in windows:
            span = seconds / self._limits.scale
            while sent_at and sent_at[0] <= now - span:
                sent_at.popleft()
            if len(sent_at) + weight > limit:
                # The send fits once enough of the oldest sends have left the window.
                must_expire = min(len(sent_at) + weight - limit, len(sent_at)) - 1
                expires = sent_at[must_expire] + span if must_expire >= 0 else now + span
                wait = max(wait, expires - now)
        if wait > 0:
            return wait
        for sent_at, _, _ in windows:
            sent_at.extend([now] * weight)
        return None

    def retry_after(self, wait: float) -> int | float:
        """Telegram answers whole seconds; a scaled benchmark needs the fraction."""
        if self._limits.scale == 1:
            return max(1, math.ceil(wait))
        return math.ceil(wait * 1000) / 1000


# --------------------------------------------------------------------------------------------
# The transport


class OfflineBotAPI(BaseRequest):
    """Answers Bot API calls in-process and records every call the bot made.

    Pass the same instance as `request` and `get_updates_request`: the updates queued with
    `feed` and the messages the bot sends then live in one place. `initialize` and `shutdown`
    are idempotent for that reason (PTB calls each once per slot).
    """

    def __init__(
        self,
        *,
        bot_id: int = DEFAULT_BOT_ID,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = DEFAULT_BOT_FIRST_NAME,
        clock: Clock | None = None,
        rate_limits: RateLimits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        message_ids: Callable[[int], int] | None = None,
    ) -> None:
        """`message_ids` lets the bot's messages share one numbering per chat with updates built
        outside the server (test factories): Telegram numbers incoming and outgoing messages of
        a chat in one sequence, and tests that `process_update` directly never `feed` them."""
        self._bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._clock: Clock = clock or SystemClock()
        self._rate_limiter = _RateLimiter(rate_limits, monotonic) if rate_limits else None
        self.violations = 0

        self._records: list[SentCall] = []
        # Injected faults by what they match, each queue in injection order, so a request finds
        # its own without a scan (a fan-out benchmark holds hundreds of faults for as many chats).
        self._faults_by_key: dict[tuple[str, str | None], deque[_PendingFault]] = {}
        self._fault_order = itertools.count()
        self._files: dict[str, bytes] = {}
        self._file_ids = itertools.count(1)
        self._media_groups = itertools.count(1)
        self._last_message_id: defaultdict[str, int] = defaultdict(int)
        self._message_id_source = message_ids
        self._messages: dict[tuple[str, int], JSONDict] = {}
        self._chats: dict[str, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._members: dict[tuple[str, int], str] = {}
        self._commands: dict[str, list[JSONDict]] = {}

        # feed() may be called from another thread (`govbot chat` reads stdin in one).
        self._updates_lock = threading.Lock()
        self._updates: list[JSONDict] = []
        self._next_update_id = 1
        self._update_waiters: list[asyncio.Future[None]] = []
        self._record_waiters: list[asyncio.Future[None]] = []

        self._handlers: dict[str, Callable[[JSONDict, Mapping[str, UploadedFile]], Any]] = {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": _true,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": _true,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "sendChatAction": _true,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageCaption": self._edit_message_caption,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": _true,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "getFile": self._get_file,
            "leaveChat": _true,
            "pinChatMessage": _true,
        }

    # -- BaseRequest ---------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        """Nothing to open: there is no connection pool."""

    async def shutdown(self) -> None:
        """Nothing to close; records stay readable after the application shut down."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,  # noqa: ARG002
        write_timeout: object = BaseRequest.DEFAULT_NONE,  # noqa: ARG002
        connect_timeout: object = BaseRequest.DEFAULT_NONE,  # noqa: ARG002
        pool_timeout: object = BaseRequest.DEFAULT_NONE,  # noqa: ARG002
    ) -> tuple[int, bytes]:
        """Answer one HTTP request as api.telegram.org would."""
        if method == "GET":
            return self._download(url)
        api_method = url.rsplit("/", 1)[-1]
        params = _params(request_data)
        files = _uploads(request_data)
        logger.debug("offline Bot API call %s to %s", api_method, params.get("chat_id"))
        if api_method == "getUpdates":
            return await self._answer_get_updates(params)
        return self._answer(api_method, params, files)

    # -- Public helpers: updates -----------------------------------------------------------------

    @property
    def bot_user(self) -> JSONDict:
        """The bot as a Telegram `User` dict (what getMe answers, minus the capability flags)."""
        return dict(self._bot_user)

    def feed(self, update: Mapping[str, Any]) -> int:
        """Queue an incoming update for getUpdates; returns its update_id.

        Chats, users and message ids in the update are remembered, so the bot's replies get
        the right chat type and title and continue the chat's message numbering.
        """
        data = json.loads(json.dumps(dict(update)))
        with self._updates_lock:
            if "update_id" not in data:
                data["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, data["update_id"] + 1)
            self._updates.append(data)
        self._learn(data)
        self._wake(self._update_waiters)
        return int(data["update_id"])

    @property
    def pending_updates(self) -> int:
        """Updates fed but not yet confirmed by a getUpdates offset."""
        with self._updates_lock:
            return len(self._updates)

    # -- Public helpers: server-side facts ---------------------------------------------------

    def add_file(self, file_id: str, data: bytes) -> None:
        """Make `file_id` answerable by getFile and downloadable through the file URL."""
        self._files[file_id] = bytes(data)

    def add_chat(self, chat: Mapping[str, Any]) -> None:
        """Tell the server a chat's type and title (feed() learns them from updates too)."""
        self._chats[str(chat["id"])] = dict(chat)

    def set_member(self, chat_id: ChatId, user: Mapping[str, Any], status: str) -> None:
        """Set what getChatMember/getChatAdministrators answer for `user` in `chat_id`."""
        if status not in _MEMBER_STATUSES:
            raise ValueError(
                f"unsupported member status {status!r}; use one of {_MEMBER_STATUSES}"
            )
        self._users[int(user["id"])] = dict(user)
        self._members[(str(chat_id), int(user["id"]))] = status

    # -- Public helpers: records -------------------------------------------------------------

    @property
    def calls(self) -> tuple[SentCall, ...]:
        """Every recorded call in arrival order, including ones answered with an error."""
        return tuple(self._records)

    def sent(self, chat_id: ChatId | None = None, method: str | None = None) -> list[SentCall]:
        """Delivered calls, optionally only those to `chat_id` and/or of `method`."""
        return [
            call
            for call in self._records
            if call.delivered
            and (chat_id is None or str(call.chat_id) == str(chat_id))
            and (method is None or call.method == method)
        ]

    def texts(self, chat_id: ChatId) -> list[str]:
        """What members of `chat_id` got to read: sent texts and captions, and edits to them."""
        return [
            call.readable
            for call in self.sent(chat_id)
            if call.method in _READABLE_METHODS and call.readable is not None
        ]

    def last(self, chat_id: ChatId | None = None) -> SentCall:
        """The latest delivered call (to `chat_id`, if given)."""
        calls = self.sent(chat_id)
        if not calls:
            raise LookupError(
                f"nothing was delivered{'' if chat_id is None else f' to {chat_id}'}"
            )
        return calls[-1]

    def clear(self) -> None:
        """Forget the records (not files, chats, faults or message numbering)."""
        self._records.clear()

    async def wait_for_sent(
        self, *, chat_id: ChatId | None = None, method: str | None = None, count: int = 1
    ) -> list[SentCall]:
        """Wait until `count` matching calls were delivered; bound it with `asyncio.timeout`.

        Polling tests need it: the reply is sent by a task the test does not await.
        """
        await self._wait_until(
            self._record_waiters, lambda: len(self.sent(chat_id, method)) >= count
        )
        return self.sent(chat_id, method)

    # -- Public helpers: faults -------------------------------------------------------------

    def fail_next(
        self, method: str, chat_id: ChatId | None = None, *, error: Fault, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `method` (to `chat_id`, if given) with `error`."""
        pending = _PendingFault(method, chat_id, error, times, next(self._fault_order))
        self._faults_by_key.setdefault(pending.key, deque()).append(pending)

    @property
    def pending_faults(self) -> int:
        return sum(fault.remaining for queue in self._faults_by_key.values() for fault in queue)

    # -- Answering -----------------------------------------------------------------------------

    def _answer(
        self, method: str, params: JSONDict, files: Mapping[str, UploadedFile]
    ) -> tuple[int, bytes]:
        fault = self._take_fault(method, params.get("chat_id"))
        if fault is not None and fault.kind is FaultKind.TIMEOUT_BEFORE_ACCEPT:
            self._record(method, params, files, None, delivered=False, error="timed out")
            raise TimedOut("Timed out (offline fault: before the server accepted the request)")
        try:
            if fault is not None and not fault.is_timeout:
                raise BotAPIError(fault.status, fault.description, fault.parameters)
            self._enforce_rate_limits(method, params)
            result = self._dispatch(method, params, files)
        except BotAPIError as exc:
            self._record(method, params, files, None, delivered=False, error=exc.description)
            return _error(exc)
        if fault is not None:  # TIMEOUT_AFTER_ACCEPT: it reached the chat, the answer did not
            self._record(method, params, files, result, error="timed out after delivery")
            raise TimedOut("Timed out (offline fault: after the server accepted the request)")
        self._record(method, params, files, result)
        return _ok(result)

    def _dispatch(self, method: str, params: JSONDict, files: Mapping[str, UploadedFile]) -> Any:
        handler = self._handlers.get(method)
        if handler is None:
            # No "Bad Request: " prefix: PTB would strip it and lower-case the rest, losing the
            # method's spelling that the reader needs to find the gap.
            raise BotAPIError(
                400, f"OfflineBotAPI does not implement Bot API method {method!r}: add it"
            )
        return handler(params, files)

    def _take_fault(self, method: str, chat_id: ChatId | None) -> Fault | None:
        """The earliest injected fault for this method and chat (or any chat), used once."""
        if not self._faults_by_key:
            return None
        heads = [
            queue[0]
            for queue in (
                self._faults_by_key.get((method, str(chat_id))),
                self._faults_by_key.get((method, None)),
            )
            if queue
        ]
        if not heads:
            return None
        pending = min(heads, key=lambda head: head.order)
        pending.remaining -= 1
        if pending.remaining <= 0:
            queue = self._faults_by_key[pending.key]
            queue.popleft()
            if not queue:
                del self._faults_by_key[pending.key]
        return pending.fault

    def _enforce_rate_limits(self, method: str, params: JSONDict) -> None:
        if self._rate_limiter is None or method not in SEND_METHODS:
            return
        weight = len(params.get("media", ())) if method == "sendMediaGroup" else 1
        wait = self._rate_limiter.admit(params.get("chat_id"), max(1, weight))
        if wait is None:
            return
        self.violations += 1
        retry_after = self._rate_limiter.retry_after(wait)
        raise BotAPIError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    def _record(
        self,
        method: str,
        params: JSONDict,
        files: Mapping[str, UploadedFile],
        result: Any,
        *,
        delivered: bool = True,
        error: str | None = None,
    ) -> None:
        if method in _UNRECORDED_METHODS:
            return
        photo = files.get("photo")
        message_id = params.get("message_id")
        if isinstance(result, dict) and "message_id" in result:
            message_id = result["message_id"]
        elif isinstance(result, list) and result and isinstance(result[0], dict):
            message_id = result[0].get("message_id")
        self._records.append(
            SentCall(
                method=method,
                chat_id=params.get("chat_id"),
                text=params.get("text"),
                caption=params.get("caption"),
                parse_mode=params.get("parse_mode"),
                reply_markup=_frozen(params.get("reply_markup")),
                photo_bytes=len(photo.data) if photo is not None else None,
                message_id=message_id if delivered else None,
                at=self._clock.now(),
                params=MappingProxyType(params),
                files=tuple(files.values()),
                delivered=delivered,
                error=error,
            )
        )
        self._wake(self._record_waiters)

    # -- Waking waiters across threads -------------------------------------------------------

    @staticmethod
    def _wake(waiters: list[asyncio.Future[None]]) -> None:
        for waiter in list(waiters):
            with contextlib.suppress(RuntimeError):  # its loop is already closed
                waiter.get_loop().call_soon_threadsafe(_resolve, waiter)

    @staticmethod
    async def _wait_until(waiters: list[asyncio.Future[None]], ready: Callable[[], bool]) -> None:
        """Sleep until `ready()`; the waiter is registered before the check, so a wake-up from
        another thread between the check and the await cannot be lost."""
        while True:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            waiters.append(waiter)
            try:
                if ready():
                    return
                await waiter
            finally:
                waiters.remove(waiter)

    # -- getUpdates ----------------------------------------------------------------------------

    async def _answer_get_updates(self, params: JSONDict) -> tuple[int, bytes]:
        """Polling can be failed too (to test the Updater's retry loop), but is never recorded."""
        fault = self._take_fault("getUpdates", None)
        if fault is not None and fault.is_timeout:
            raise TimedOut("Timed out (offline fault on getUpdates)")
        if fault is not None:
            return _error(BotAPIError(fault.status, fault.description, fault.parameters))
        return _ok(await self._get_updates(params))

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        """Long polling: confirm by offset, then wait up to `timeout` for something to arrive."""
        self._confirm(params.get("offset"))
        timeout = float(params.get("timeout") or 0)
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wait_until(self._update_waiters, lambda: self.pending_updates > 0)
        limit = int(params.get("limit") or 100)
        allowed = params.get("allowed_updates") or None
        with self._updates_lock:
            ready = [u for u in self._updates if allowed is None or _update_kind(u) in allowed]
        return ready[:limit]

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        with self._updates_lock:
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _delete_webhook(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> bool:
        if params.get("drop_pending_updates"):
            with self._updates_lock:
                self._updates.clear()
        return True

    def _learn(self, update: JSONDict) -> None:
        for obj in _nested_dicts(update):
            chat = obj.get("chat")
            if isinstance(chat, dict) and "id" in chat and "type" in chat:
                self._chats.setdefault(str(chat["id"]), chat)
                if isinstance(obj.get("message_id"), int):
                    key = str(chat["id"])
                    self._last_message_id[key] = max(self._last_message_id[key], obj["message_id"])
            user = obj.get("from")
            if isinstance(user, dict) and "id" in user:
                self._users.setdefault(int(user["id"]), user)

    # -- Bot and commands ----------------------------------------------------------------------

    def _get_me(self, _: JSONDict, __: Mapping[str, UploadedFile]) -> JSONDict:
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _set_my_commands(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> bool:
        self._commands[_commands_key(params)] = list(params.get("commands", []))
        return True

    def _get_my_commands(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> list[JSONDict]:
        return self._commands.get(_commands_key(params), [])

    def _delete_my_commands(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    # -- Messages ------------------------------------------------------------------------------

    def _new_message(self, chat_id: ChatId, content: JSONDict, params: JSONDict) -> JSONDict:
        key = str(chat_id)
        message_id = self._last_message_id[key] + 1
        if self._message_id_source is not None and isinstance(chat_id, int):
            message_id = max(message_id, self._message_id_source(chat_id))
        self._last_message_id[key] = message_id
        message: JSONDict = {
            "message_id": self._last_message_id[key],
            "from": dict(self._bot_user),
            "date": int(self._clock.now().timestamp()),
            "chat": self._chat(chat_id),
            **content,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._messages[(key, message["message_id"])] = message
        return message

    def _send_message(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> JSONDict:
        text = str(params.get("text") or "")
        visible = _visible_text(text, params.get("parse_mode"))
        if not visible.strip():
            raise BotAPIError(400, "Bad Request: message text is empty")
        if len(visible) > MAX_TEXT_LENGTH:
            raise BotAPIError(400, "Bad Request: message is too long")
        _check_reply_markup(params.get("reply_markup"))
        return self._new_message(_chat_id(params), {"text": visible}, params)

    def _caption(self, params: JSONDict) -> JSONDict:
        caption = params.get("caption")
        if caption is None:
            return {}
        visible = _visible_text(str(caption), params.get("parse_mode"))
        if len(visible) > MAX_CAPTION_LENGTH:
            raise BotAPIError(400, "Bad Request: message caption is too long")
        return {"caption": visible}

    def _send_photo(self, params: JSONDict, files: Mapping[str, UploadedFile]) -> JSONDict:
        photo = self._photo_sizes(params.get("photo"), files, "photo")
        _check_reply_markup(params.get("reply_markup"))
        content = {"photo": photo, **self._caption(params)}
        return self._new_message(_chat_id(params), content, params)

    def _send_document(self, params: JSONDict, files: Mapping[str, UploadedFile]) -> JSONDict:
        document = self._document(params.get("document"), files, "document")
        _check_reply_markup(params.get("reply_markup"))
        content = {"document": document, **self._caption(params)}
        return self._new_message(_chat_id(params), content, params)

    def _send_media_group(
        self, params: JSONDict, files: Mapping[str, UploadedFile]
    ) -> list[JSONDict]:
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise BotAPIError(400, "Bad Request: wrong number of media in the album")
        group_id = str(next(self._media_groups))
        messages = []
        for item in media:
            kind = item.get("type")
            if kind == "photo":
                content: JSONDict = {"photo": self._photo_sizes(item.get("media"), files, "")}
            elif kind == "document":
                content = {"document": self._document(item.get("media"), files, "")}
            else:
                raise BotAPIError(400, f"Bad Request: unsupported media type {kind!r} offline")
            content |= self._caption(item) | {"media_group_id": group_id}
            messages.append(self._new_message(_chat_id(params), content, {}))
        return messages

    def _find_message(self, params: JSONDict) -> JSONDict | None:
        if "inline_message_id" in params:
            return None
        key = (str(_chat_id(params)), int(params.get("message_id") or 0))
        # Lenient on purpose: tests often edit a message the bot "sent" in a factory-built
        # callback update, which this server never saw. Start from an empty message then.
        return self._messages.setdefault(
            key,
            {
                "message_id": key[1],
                "from": dict(self._bot_user),
                "date": int(self._clock.now().timestamp()),
                "chat": self._chat(key[0]),
            },
        )

    def _edit(self, params: JSONDict, changes: JSONDict) -> JSONDict | bool:
        message = self._find_message(params)
        if message is None:  # inline messages answer True
            return True
        markup = params.get("reply_markup")
        _check_reply_markup(markup)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            changes["reply_markup"] = markup
        else:
            changes["reply_markup"] = None
        if all(message.get(name) == value for name, value in changes.items()):
            raise BotAPIError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message.update(changes)
        message["edit_date"] = int(self._clock.now().timestamp())
        return {key: value for key, value in message.items() if value is not None}

    def _edit_message_text(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> Any:
        visible = _visible_text(str(params.get("text") or ""), params.get("parse_mode"))
        if not visible.strip():
            raise BotAPIError(400, "Bad Request: message text is empty")
        if len(visible) > MAX_TEXT_LENGTH:
            raise BotAPIError(400, "Bad Request: MESSAGE_TOO_LONG")
        return self._edit(params, {"text": visible})

    def _edit_message_caption(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> Any:
        return self._edit(params, {"caption": self._caption(params).get("caption")})

    def _edit_message_reply_markup(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> Any:
        return self._edit(params, {})

    def _delete_message(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> bool:
        self._messages.pop((str(_chat_id(params)), int(params.get("message_id") or 0)), None)
        return True

    # -- Files ---------------------------------------------------------------------------------

    def _store_upload(self, upload: UploadedFile) -> tuple[str, str]:
        number = next(self._file_ids)
        file_id = f"offline-{upload.field or 'media'}-{number}"
        self._files[file_id] = upload.data
        return file_id, f"offline-unique-{number}"

    def _resolve_upload(
        self, value: Any, files: Mapping[str, UploadedFile], field_name: str
    ) -> UploadedFile | str:
        """An input-file parameter is an upload (multipart part) or a file_id / URL string."""
        if isinstance(value, str) and value.startswith("attach://"):
            part = files.get(value.removeprefix("attach://"))
        elif value is None:
            part = files.get(field_name)
        else:
            return str(value)
        if part is None:
            raise BotAPIError(
                400, f"Bad Request: there is no {field_name or 'media'} in the request"
            )
        return part

    def _photo_sizes(
        self, value: Any, files: Mapping[str, UploadedFile], field_name: str
    ) -> list[JSONDict]:
        """Telegram answers a photo with several sizes; a thumbnail and the original will do."""
        source = self._resolve_upload(value, files, field_name)
        if isinstance(source, str):
            file_id, unique_id = source, f"unique-{source[-16:]}"
            size, (width, height) = len(self._files.get(source, b"")), (1280, 720)
        else:
            file_id, unique_id = self._store_upload(source)
            size, (width, height) = len(source.data), _png_size(source.data) or (1280, 720)
        scale = 90 / max(width, height, 1)
        thumbnail = {
            "file_id": f"{file_id}-thumb",
            "file_unique_id": f"{unique_id}-thumb",
            "width": max(1, round(width * scale)),
            "height": max(1, round(height * scale)),
            "file_size": max(1, size // 20),
        }
        original = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "width": width,
            "height": height,
            "file_size": size,
        }
        return [thumbnail, original]

    def _document(
        self, value: Any, files: Mapping[str, UploadedFile], field_name: str
    ) -> JSONDict:
        source = self._resolve_upload(value, files, field_name)
        if isinstance(source, str):
            return {"file_id": source, "file_unique_id": f"unique-{source[-16:]}"}
        file_id, unique_id = self._store_upload(source)
        return {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "file_name": source.filename,
            "mime_type": source.mimetype,
            "file_size": len(source.data),
        }

    def _get_file(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> JSONDict:
        file_id = str(params.get("file_id"))
        if file_id not in self._files:
            raise BotAPIError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"unique-{file_id[-16:]}",
            "file_size": len(self._files[file_id]),
            "file_path": f"files/{file_id}",
        }

    def _download(self, url: str) -> tuple[int, bytes]:
        """GET <base_file_url>/<file_path>: serve bytes registered for that file."""
        _, _, rest = url.partition("/file/bot")
        _, _, file_path = rest.partition("/")
        file_id = unquote(file_path).removeprefix("files/")
        data = self._files.get(file_id)
        if data is None:
            return _error(BotAPIError(404, "Not Found"))
        return 200, data

    # -- Chats and members ---------------------------------------------------------------------

    def _chat(self, chat_id: ChatId) -> JSONDict:
        known = self._chats.get(str(chat_id))
        if known is not None:
            fields = ("id", "type", "title", "first_name", "username")
            return {name: known[name] for name in fields if name in known}
        if isinstance(chat_id, str) and not chat_id.lstrip("-").isdigit():
            stable_id = -1_000_000_000_000 - zlib.crc32(chat_id.encode())
            return {"id": stable_id, "type": "channel", "title": chat_id, "username": chat_id[1:]}
        number = int(chat_id)
        if number > 0:
            return {"id": number, "type": "private", "first_name": f"User {number}"}
        # Supergroup and channel ids look like -100 followed by ten or more digits.
        kind = "supergroup" if str(number).startswith("-100") and number < -(10**12) else "group"
        return {"id": number, "type": kind, "title": f"Chat {number}"}

    def _get_chat(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> JSONDict:
        gifts = (
            "unlimited_gifts",
            "limited_gifts",
            "unique_gifts",
            "premium_subscription",
            "gifts_from_channels",
        )
        return {
            **self._chat(_chat_id(params)),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(gifts, False),
        }

    def _user(self, user_id: int) -> JSONDict:
        if user_id == self._bot_user["id"]:
            return dict(self._bot_user)
        unknown = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        return dict(self._users.get(user_id, unknown))

    def _get_chat_member(self, params: JSONDict, _: Mapping[str, UploadedFile]) -> JSONDict:
        user_id = int(params["user_id"])
        status = self._members.get((str(_chat_id(params)), user_id), "member")
        return chat_member_dict(self._user(user_id), status)

    def _get_chat_administrators(
        self, params: JSONDict, _: Mapping[str, UploadedFile]
    ) -> list[JSONDict]:
        chat = str(_chat_id(params))
        return [
            chat_member_dict(self._user(user_id), status)
            for (member_chat, user_id), status in self._members.items()
            if member_chat == chat and status in ("creator", "administrator")
        ]


# --------------------------------------------------------------------------------------------
# Bot API object builders shared with the test factories


_MEMBER_STATUSES: Final = ("creator", "administrator", "member", "left", "kicked")
_ADMIN_RIGHTS: Final = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_pin_messages",
)  # fmt: skip


def chat_member_dict(user: Mapping[str, Any], status: str) -> JSONDict:
    """A ChatMember dict with the fields PTB requires for `status`."""
    member: JSONDict = {"status": status, "user": dict(user)}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member |= {"can_be_edited": False, "is_anonymous": False}
        member |= dict.fromkeys(_ADMIN_RIGHTS, True)
    elif status == "kicked":
        member["until_date"] = 0
    elif status not in ("member", "left"):
        raise ValueError(f"unsupported member status {status!r}")
    return member


# --------------------------------------------------------------------------------------------
# Small pure helpers


def _true(_: JSONDict, __: Mapping[str, UploadedFile]) -> bool:
    return True


def _ok(result: Any) -> tuple[int, bytes]:
    return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()


def _error(exc: BotAPIError) -> tuple[int, bytes]:
    body: JSONDict = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return exc.status, json.dumps(body, ensure_ascii=False).encode()


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _params(request_data: RequestData | None) -> JSONDict:
    """The request's parameters as plain JSON values (a private copy the bot cannot mutate).

    Plain scalars are already that; only the rest (nested objects, ``str`` or ``int``
    subclasses such as enums) go through a JSON round trip. Doing it for every value was a
    tenth of a fan-out's CPU per message.
    """
    if request_data is None:
        return {}
    return {
        name: value if type(value) in _PLAIN_SCALARS else json.loads(json.dumps(value))
        for name, value in request_data.parameters.items()
    }


_PLAIN_SCALARS: Final = frozenset({str, int, float, bool})


def _uploads(request_data: RequestData | None) -> dict[str, UploadedFile]:
    if request_data is None or not request_data.contains_files:
        return {}
    uploads = {}
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        uploads[name] = UploadedFile(name, filename, mimetype, data)
    return uploads


def _chat_id(params: JSONDict) -> ChatId:
    chat_id = params.get("chat_id")
    if chat_id is None:
        raise BotAPIError(400, "Bad Request: chat_id is empty")
    if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
        return int(chat_id)
    return chat_id if isinstance(chat_id, int | str) else str(chat_id)


def _commands_key(params: JSONDict) -> str:
    return json.dumps([params.get("scope"), params.get("language_code")], sort_keys=True)


def _visible_text(text: str, parse_mode: Any) -> str:
    """What the chat shows: Telegram strips HTML tags and counts limits after that."""
    if str(parse_mode).upper() == "HTML":
        return html.unescape(_HTML_TAG.sub("", text))
    return text


def _check_reply_markup(markup: Any) -> None:
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and len(str(data).encode()) > MAX_CALLBACK_DATA_BYTES:
                raise BotAPIError(400, "Bad Request: BUTTON_DATA_INVALID")


def _frozen(markup: Any) -> Mapping[str, Any] | None:
    return MappingProxyType(markup) if isinstance(markup, dict) else None


def _png_size(data: bytes) -> tuple[int, int] | None:
    if not data.startswith(_PNG_SIGNATURE) or len(data) < 24:
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _update_kind(update: Mapping[str, Any]) -> str | None:
    return next((key for key in update if key != "update_id"), None)


def _nested_dicts(value: Any) -> Iterable[JSONDict]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nested_dicts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nested_dicts(item)
