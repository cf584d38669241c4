"""What every handler gets: the shared services, the clock, database access off the event loop,
the user's language, and one way to reply."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from telegram import Bot, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackContext, ExtBot

from handlers.i18n import DEFAULT_LOCALE, Messages
from storage.clock import Clock
from storage.db import Database
from storage.roster import member_snapshot
from storage.tables import Member

T = TypeVar("T")

LATER_SECONDS = 0.2  # how long a queued reply or card id may wait for another session


@dataclass
class Services:
    """Everything the handlers share, created once by the application factory."""

    db: Database
    clock: Clock
    tz: ZoneInfo
    default_locale: str = DEFAULT_LOCALE
    admin_chat_id: int | None = None
    bot_username: str | None = None
    # Hands newly queued outbox rows to the sender (set by bot/app.py: handlers may not import
    # bot/). None: the rows wait for whatever sender drains the outbox next.
    deliver_outbox: Callable[[], Awaitable[None]] | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    later_timer: asyncio.TimerHandle | None = None  # GovContext.write_soon's


class GovContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with govbot's services."""

    _govbot_member: tuple[int, Member | None] | None = None  # (user id, member), per update

    @property
    def services(self) -> Services:
        services: Services = self.bot_data["services"]
        return services

    def now(self) -> datetime:
        return self.services.clock.now()

    def today(self) -> date:
        """The local date (``services.tz``): what "today" means to the people in the chats."""
        return self.now().astimezone(self.services.tz).date()

    async def db(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Run a storage function ``fn(session=…, **kwargs)`` in a worker thread."""
        return await run_db(self.services.db, fn, **kwargs)

    async def db_quick(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Run a short storage function on the event loop if it can (:func:`run_db_quick`)."""
        return await run_db_quick(self.services.db, fn, **kwargs)

    def write_soon(self) -> None:
        """Commit what storage queued with ``Database.later`` within :data:`LATER_SECONDS`, if
        no other session that takes the write lock commits it sooner (the next message's
        usually does)."""
        services = self.services
        if services.later_timer is None:
            loop = asyncio.get_running_loop()
            services.later_timer = loop.call_later(LATER_SECONDS, _write_later, services)

    async def member(self, update: Update) -> Member | None:
        """The sender's member row, looked up once per update (PTB makes a context per call)."""
        user = update.effective_user
        if user is None:
            return None
        cached = self._govbot_member
        if cached is None or cached[0] != user.id:
            cached = (user.id, await self.db_quick(member_snapshot, user_id=user.id))
            self._govbot_member = cached
        return cached[1]

    def remember_member(self, user_id: int, member: Member | None) -> None:
        """The sender's member row, read by a storage call that needed it anyway."""
        self._govbot_member = (user_id, member)

    def forget_member(self) -> None:
        """Drop the cached member after this update changed who they are (joined, left)."""
        self._govbot_member = None

    async def messages(self, update: Update) -> Messages:
        """The catalogue in the user's language (their /lang choice, else the default)."""
        member = await self.member(update)
        return Messages(member.language if member else self.services.default_locale)


GovApplication = Application[
    ExtBot[None], GovContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]


async def run_db(database: Database, fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Blocking database work runs off the event loop, in its own session."""

    def work() -> T:
        with database.session() as session:
            return fn(session=session, **kwargs)

    return await asyncio.to_thread(work)


async def run_db_quick(database: Database, fn: Callable[..., T], /, **kwargs: Any) -> T:
    """A short storage call on a message's path: on the event loop when the write lock is free,
    else in a worker thread, as :func:`run_db`.

    For point lookups and the few rows one message writes (about a millisecond of work, mostly
    Python). A worker thread does not keep such work off the loop, since it holds the GIL while
    it runs; the hop itself cost more than the work: about a third of a logged message's CPU
    (docs/performance.md). What a thread does spare the loop is waiting, and here nothing waits:
    the write lock is taken only if free (:meth:`Database.session_if_free`), and WAL readers
    never wait. Scans, exports and scoring stay on :func:`run_db`.

    It still yields to the loop once, as the thread hop did: a database call stays a point
    where the sender, the jobs and the update fetcher get their turn, even while a stream of
    updates is handled back to back.
    """
    with database.session_if_free() as session:
        if session is not None:
            result = fn(session=session, **kwargs)
    if session is None:
        return await run_db(database, fn, **kwargs)
    await asyncio.sleep(0)  # with the session closed: a read's transaction holds the lock too
    return result


def _write_later(services: Services) -> None:
    """The timer: commit the queued writes on the loop if the write lock is free, else look
    again a moment later (never wait on the loop). An error is logged and the timer rearmed
    by the next :meth:`GovContext.write_soon`."""
    services.later_timer = None
    with services.db.session_if_free() as session:
        if session is not None:
            return  # opening it committed the queued writes (Database.later)
    loop = asyncio.get_running_loop()
    services.later_timer = loop.call_later(LATER_SECONDS, _write_later, services)


async def reply(
    update: Update, text: str, *, reply_markup: InlineKeyboardMarkup | None = None
) -> int | None:
    """Reply in the chat the update came from, quoting the message in a group as PTB's
    ``Message.reply_text`` does (HTML); the reply's message id."""
    message = update.effective_message
    if message is None:
        chat = update.effective_chat
        if chat is None:
            return None
        return await send_text(update.get_bot(), chat.id, text, reply_markup=reply_markup)
    return await send_text(message.get_bot(), message.chat.id, text, reply_markup, quoting=message)


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    *,
    quoting: Message | None = None,
) -> int:
    """Send an HTML text message to ``chat_id``, as a reply to ``quoting`` if given; its id.

    The request is the one PTB's ``Bot.send_message`` / ``Message.reply_text`` makes (quoted in
    a group, not in a private chat; in the message's forum topic), but Telegram's answer is not
    turned into a ``Message``: every caller needs only the id, and building the ``Message`` (the
    quoted message and the keyboard inside it again) was about a tenth of a logged message's
    CPU (docs/performance.md, "Ingest"). ``Bot._post`` is PTB's own last step, as for the
    outbox sender; tests/handlers/test_context.py checks the requests stay identical. Telegram's
    errors raise as from ``send_message``. A message from a business connection or a channel's
    direct messages takes PTB's own ``reply_text``, which knows those routes.
    """
    data: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
    if quoting is not None:
        if quoting.business_connection_id or quoting.direct_messages_topic:
            return (await quoting.reply_text(text, reply_markup=reply_markup)).message_id
        if quoting.is_topic_message and quoting.message_thread_id is not None:
            data["message_thread_id"] = quoting.message_thread_id
        if quoting.chat.type != Chat.PRIVATE:
            data["reply_parameters"] = _reply_parameters(bot, quoting.message_id)
    if reply_markup is not None:
        data["reply_markup"] = _keyboard_data(reply_markup)
    sent = await bot._post("sendMessage", data)
    if not isinstance(sent, dict):
        raise TelegramError(f"sendMessage answered {sent!r}, not a message")
    return int(sent["message_id"])


def _reply_parameters(bot: Bot, message_id: int) -> dict[str, Any]:
    """``ReplyParameters(message_id)`` as it reaches Telegram from ``reply_text``: with the two
    fields ``Defaults`` sets filled in as ``ExtBot`` fills them (it copies the object to do so,
    and the copy and its ``to_dict`` were a fortieth of a logged message's CPU)."""
    data: dict[str, Any] = {"message_id": message_id}
    defaults = bot.defaults if isinstance(bot, ExtBot) else None
    if defaults is not None:
        if defaults.allow_sending_without_reply is not None:
            data["allow_sending_without_reply"] = defaults.allow_sending_without_reply
        if defaults.quote_parse_mode is not None:
            data["quote_parse_mode"] = defaults.quote_parse_mode
    return data


# Every field of a button but its label and callback data: a button with all of them unset is
# sent as those two alone, which is all govbot's keyboards hold.
_BUTTON_EXTRAS = tuple(
    name for name in InlineKeyboardButton.__slots__ if name not in ("text", "callback_data")
)


def _keyboard_data(markup: InlineKeyboardMarkup) -> dict[str, Any] | InlineKeyboardMarkup:
    """The keyboard as ``to_dict`` gives it, built directly when every button is a plain
    callback button (PTB's generic ``to_dict`` took about 65 µs for three buttons, a
    twentieth of a logged message); any other keyboard is passed on for PTB to convert."""
    rows = markup.inline_keyboard
    if markup.api_kwargs or not rows or not all(_plain(b) for row in rows for b in row):
        return markup
    return {
        "inline_keyboard": [
            [{"text": button.text, "callback_data": button.callback_data} for button in row]
            for row in rows
        ]
    }


def _plain(button: InlineKeyboardButton) -> bool:
    return not button.api_kwargs and all(getattr(button, name) is None for name in _BUTTON_EXTRAS)
