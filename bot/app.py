"""The composition root: one factory builds the Application for `run`, `demo`, `chat` and tests.

Only the transport differs: real Telegram through PTB's HTTPX request, or the in-process
offline Bot API (``bot.offline``) for the demo, the terminal chat and the tests.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot.digest import commands as digest
from bot.sender import drain_outbox, start_sender, stop_sender
from bot.settings import OFFLINE_TOKEN, Settings
from bot.weekly import schedule_jobs as schedule_weekly_jobs
from handlers import (
    activities,
    admin,
    chats,
    checkins,
    errors,
    export,
    imports,
    issues,
    start,
)
from handlers.context import GovApplication, GovContext, Services, run_db
from storage.clock import Clock, SystemClock
from storage.db import Database
from storage.org_tree import org_tree

logger = logging.getLogger(__name__)

# Handler modules in the order their handlers are tried (all in group 0: the first match wins).
# `chats` first: status updates must never be taken for messages; `errors` last: its catch-all
# answers only commands nobody else handled. `issues` before `start`: its #报事 handler and the
# private /report conversation must win over start's private plain-text fallback to /help.
# `activities` and `checkins` before `start` too, for the same reason (#志愿, 无异常, the
# answer to "请回复新的人数"). `digest` (/index, /digest) lives in bot/digest/ because it needs
# the digest renderer, and handlers may not import bot/.
HANDLER_MODULES: list[Any] = [
    chats,
    issues,
    activities,
    checkins,
    start,
    admin,
    export,
    imports,
    digest,
    errors,
]

# Shown in Telegram's command menu; the rest are still available and listed by /help.
MENU_COMMANDS = [
    ("help", "帮助 / help"),
    ("report", "报事 / report an issue"),
    ("log", "记录工作 / log an activity"),
    ("issues", "待办事项 / open issues"),
    ("index", "治理指数 / governance index"),
    ("lang", "语言 / language"),
]


def build_application(
    settings: Settings,
    request: BaseRequest | None = None,
    *,
    updates_request: BaseRequest | None = None,
    clock: Clock | None = None,
    database: Database | None = None,
) -> GovApplication:
    """Build the ready-to-run Application; pass ``request`` to use another transport."""
    token = settings.require_token() if request is None else _offline_token(settings)
    builder = (
        Application.builder()
        .token(token)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .context_types(ContextTypes(context=GovContext))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if request is None:
        builder = builder.base_url(settings.api_base_url).base_file_url(settings.api_file_base_url)
    else:
        builder = builder.request(request).get_updates_request(updates_request or request)
    app: GovApplication = builder.build()
    app.bot_data["services"] = Services(
        db=database or Database(settings.database_url),
        clock=clock or SystemClock(),
        tz=settings.tz,
        default_locale=settings.locale,
        admin_chat_id=settings.admin_chat_id,
        bot_username=settings.bot_username,
        deliver_outbox=functools.partial(drain_outbox, app),
    )
    for module in HANDLER_MODULES:
        for handler in module.build_handlers():
            app.add_handler(handler)
    app.add_error_handler(errors.error_handler)
    issues.schedule_jobs(app)
    checkins.schedule_jobs(app, settings)
    schedule_weekly_jobs(app, settings)
    return app


def _offline_token(settings: Settings) -> str:
    return settings.token.get_secret_value() if settings.token else OFFLINE_TOKEN


async def _post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    try:
        await app.bot.set_my_commands([BotCommand(c, d) for c, d in MENU_COMMANDS])
    except TelegramError:
        logger.warning("could not set the command menu", exc_info=True)
    await start_sender(app)
    await settle_heap(app)


async def settle_heap(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Load what every message reads (the org tree), then hand everything alive to the garbage
    collector's permanent generation (``gc.freeze``); run once the bot has started.

    A full collection walks every object the collector tracks, and no update is handled
    meanwhile. At Pudong scale the process holds about 400,000 of them once it has started
    (the org tree, PTB, SQLAlchemy's mappers, pandas); each full pass took 150-270 ms, and at
    100 messages/s the messages queued behind one set the 99th percentile latency
    (docs/performance.md, "Ingest"). Frozen, they are never walked again; what the bot
    allocates later is collected as usual. An object frozen here that later becomes cyclic
    garbage is never freed: nearly all of them live as long as the process.
    """
    services: Services = app.bot_data["services"]
    await run_db(services.db, org_tree)
    gc.collect()
    gc.freeze()


async def _post_stop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await stop_sender(app)


async def _post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services = app.bot_data["services"]
    # The reply and card ids still queued (Database.later); off the loop, as all waiting on SQLite.
    await asyncio.to_thread(services.db.write_later)
    services.db.dispose()


ALLOWED_UPDATES = Update.ALL_TYPES
