"""What every handler gets: the shared services, the clock, database access off the event loop,
the user's language, and one way to reply."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.ext import Application, CallbackContext, ExtBot

from handlers.i18n import DEFAULT_LOCALE, Messages
from storage.clock import Clock
from storage.db import Database
from storage.roster import member_by_user
from storage.tables import Member

T = TypeVar("T")


@dataclass
class Services:
    """Everything the handlers share, created once by the application factory."""

    db: Database
    clock: Clock
    tz: ZoneInfo
    default_locale: str = DEFAULT_LOCALE
    admin_chat_id: int | None = None
    bot_username: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class GovContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with govbot's services."""

    @property
    def services(self) -> Services:
        services: Services = self.bot_data["services"]
        return services

    def now(self) -> datetime:
        return self.services.clock.now()

    async def db(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Run a storage function ``fn(session=…, **kwargs)`` in a worker thread."""
        return await run_db(self.services.db, fn, **kwargs)

    async def member(self, update: Update) -> Member | None:
        user = update.effective_user
        if user is None:
            return None
        return await self.db(member_by_user, user_id=user.id)

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


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    """Reply in the chat the update came from (HTML parse mode is the default)."""
    message = update.effective_message
    if message is None:
        chat = update.effective_chat
        if chat is None:
            return None
        return await chat.send_message(text, **kwargs)
    return await message.reply_text(text, **kwargs)
