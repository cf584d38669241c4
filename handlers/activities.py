"""Activity logging by message (DESIGN §3.2): ``#志愿 …``, ``#会议 …``, ``/log …``.

The message is stored at once as an unconfirmed activity (nothing is lost), then the bot replies
with what it understood and three buttons: 确认 / 修改 / 不要了. 修改 offers the fields; the
bot asks for the new value and the person answers in a reply. An edited Telegram message is
read again and updates the same row and the same reply.

Pending field corrections ("which activity, which field") are kept in memory: after a restart
the person simply presses 修改 again; the activity itself is always in the database.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session
from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers.activity_render import (
    ActivityView,
    read_field_value,
    reading_from,
    render_activity,
)
from handlers.callbacks import is_number, pack, pattern, unpack
from handlers.context import GovContext, reply, send_text
from handlers.i18n import Messages
from handlers.parsing import parse_message
from handlers.parsing.numerals import normalise
from handlers.parsing.triggers import read_trigger
from storage.activities import (
    EDITABLE_FIELDS,
    Recorded,
    confirm_activity,
    discard_activity,
    edit_activity,
    get_activity,
    named_people,
    record_activity,
    set_reply_message,
    unconfirmed_activities,
    unit_names,
    unparsed_parts,
)
from storage.bindings import BoundUnit, bound_unit
from storage.errors import DomainError
from storage.org_tree import OrgTree, org_tree
from storage.roster import member_snapshot
from storage.tables import Activity, Audience, Member

logger = logging.getLogger(__name__)

ACT, FIELD, LIST = "act", "actf", "actl"
MAX_LISTED = 5
# Errors about the value typed (the person can just send another); others end the correction.
_RETRY_CODES = re.compile(r"^activity\.(bad_|future_date|too_old|unknown_building)")


class _ActivityTag(filters.MessageFilter):
    """A message whose first tag is an activity tag (#志愿, ＃会议, #volunteer …)."""

    def filter(self, message: Message) -> bool:
        text = message.text or message.caption
        if not text:
            return False
        trigger = read_trigger(normalise(text))
        return trigger.kind == "activity" and not trigger.by_command


ACTIVITY_TAG = _ActivityTag(name="govbot.activity_tag")


# -- logging ---------------------------------------------------------------------------------


async def log_message(update: Update, context: GovContext) -> None:
    """Record an activity message (new or edited) and answer with what was understood."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    text = message.text or message.caption or ""
    named, unknown, clean = _mentions(message, context.bot.id)
    today = context.today()
    edited = update.edited_message is not None
    member, recorded, facts = await context.db_quick(
        _record_and_describe,
        chat_id=message.chat.id,
        message_id=message.message_id,
        user_id=user.id,
        text=text,
        clean=clean,
        default_locale=context.services.default_locale,
        named_user_ids=named,
        edited=edited,
        now=context.now(),
        today=today,
    )
    context.remember_member(user.id, member)
    _ = await context.messages(update)
    if facts is None:
        return  # the same update again: it was stored and answered the first time
    activity = recorded.activity
    view = await _view(
        context,
        activity,
        chat_id=message.chat.id,
        problems=recorded.problems,
        unknown=unknown,
        facts=facts,
    )
    text_out = render_activity(_, view)
    markup = activity_buttons(_, activity)
    reply_id = activity.reply_message_id
    if (
        edited
        and reply_id is not None
        and await _edit(context, message.chat.id, reply_id, text_out, markup)
    ):
        return  # the reply now shows the new reading
    sent = await send_text(context.bot, message.chat.id, text_out, markup, quoting=message)
    set_reply_message(context.services.db, activity_id=activity.id or 0, reply_message_id=sent)
    context.write_soon()


async def log_command(update: Update, context: GovContext) -> None:
    """/log TEXT records an activity; /log alone shows how; /log list shows unconfirmed ones."""
    args = context.args or []
    if not args:
        _ = await context.messages(update)
        button = InlineKeyboardButton(_("activity.button.list"), callback_data=pack(LIST, "me"))
        await reply(
            update, _("activity.log_prompt"), reply_markup=InlineKeyboardMarkup([[button]])
        )
        return
    if len(args) == 1 and args[0].lower() in ("list", "列表", "待确认"):
        await _send_list(update, context)
        return
    await log_message(update, context)


# The entities _mentions reads. Parsing only these skips the hashtag every logged message has
# (PTB works out each entity's text from UTF-16 offsets).
_MENTION_KINDS: list[str | None] = [MessageEntity.TEXT_MENTION, MessageEntity.MENTION]


def _mentions(message: Message, bot_id: int) -> tuple[list[int], list[str], str]:
    """People named in the message: by replying to them or by a mention with their account.

    Returns the user ids, the ``@username`` mentions (Telegram does not tell a bot who they
    are), and the text without mentions for the parser (the raw text is stored as sent).
    """
    named: list[int] = []
    unknown: list[str] = []
    original = message.reply_to_message
    if original is not None and original.from_user is not None:
        person = original.from_user
        if not person.is_bot and person.id != bot_id and person.id != _sender_id(message):
            named.append(person.id)
    text = message.text or message.caption or ""
    entities = (
        message.parse_entities(_MENTION_KINDS)
        if message.text
        else message.parse_caption_entities(_MENTION_KINDS)
    )
    for entity, value in entities.items():
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
            named.append(entity.user.id)
            text = text.replace(value, " ", 1)
        elif entity.type == MessageEntity.MENTION:
            unknown.append(value)
            text = text.replace(value, " ", 1)
    return named, unknown, text


def _sender_id(message: Message) -> int | None:
    return message.from_user.id if message.from_user else None


@dataclass(frozen=True)
class _Facts:
    compound: str | None
    building: str | None
    names: list[str]
    hidden: int
    unparsed: list[str]
    public: bool  # shown in a residents chat


def _view_facts(
    session: Session, *, activity: Activity, chat_id: int, people: Sequence[Member] | None = None
) -> _Facts:
    if people is None:
        people = named_people(session, activity_id=activity.id or 0)
    binding = bound_unit(session, chat_id=chat_id)
    return _facts(activity, binding, org_tree(session), people)


def _facts(
    activity: Activity, binding: BoundUnit | None, tree: OrgTree, people: Sequence[Member]
) -> _Facts:
    compound, building = unit_names(tree, activity=activity)
    public = binding is not None and binding.audience == Audience.RESIDENTS
    shown = [p.name for p in people if p.name and (p.show_name_publicly or not public)]
    hidden = len(people) - len(shown)
    return _Facts(compound, building, shown, hidden, unparsed_parts(activity), public)


def _record_and_describe(
    session: Session,
    *,
    user_id: int,
    clean: str,
    default_locale: str,
    today: date,
    chat_id: int,
    edited: bool,
    **kwargs: Any,
) -> tuple[Member | None, Recorded, _Facts | None]:
    """Read the sender, parse the message in their language, record it and read what its reply
    shows: one transaction for the whole message (None facts: no reply due, the same update
    seen again). The chat's binding and the org tree are read before ``record_activity``
    commits: the commit changes neither."""
    member = member_snapshot(session, user_id=user_id)
    locale = member.language if member is not None else default_locale
    reading = reading_from(parse_message(clean, today=today, locale=locale))
    binding = bound_unit(session, chat_id=chat_id)
    tree = org_tree(session)
    recorded = record_activity(
        session,
        user_id=user_id,
        reading=reading,
        today=today,
        chat_id=chat_id,
        edited=edited,
        **kwargs,
    )
    activity = recorded.activity
    if not recorded.created and not edited and activity.reply_message_id is not None:
        return member, recorded, None
    return member, recorded, _facts(activity, binding, tree, recorded.people)


async def _view(
    context: GovContext,
    activity: Activity,
    *,
    chat_id: int,
    problems: tuple[str, ...] = (),
    unknown: list[str] | None = None,
    facts: _Facts | None = None,
) -> ActivityView:
    if facts is None:
        facts = await context.db(_view_facts, activity=activity, chat_id=chat_id)
    return ActivityView(
        activity=activity,
        compound=facts.compound,
        building=facts.building,
        people=facts.names,
        hidden_people=facts.hidden,
        problems=problems,
        unparsed=facts.unparsed,
        unknown_mentions=tuple(unknown or ()),
        public=facts.public,
    )


def activity_buttons(_: Messages, activity: Activity) -> InlineKeyboardMarkup | None:
    """确认 / 修改 / 不要了 while unconfirmed; 修改 only once confirmed; none once discarded."""
    ident = activity.id or 0
    edit = InlineKeyboardButton(_("activity.button.edit"), callback_data=pack(ACT, "edit", ident))
    if activity.status == "discarded":
        return None
    if activity.status == "confirmed":
        return InlineKeyboardMarkup([[edit]])
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("activity.button.confirm"), callback_data=pack(ACT, "ok", ident)
                ),
                edit,
                InlineKeyboardButton(
                    _("activity.button.discard"), callback_data=pack(ACT, "no", ident)
                ),
            ]
        ]
    )


def field_buttons(_: Messages, activity: Activity) -> InlineKeyboardMarkup:
    ident = activity.id or 0
    buttons = [
        InlineKeyboardButton(_(f"activity.field.{name}"), callback_data=pack(FIELD, ident, name))
        for name in EDITABLE_FIELDS
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append(
        [InlineKeyboardButton(_("activity.button.back"), callback_data=pack(ACT, "back", ident))]
    )
    return InlineKeyboardMarkup(rows)


async def _edit(
    context: GovContext,
    chat_id: int,
    message_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> bool:
    """Edit one of the bot's messages; False when it cannot be edited any more."""
    try:
        await context.bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return True
        logger.info("could not edit message %s in %s: %s", message_id, chat_id, exc)
        return False
    return True


# -- buttons ---------------------------------------------------------------------------------


async def activity_button(update: Update, context: GovContext) -> None:
    """确认 / 修改 / 不要了 / 返回 on an activity's reply."""
    query = update.callback_query
    assert query is not None
    _ = await context.messages(update)
    parts = unpack(query.data, ACT, 2)
    if parts is None or not is_number(parts[1]) or query.message is None:
        await query.answer(_("common.stale_button"), show_alert=True)
        return
    op, ident = parts[0], int(parts[1])
    member = await context.member(update)
    member_id = member.id if member else None
    if op == "ok":
        activity = await context.db(
            confirm_activity,
            activity_id=ident,
            member_id=member_id,
            now=context.now(),
            today=context.today(),
        )
        await query.answer(_("activity.confirmed"))
    elif op == "no":
        activity = await context.db(
            discard_activity, activity_id=ident, member_id=member_id, now=context.now()
        )
        await query.answer(_("activity.discarded"))
    elif op in ("edit", "back"):
        activity = await context.db(get_activity, activity_id=ident, member_id=member_id)
        await query.answer()
        if op == "edit":
            await query.edit_message_reply_markup(field_buttons(_, activity))
            return
    else:
        await query.answer(_("common.stale_button"), show_alert=True)
        return
    view = await _view(context, activity, chat_id=query.message.chat.id)
    await _edit(
        context,
        query.message.chat.id,
        query.message.message_id,
        render_activity(_, view),
        activity_buttons(_, activity),
    )


@dataclass(frozen=True)
class _Pending:
    activity_id: int
    field: str
    prompt_id: int
    summary_chat_id: int
    summary_id: int


class FieldCorrection:
    """修改 → choose a field → the bot asks → the person answers: the new value is checked."""

    def __init__(self) -> None:
        self.pending: dict[tuple[int, int], _Pending] = {}

    def awaiting(self) -> filters.MessageFilter:
        pending = self.pending

        class _Awaiting(filters.MessageFilter):
            def filter(self, message: Message) -> bool:
                if message.from_user is None or not message.text:
                    return False
                wait = pending.get((message.chat.id, message.from_user.id))
                if wait is None:
                    return False
                if message.chat.type == message.chat.PRIVATE:
                    return True
                original = message.reply_to_message
                return original is not None and original.message_id == wait.prompt_id

        return _Awaiting(name="govbot.activity_field_value")

    async def field_button(self, update: Update, context: GovContext) -> None:
        """Ask for the new value of the chosen field."""
        query = update.callback_query
        user = update.effective_user
        assert query is not None
        _ = await context.messages(update)
        parts = unpack(query.data, FIELD, 2)
        if (
            parts is None
            or not is_number(parts[0])
            or parts[1] not in EDITABLE_FIELDS
            or query.message is None
            or user is None
        ):
            await query.answer(_("common.stale_button"), show_alert=True)
            return
        member = await context.member(update)
        activity = await context.db(
            get_activity, activity_id=int(parts[0]), member_id=member.id if member else None
        )
        await query.answer()
        chat_id = query.message.chat.id
        # In a group the reply box should open for the presser only: Telegram's "selective"
        # targets the sender of the message the prompt replies to, so reply to their own
        # activity message when it is theirs and in this chat.
        own = activity.member_id == (member.id if member else None)
        here = own and activity.source_chat_id == chat_id
        prompt = await context.bot.send_message(
            chat_id,
            _(f"activity.ask.{parts[1]}"),
            reply_markup=ForceReply(
                selective=here, input_field_placeholder=_("activity.placeholder")
            ),
            reply_parameters=ReplyParameters(
                activity.source_message_id, allow_sending_without_reply=True
            )
            if here
            else None,
        )
        self.pending[(chat_id, user.id)] = _Pending(
            activity.id or 0, parts[1], prompt.message_id, chat_id, query.message.message_id
        )

    async def value_message(self, update: Update, context: GovContext) -> None:
        """Apply the value the person sent for the field they chose."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or message.text is None:
            return
        key = (message.chat.id, user.id)
        wait = self.pending.get(key)
        if wait is None:
            return
        _ = await context.messages(update)
        member = await context.member(update)
        today = context.today()
        value = read_field_value(wait.field, message.text, today=today, locale=_.locale)
        try:
            activity = await context.db(
                edit_activity,
                activity_id=wait.activity_id,
                member_id=member.id if member else None,
                field=wait.field,
                value=value,
                now=context.now(),
                today=today,
            )
        except DomainError as exc:
            if not _RETRY_CODES.match(exc.code):
                self.pending.pop(key, None)
                raise
            await reply(
                update, _(f"error.{exc.code}", **exc.params) + "\n" + _("activity.try_again")
            )
            return
        self.pending.pop(key, None)
        view = await _view(context, activity, chat_id=wait.summary_chat_id)
        await _edit(
            context,
            wait.summary_chat_id,
            wait.summary_id,
            render_activity(_, view),
            activity_buttons(_, activity),
        )
        await reply(update, _("activity.field_updated", field=_(f"activity.field.{wait.field}")))


# -- the list of unconfirmed activities ------------------------------------------------------


async def list_button(update: Update, context: GovContext) -> None:
    """Show the presser's unconfirmed activities."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await _send_list(update, context)


async def _send_list(update: Update, context: GovContext) -> None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return
    _ = await context.messages(update)
    waiting = await context.db(unconfirmed_activities, user_id=user.id, limit=MAX_LISTED + 1)
    if not waiting:
        await context.bot.send_message(chat.id, _("activity.list_empty"))
        return
    more = len(waiting) > MAX_LISTED
    await context.bot.send_message(
        chat.id, _("activity.list_title", count=min(len(waiting), MAX_LISTED))
    )
    for activity in waiting[:MAX_LISTED]:
        view = await _view(context, activity, chat_id=chat.id)
        await context.bot.send_message(
            chat.id, render_activity(_, view), reply_markup=activity_buttons(_, activity)
        )
    if more:
        await context.bot.send_message(chat.id, _("activity.list_more"))


def build_handlers() -> list[BaseHandler[Update, GovContext, Any]]:
    correction = FieldCorrection()
    return [
        # Activity tags, new or edited (PTB message handlers see edited messages too).
        MessageHandler((filters.TEXT | filters.CAPTION) & ACTIVITY_TAG, log_message),
        CommandHandler("log", log_command),
        CallbackQueryHandler(activity_button, pattern=pattern(ACT)),
        CallbackQueryHandler(correction.field_button, pattern=pattern(FIELD)),
        CallbackQueryHandler(list_button, pattern=pattern(LIST)),
        # The answer to "请回复新的人数": before `start`, whose private fallback shows /help.
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & correction.awaiting(),
            correction.value_message,
        ),
    ]
