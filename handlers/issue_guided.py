"""The guided /report in a private chat: category → place → text → photos/location → confirm.

The draft lives in ``user_data`` until it is confirmed (a restart in the middle loses it; the
person is asked to start again). The confirmed report's source is the confirmation message,
so pressing 确认 twice records it once.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from handlers.callbacks import is_number, pack, pattern, unpack
from handlers.context import GovContext, reply
from handlers.i18n import Messages
from handlers.issue_notify import issue_policy, post_new_issue
from handlers.issue_render import receipt_buttons, receipt_text
from handlers.parsing import parse_message
from storage.categories import load_catalog
from storage.issue_states import Actor
from storage.issues import (
    PlaceChoice,
    attach_media,
    place_reference,
    report_issue,
    reporting_places,
)

CATEGORY, PLACE, TEXT, MEDIA, CONFIRM = range(5)
PREFIX = "rep"
DRAFT = "report_draft"
MAX_PLACE_BUTTONS = 30

OneMessage = Callable[[Update, GovContext], Awaitable[None]]


def _draft(context: GovContext) -> dict[str, Any]:
    data = context.user_data
    assert data is not None
    draft: dict[str, Any] = data.setdefault(DRAFT, {})
    return draft


def _button(label: str, *parts: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=pack(PREFIX, *parts))


def _category_keyboard(_: Messages) -> InlineKeyboardMarkup:
    buttons = [_button(c.name(_.locale), "cat", c.id) for c in load_catalog().all()]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_button(_("issue.guided.cancel"), "no")])
    return InlineKeyboardMarkup(rows)


def build_conversation(one_message: OneMessage) -> BaseHandler[Update, GovContext, object]:
    """The ConversationHandler; ``/report TEXT`` in private goes to ``one_message`` instead."""

    async def start(update: Update, context: GovContext) -> int:
        """Start the guided report (or record ``/report TEXT`` at once)."""
        if context.args:
            await one_message(update, context)
            return ConversationHandler.END
        _ = await context.messages(update)
        member = await context.member(update)
        places = await context.db(reporting_places, member_id=member.id if member else None)
        if not places:
            key = "error.issue.not_on_roster" if member is None else "error.permission.denied"
            await reply(update, _(key))
            return ConversationHandler.END
        assert context.user_data is not None
        context.user_data[DRAFT] = {"places": places, "photos": [], "text": ""}
        await reply(update, _("issue.guided.category"), reply_markup=_category_keyboard(_))
        return CATEGORY

    async def category_chosen(update: Update, context: GovContext) -> int:
        """Keep the category, then ask where."""
        query = update.callback_query
        assert query is not None
        await query.answer()
        _ = await context.messages(update)
        parts = unpack(query.data, PREFIX, 2)
        if parts is None or parts[1] not in load_catalog():
            await query.edit_message_text(_("common.stale_button"))
            return ConversationHandler.END
        draft = _draft(context)
        draft["category"] = parts[1]
        places: list[tuple[int, str]] = draft.get("places", [])
        if len(places) == 1:
            draft["unit"] = places[0][0]
            await query.edit_message_text(_("issue.guided.text"))
            return TEXT
        rows = [[_button(path, "at", unit)] for unit, path in places[:MAX_PLACE_BUTTONS]]
        await query.edit_message_text(
            _("issue.guided.place"), reply_markup=InlineKeyboardMarkup(rows)
        )
        return PLACE

    async def place_chosen(update: Update, context: GovContext) -> int:
        """Keep the place, then ask for the words."""
        query = update.callback_query
        assert query is not None
        await query.answer()
        _ = await context.messages(update)
        parts = unpack(query.data, PREFIX, 2)
        draft = _draft(context)
        allowed = {unit for unit, _path in draft.get("places", [])}
        if parts is None or not is_number(parts[1]) or int(parts[1]) not in allowed:
            await query.edit_message_text(_("common.stale_button"))
            return ConversationHandler.END
        draft["unit"] = int(parts[1])
        await query.edit_message_text(_("issue.guided.text"))
        return TEXT

    async def text_given(update: Update, context: GovContext) -> int:
        """Keep the description, then offer photos and a location."""
        message = update.effective_message
        assert message is not None
        _ = await context.messages(update)
        text = " ".join((message.text or "").split())
        if not text:
            await reply(update, _("issue.guided.text"))
            return TEXT
        draft = _draft(context)
        draft["text"] = f"{draft['text']} {text}".strip()
        await reply(update, _("issue.guided.media"), reply_markup=_done_keyboard(_))
        return MEDIA

    async def media_given(update: Update, context: GovContext) -> int:
        """Keep a photo or a location; more may follow."""
        message = update.effective_message
        assert message is not None
        _ = await context.messages(update)
        draft = _draft(context)
        if message.photo:
            draft["photos"].append((message.message_id, message.photo[-1].file_id))
        if message.location:
            draft["location"] = (
                message.message_id,
                message.location.latitude,
                message.location.longitude,
            )
        await reply(update, _("issue.guided.media_more"), reply_markup=_done_keyboard(_))
        return MEDIA

    async def review(update: Update, context: GovContext) -> int:
        """Show the draft with 确认 / 取消."""
        query = update.callback_query
        assert query is not None
        await query.answer()
        _ = await context.messages(update)
        draft = _draft(context)
        places = dict(draft.get("places", []))
        summary = _(
            "issue.guided.review",
            category=load_catalog().get(draft["category"]).name(_.locale),
            place=places.get(draft.get("unit", 0), "—"),
            text=draft["text"],
            photos=len(draft["photos"]),
        )
        keyboard = InlineKeyboardMarkup(
            [[_button(_("issue.guided.confirm"), "ok"), _button(_("issue.guided.cancel"), "no")]]
        )
        await query.edit_message_text(summary, reply_markup=keyboard)
        return CONFIRM

    async def confirm(update: Update, context: GovContext) -> int:
        """Record the report (once, even if pressed twice) and show its number."""
        query = update.callback_query
        chat = update.effective_chat
        assert query is not None
        assert chat is not None
        assert query.message is not None
        _ = await context.messages(update)
        draft = _draft(context)
        member = await context.member(update)
        user = update.effective_user
        actor = Actor(member_id=member.id if member else None, user_id=user.id if user else None)
        compound_id, building = await context.db(place_reference, unit_id=draft["unit"])
        if building is None:
            today = context.now().astimezone(context.services.tz).date()
            building = parse_message("#报事 " + draft["text"], today=today).building
        location = draft.get("location")
        outcome = await context.db(
            report_issue,
            actor=actor,
            chat_id=chat.id,
            message_id=query.message.message_id,
            text=draft["text"],
            category_id=draft["category"],
            building_ref=building,
            compound_id=compound_id,
            now=context.now(),
            location=(location[1], location[2]) if location else None,
            policy=issue_policy(context),
        )
        await query.answer()
        if isinstance(outcome, PlaceChoice):  # cannot happen: the compound was given
            return ConversationHandler.END
        for message_id, file_id in draft["photos"]:
            await context.db(
                attach_media,
                chat_id=chat.id,
                message_id=message_id,
                actor=actor,
                now=context.now(),
                photo_file_id=file_id,
            )
        assert context.user_data is not None
        context.user_data.pop(DRAFT, None)
        if not outcome.created:
            return ConversationHandler.END
        text = receipt_text(
            outcome.issue,
            _,
            tz=context.services.tz,
            residents_chat=False,
            unknown_building=outcome.unknown_building,
        )
        await query.edit_message_text(text, reply_markup=receipt_buttons(outcome.issue, _))
        await post_new_issue(context, outcome.issue)
        return ConversationHandler.END

    async def cancel(update: Update, context: GovContext) -> int:
        """Drop the draft."""
        _ = await context.messages(update)
        if context.user_data is not None:
            context.user_data.pop(DRAFT, None)
        if update.callback_query is not None:
            await update.callback_query.answer()
            await update.callback_query.edit_message_text(_("issue.guided.cancelled"))
        else:
            await reply(update, _("issue.guided.cancelled"))
        return ConversationHandler.END

    def button(
        verb: str, callback: Callable[..., Coroutine[Any, Any, int]]
    ) -> CallbackQueryHandler[Any, Any]:
        return CallbackQueryHandler(callback, pattern=rf"{pattern(PREFIX)}{verb}(:|$)")

    private = filters.ChatType.PRIVATE
    words = private & filters.TEXT & ~filters.COMMAND
    media = private & (filters.PHOTO | filters.LOCATION)
    # The buttons belong to this one person's flow in their private chat, so tracking the
    # conversation per user and chat (not per message) is what we want; PTB warns about that
    # combination anyway.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("report", start, filters=private)],
            states={
                CATEGORY: [button("cat", category_chosen)],
                PLACE: [button("at", place_chosen)],
                TEXT: [MessageHandler(words, text_given)],
                MEDIA: [
                    MessageHandler(media, media_given),
                    MessageHandler(words, text_given),
                    button("done", review),
                ],
                CONFIRM: [button("ok", confirm)],
            },
            fallbacks=[CommandHandler("cancel", cancel), button("no", cancel)],
            name="issue_report",
            allow_reentry=True,
        )


def _done_keyboard(_: Messages) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(_("issue.guided.done"), "done"), _button(_("issue.guided.cancel"), "no")]]
    )
