"""Keeping bindings true to Telegram: the bot removed from a group, a group made a supergroup."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import BaseHandler, ChatMemberHandler, MessageHandler, filters

from handlers.context import GovContext
from storage.bindings import deactivate_chat, migrate_chat

logger = logging.getLogger(__name__)

GONE = {ChatMember.LEFT, ChatMember.BANNED}


async def bot_membership_changed(update: Update, context: GovContext) -> None:
    """Stop sending to a group the bot was removed from."""
    change = update.my_chat_member
    if change is None or change.new_chat_member.status not in GONE:
        return
    deactivated = await context.db(
        deactivate_chat, chat_id=change.chat.id, reason="removed", now=context.now()
    )
    if deactivated:
        logger.info("bot removed from chat %s: binding deactivated", change.chat.id)


async def chat_migrated(update: Update, context: GovContext) -> None:
    """Move the binding to the supergroup's new chat id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    moved = await context.db(migrate_chat, old_chat_id=old, new_chat_id=new, now=context.now())
    if moved:
        logger.info("chat %s migrated to %s: binding moved", old, new)


def build_handlers() -> list[BaseHandler[Update, GovContext, object]]:
    return [
        ChatMemberHandler(bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, chat_migrated),
    ]
