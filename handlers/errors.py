"""The last word: unknown commands, and the one application error handler.

A :class:`~storage.errors.DomainError` is a rule refusing something, and its translated
sentence goes back to the user. Anything else is a bug: it is logged with its traceback and
reported (type and update id only, no personal data) to the admin's private chat if one is
configured; the user gets a short apology that their message is kept. Tracebacks never reach a
group.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import BaseHandler, MessageHandler, filters

from handlers.context import GovContext, reply
from handlers.i18n import Messages
from storage.errors import DomainError

logger = logging.getLogger(__name__)


async def unknown_command(update: Update, context: GovContext) -> None:
    """Answer a command the bot does not know with a pointer to /help."""
    _ = await context.messages(update)
    await reply(update, _("common.unknown_command"))


async def error_handler(update: object, context: GovContext) -> None:
    """Turn rule refusals into sentences; log and report everything else."""
    error = context.error
    if not isinstance(update, Update):
        logger.error("error outside an update", exc_info=error)
        return
    if isinstance(error, DomainError):
        _ = await _messages_for(update, context)
        await _answer(update, _(f"error.{error.code}", **error.params))
        return
    logger.error("error while handling update %s", update.update_id, exc_info=error)
    _ = await _messages_for(update, context)
    await _answer(update, _("common.internal_error"))
    admin = context.services.admin_chat_id
    if admin is not None:
        try:
            await context.bot.send_message(
                admin, f"govbot: {type(error).__name__} while handling update {update.update_id}"
            )
        except TelegramError:
            logger.warning("could not report the error to the admin chat", exc_info=True)


async def _messages_for(update: Update, context: GovContext) -> Messages:
    try:
        return await context.messages(update)
    except Exception:  # the database itself may be what failed
        return Messages(context.services.default_locale)


async def _answer(update: Update, text: str) -> None:
    query = update.callback_query
    try:
        if query is not None:
            await query.answer(text[:190], show_alert=True)
        else:
            await reply(update, text)
    except Forbidden:
        logger.info("cannot answer update %s: the bot may not write there", update.update_id)


def build_handlers() -> list[BaseHandler[Update, GovContext, object]]:
    return [MessageHandler(filters.COMMAND, unknown_command)]
