"""Joining and the basics: /start (with an invite code), /help, /lang, /privacy, /deleteme."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers.callbacks import pack, pattern, unpack
from handlers.context import GovContext, reply
from handlers.i18n import Messages
from storage.errors import DomainError
from storage.invites import redeem_invite
from storage.org import unit_path
from storage.permissions import Action, allowed_actions
from storage.roster import delete_personal_data, set_language

# The order /help lists what a person may do in.
HELP_ORDER = [
    Action.REPORT,
    Action.LOG,
    Action.CHECKIN,
    Action.VIEW_ISSUES,
    Action.HANDLE,
    Action.DISPATCH,
    Action.VIEW_INDEX,
    Action.DIGEST_PREVIEW,
    Action.INVITE,
    Action.BIND,
    Action.IMPORT,
    Action.EXPORT,
]


async def start(update: Update, context: GovContext) -> None:
    """Greet the user, or make them a member with the invite code in the deep link."""
    user = update.effective_user
    if user is None:
        return
    if context.args:
        await _join(update, context, context.args[0])
        return
    member = await context.member(update)
    _ = await context.messages(update)
    actions = await context.db(allowed_actions, member_id=member.id if member else None)
    if member is None or not actions:
        await reply(update, _("start.stranger"))
        return
    await reply(update, _("start.welcome_back", name=member.name or user.first_name))
    await help_command(update, context)


async def _join(update: Update, context: GovContext, code: str) -> None:
    user = update.effective_user
    assert user is not None
    language = (await context.messages(update)).locale
    try:
        joined = await context.db(
            redeem_invite,
            code=code,
            user_id=user.id,
            name=user.full_name,
            language=language,
            now=context.now(),
        )
    except DomainError as exc:
        _ = Messages(language)
        await reply(
            update, _(f"error.{exc.code}", **exc.params) + "\n\n" + _("start.ask_committee")
        )
        return
    context.forget_member()
    _ = Messages(joined.member.language)
    path = await context.db(unit_path, unit_id=joined.grant.unit_id)
    key = "start.already_joined" if joined.already else "start.joined"
    await reply(update, _(key, role=_(f"role.{joined.grant.role}"), unit=path))
    await help_command(update, context)


async def help_command(update: Update, context: GovContext) -> None:
    """Show what the user may do, and only that."""
    member = await context.member(update)
    _ = await context.messages(update)
    actions = await context.db(allowed_actions, member_id=member.id if member else None)
    if not actions:
        await reply(update, _("start.stranger"))
        return
    lines = [_("help.title")]
    lines += [_(f"help.{action.value}") for action in HELP_ORDER if action in actions]
    lines.append(_("help.always"))
    await reply(update, "\n".join(lines))


async def lang_command(update: Update, context: GovContext) -> None:
    """Switch the user's language: /lang zh or /lang en (buttons without an argument)."""
    _ = await context.messages(update)
    if not context.args:
        buttons = [
            InlineKeyboardButton("中文", callback_data=pack("lang", "zh")),
            InlineKeyboardButton("English", callback_data=pack("lang", "en")),
        ]
        await reply(update, _("lang.choose"), reply_markup=InlineKeyboardMarkup([buttons]))
        return
    await _set_language(update, context, context.args[0].lower())


async def lang_button(update: Update, context: GovContext) -> None:
    """Apply the language chosen with a button."""
    query = update.callback_query
    assert query is not None
    parts = unpack(query.data, "lang", 1)
    await query.answer()
    if parts is None:
        return
    await _set_language(update, context, parts[0])


async def _set_language(update: Update, context: GovContext, language: str) -> None:
    user = update.effective_user
    assert user is not None
    if language not in ("zh", "en"):
        _ = await context.messages(update)
        await reply(update, _("lang.unknown"))
        return
    await context.db(set_language, user_id=user.id, language=language, now=context.now())
    await reply(update, Messages(language)("lang.set"))


async def privacy_command(update: Update, context: GovContext) -> None:
    """Say what govbot keeps about people and how to have it removed."""
    _ = await context.messages(update)
    await reply(update, _("privacy.text"))


async def deleteme_command(update: Update, context: GovContext) -> None:
    """Ask for confirmation before removing the user's personal data."""
    _ = await context.messages(update)
    chat = update.effective_chat
    if chat is None or chat.type != chat.PRIVATE:
        await reply(update, _("common.private_only"))
        return
    buttons = [
        InlineKeyboardButton(_("deleteme.yes"), callback_data=pack("del", "yes")),
        InlineKeyboardButton(_("deleteme.no"), callback_data=pack("del", "no")),
    ]
    await reply(update, _("deleteme.confirm"), reply_markup=InlineKeyboardMarkup([buttons]))


async def deleteme_button(update: Update, context: GovContext) -> None:
    """Remove the user's personal data once they confirm."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    assert user is not None
    _ = await context.messages(update)
    parts = unpack(query.data, "del", 1)
    await query.answer()
    if parts is None or parts[0] != "yes":
        await query.edit_message_text(_("deleteme.cancelled"))
        return
    deleted = await context.db(delete_personal_data, user_id=user.id, now=context.now())
    await query.edit_message_text(_("deleteme.done" if deleted else "deleteme.nothing"))


def build_handlers() -> list[BaseHandler[Update, GovContext, object]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        CommandHandler("help", help_command),
        CommandHandler("lang", lang_command),
        CallbackQueryHandler(lang_button, pattern=pattern("lang")),
        CommandHandler("privacy", privacy_command),
        CommandHandler("deleteme", deleteme_command),
        CallbackQueryHandler(deleteme_button, pattern=pattern("del")),
        # Someone writing to the bot in private without a command: show what they can do.
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, help_command),
    ]
