"""Committee tools in chat: /invite (deep links), /bind and /unbind (group chats)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.callbacks import is_number, pack, pattern, unpack
from handlers.context import GovContext, reply
from handlers.i18n import Messages
from handlers.vocabulary import parse_audience, parse_role
from storage.bindings import bind_chat, bind_code_for_unit_named, unbind_chat
from storage.errors import DomainError
from storage.invites import create_invite, invite_to_unit_named
from storage.org import unit_path
from storage.permissions import Action, invitable_roles, managed_unit_paths
from storage.tables import Invite

# How many units the /invite button flow offers at most (a committee's buildings fit easily).
MAX_UNIT_BUTTONS = 30


def _is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == chat.PRIVATE


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


async def invite_command(update: Update, context: GovContext) -> None:
    """Create an invite link: /invite ROLE UNIT, or choose role and unit with buttons."""
    _ = await context.messages(update)
    if not _is_private(update):
        await reply(update, _("common.private_only"))
        return
    member = await context.member(update)
    if member is None:
        await reply(update, _("start.stranger"))
        return
    args = context.args or []
    if len(args) < 2:
        roles = await context.db(invitable_roles, member_id=member.id)
        if not roles:
            await reply(update, _("error.permission.denied"))
            return
        rows = [
            [InlineKeyboardButton(_(f"role.{r.value}"), callback_data=pack("inv", r.value))]
            for r in roles
        ]
        await reply(update, _("invite.choose_role"), reply_markup=InlineKeyboardMarkup(rows))
        return
    role = parse_role(args[0])
    if role is None:
        await reply(update, _("invite.unknown_role", role=args[0]))
        return
    invite = await context.db(
        invite_to_unit_named,
        role=role,
        unit_ref=" ".join(args[1:]),
        created_by=member.id,
        now=context.now(),
    )
    await _send_invite(update, context, _, invite)


async def invite_role_button(update: Update, context: GovContext) -> None:
    """After a role is chosen, offer the units the member manages."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    _ = await context.messages(update)
    member = await context.member(update)
    parts = unpack(query.data, "inv", 1)
    role = parse_role(parts[0]) if parts else None
    if member is None or role is None:
        await reply(update, _("common.stale_button"))
        return
    units = await context.db(managed_unit_paths, member_id=member.id, action=Action.INVITE)
    rows = [
        [InlineKeyboardButton(label, callback_data=pack("invu", role.value, unit_id))]
        for unit_id, label in units[:MAX_UNIT_BUTTONS]
    ]
    await query.edit_message_text(
        _("invite.choose_unit", role=_(f"role.{role.value}")),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def invite_unit_button(update: Update, context: GovContext) -> None:
    """Create the invite for the chosen role and unit."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    _ = await context.messages(update)
    member = await context.member(update)
    parts = unpack(query.data, "invu", 2)
    role = parse_role(parts[0]) if parts else None
    if member is None or role is None or parts is None or not is_number(parts[1]):
        await reply(update, _("common.stale_button"))
        return
    invite = await context.db(
        create_invite, role=role, unit_id=int(parts[1]), created_by=member.id, now=context.now()
    )
    await _send_invite(update, context, _, invite)


async def _send_invite(update: Update, context: GovContext, _: Messages, invite: Invite) -> None:
    path = await context.db(unit_path, unit_id=invite.unit_id)
    link = deep_link(context.bot.username, invite.code)
    local_expiry = invite.expires_at.astimezone(context.services.tz)
    await reply(
        update,
        _(
            "invite.created",
            role=_(f"role.{invite.role}"),
            unit=path,
            link=link,
            expires=local_expiry.strftime("%Y-%m-%d %H:%M"),
            uses=invite.max_uses,
        ),
    )


async def bind_command(update: Update, context: GovContext) -> None:
    """In a group: /bind CODE binds it. In private: /bind UNIT AUDIENCE makes a code."""
    _ = await context.messages(update)
    args = context.args or []
    chat = update.effective_chat
    assert chat is not None
    member = await context.member(update)
    if _is_private(update):
        if len(args) < 2:
            await reply(update, _("bind.usage_private"))
            return
        if member is None:  # say so plainly, not "unknown audience"
            raise DomainError("permission.denied", action=Action.BIND.value)
        audience = parse_audience(args[-1])
        if audience is None:
            await reply(update, _("bind.unknown_audience", audience=args[-1]))
            return
        code = await context.db(
            bind_code_for_unit_named,
            unit_ref=" ".join(args[:-1]),
            audience=audience,
            created_by=member.id,
            now=context.now(),
        )
        path = await context.db(unit_path, unit_id=code.unit_id)
        await reply(
            update,
            _("bind.code_created", code=code.code, unit=path, audience=_(f"audience.{audience}")),
        )
        return
    if len(args) != 1:
        await reply(update, _("bind.usage_group"))
        return
    binding = await context.db(
        bind_chat,
        code=args[0],
        chat_id=chat.id,
        title=chat.title,
        member_id=member.id if member else None,
        now=context.now(),
    )
    path = await context.db(unit_path, unit_id=binding.unit_id)
    await reply(update, _("bind.done", unit=path, audience=_(f"audience.{binding.audience}")))


async def unbind_command(update: Update, context: GovContext) -> None:
    """Unbind this group chat (committee members who manage its unit)."""
    _ = await context.messages(update)
    chat = update.effective_chat
    assert chat is not None
    if _is_private(update):
        await reply(update, _("common.group_only"))
        return
    member = await context.member(update)
    await context.db(
        unbind_chat, chat_id=chat.id, member_id=member.id if member else None, now=context.now()
    )
    await reply(update, _("bind.unbound"))


def build_handlers() -> list[BaseHandler[Update, GovContext, object]]:
    return [
        CommandHandler("invite", invite_command),
        CallbackQueryHandler(invite_role_button, pattern=pattern("inv")),
        CallbackQueryHandler(invite_unit_button, pattern=pattern("invu")),
        CommandHandler("bind", bind_command),
        CommandHandler("unbind", unbind_command),
    ]
