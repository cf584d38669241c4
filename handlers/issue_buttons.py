"""The buttons of the closed loop: on the committee card, the assignee's notice and the
reporter's receipt and "fixed?" question.

Anyone in a group can press any button and a client can forge ``callback_data``: every press
is parsed strictly and the storage function checks the presser's role and the issue's state.
A refusal is a DomainError, answered as a pop-up by the error handler. Nothing is answered
before the storage call, so a refusal can still use the one answer a query gets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from handlers.callbacks import is_number, pattern, unpack
from handlers.context import GovContext
from handlers.issue_notify import (
    ask_reporters,
    edit_safely,
    escalate_to_town,
    issue_policy,
    notify_party,
    refresh_card,
    render_card,
    send_to_committee,
    tell_reporters,
)
from handlers.issue_render import (
    PREFIX,
    category,
    category_menu,
    category_name,
    duplicate_menu,
    receipt_buttons,
    receipt_text,
    reject_menu,
)
from storage.issue_states import Actor
from storage.issue_views import IssueView, chat_audience, issue_view
from storage.issues import (
    accept_issue,
    change_category,
    check_action,
    confirm_fixed,
    dispatch_issue,
    duplicate_candidates,
    escalate_issue,
    merge_duplicate,
    reject_issue,
    reopen_issue,
    resolve_issue,
    start_handling,
)
from storage.tables import Audience

Press = Callable[[Update, GovContext, int, list[str]], Awaitable[None]]
CompoundChosen = Callable[[Update, GovContext, int, str], Awaitable[None]]


@dataclass(frozen=True)
class Button:
    extra: int  # parts after the issue number
    press: Press
    numeric: bool = False  # the extra parts are numbers too (an issue number, a rating)

    def numbers(self, parts: list[str]) -> list[str]:
        """The parts that must be digits: the issue number, and the extras if ``numeric``."""
        return parts[1:] if self.numeric else parts[1:2]


async def _actor(update: Update, context: GovContext) -> Actor:
    member = await context.member(update)
    user = update.effective_user
    return Actor(member_id=member.id if member else None, user_id=user.id if user else None)


async def _act(
    update: Update, context: GovContext, change: Callable[..., IssueView], **kwargs: object
) -> IssueView:
    """Run the storage ``change`` as the presser, now."""
    return await context.db(
        change, actor=await _actor(update, context), now=context.now(), **kwargs
    )


def _query(update: Update) -> tuple[int, int]:
    """The chat and message the pressed button sits on."""
    query = update.callback_query
    assert query is not None
    message = query.message
    assert message is not None
    return message.chat.id, message.message_id


async def _after_change(update: Update, context: GovContext, view: IssueView, toast: str) -> None:
    """Show the new state on the card and on the pressed message (if that is another one)."""
    query = update.callback_query
    assert query is not None
    await query.answer(toast)
    await refresh_card(context, view)
    chat_id, message_id = _query(update)
    if (chat_id, message_id) != (view.card_chat_id, view.card_message_id):
        _ = await context.messages(update)
        text, markup = render_card(context, view, _)
        await edit_safely(context, chat_id, message_id, text, markup)


async def _accept(update: Update, context: GovContext, number: int, _extra: list[str]) -> None:
    view = await _act(update, context, accept_issue, issue_id=number)
    _ = await context.messages(update)
    await _after_change(update, context, view, _("issue.toast.accepted", number=number))


async def _dispatch(update: Update, context: GovContext, number: int, extra: list[str]) -> None:
    view = await _act(update, context, dispatch_issue, issue_id=number, party=extra[0])
    _ = await context.messages(update)
    party = _(f"issue.party.{extra[0]}")
    await _after_change(
        update, context, view, _("issue.toast.dispatched", number=number, party=party)
    )
    await notify_party(context, view)


async def _escalate(update: Update, context: GovContext, number: int, _extra: list[str]) -> None:
    view = await _act(update, context, escalate_issue, issue_id=number)
    _ = await context.messages(update)
    await _after_change(update, context, view, _("issue.toast.escalated", number=number))
    await escalate_to_town(context, view, "issue.town.whistle")


async def _start(update: Update, context: GovContext, number: int, _extra: list[str]) -> None:
    view = await _act(update, context, start_handling, issue_id=number)
    _ = await context.messages(update)
    await _after_change(update, context, view, _("issue.toast.started", number=number))


async def _resolve(update: Update, context: GovContext, number: int, _extra: list[str]) -> None:
    view = await _act(update, context, resolve_issue, issue_id=number)
    _ = await context.messages(update)
    await _after_change(update, context, view, _("issue.toast.resolved", number=number))
    await ask_reporters(context, view)


async def _menu(
    update: Update, context: GovContext, number: int, action: str, build: Callable[..., object]
) -> None:
    """Check the presser may take ``action`` before showing its choices."""
    await context.db(
        check_action, issue_id=number, action=action, actor=await _actor(update, context)
    )
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(build())  # type: ignore[arg-type]


async def _reject_menu(
    update: Update, context: GovContext, number: int, _extra: list[str]
) -> None:
    _ = await context.messages(update)
    await _menu(update, context, number, "reject", lambda: reject_menu(number, _))


async def _reject(update: Update, context: GovContext, number: int, extra: list[str]) -> None:
    view = await _act(update, context, reject_issue, issue_id=number, body=extra[0])
    _ = await context.messages(update)
    await _after_change(update, context, view, _("issue.toast.rejected", number=number))
    await tell_reporters(context, view, "issue.notice.rejected", body=_(f"issue.body.{extra[0]}"))


async def _duplicate_menu(
    update: Update, context: GovContext, number: int, _extra: list[str]
) -> None:
    _ = await context.messages(update)
    originals = await context.db(duplicate_candidates, issue_id=number)
    if not originals:
        await context.db(
            check_action, issue_id=number, action="duplicate", actor=await _actor(update, context)
        )
        query = update.callback_query
        assert query is not None
        await query.answer(_("issue.toast.no_duplicates"), show_alert=True)
        return
    await _menu(update, context, number, "duplicate", lambda: duplicate_menu(number, originals, _))


async def _merge(update: Update, context: GovContext, number: int, extra: list[str]) -> None:
    original = await _act(
        update, context, merge_duplicate, issue_id=number, original_id=int(extra[0])
    )
    _ = await context.messages(update)
    await refresh_card(context, original)
    query = update.callback_query
    assert query is not None
    await query.answer(_("issue.toast.merged", number=number, original=original.number))
    duplicate = await context.db(issue_view, issue_id=number)
    await refresh_card(context, duplicate)
    chat_id, message_id = _query(update)
    if (chat_id, message_id) != (duplicate.card_chat_id, duplicate.card_message_id):
        await edit_safely(
            context,
            chat_id,
            message_id,
            _("issue.receipt.merged", number=number, original=original.number),
            None,
        )


async def _separate(update: Update, context: GovContext, number: int, _extra: list[str]) -> None:
    """The reporter says it is a different problem: keep it, drop the offer."""
    await context.db(
        check_action, issue_id=number, action="recategorise", actor=await _actor(update, context)
    )
    view = await context.db(issue_view, issue_id=number)
    _ = await context.messages(update)
    query = update.callback_query
    assert query is not None
    await query.answer(_("issue.toast.kept_separate", number=number))
    await query.edit_message_reply_markup(receipt_buttons(view, _))


async def _category_menu(
    update: Update, context: GovContext, number: int, _extra: list[str]
) -> None:
    _ = await context.messages(update)
    await _menu(update, context, number, "recategorise", lambda: category_menu(number, _))


async def _set_category(
    update: Update, context: GovContext, number: int, extra: list[str]
) -> None:
    view = await _act(
        update,
        context,
        change_category,
        issue_id=number,
        category_id=extra[0],
        policy=issue_policy(context),
    )
    await _show_receipt(update, context, view)
    await refresh_card(context, view)


async def _back(update: Update, context: GovContext, number: int, _extra: list[str]) -> None:
    """Leave a sub-menu: the pressed message shows the card or the receipt again."""
    view = await context.db(issue_view, issue_id=number)
    await _show_receipt(update, context, view)


async def _show_receipt(update: Update, context: GovContext, view: IssueView) -> None:
    """Show the card again if the press was on it, else the reporter's receipt."""
    query = update.callback_query
    assert query is not None
    chat_id, message_id = _query(update)
    if (chat_id, message_id) == (view.card_chat_id, view.card_message_id):
        await query.answer()
        await refresh_card(context, view)
        return
    _ = await context.messages(update)
    residents = await context.db(chat_audience, chat_id=chat_id) == Audience.RESIDENTS
    text = receipt_text(view, _, tz=context.services.tz, residents_chat=residents)
    await query.answer(
        None
        if residents and category(view.category_id).sensitive
        else _("issue.toast.category", category=category_name(view.category_id, _))
    )
    await edit_safely(context, chat_id, message_id, text, receipt_buttons(view, _))


async def _fixed(update: Update, context: GovContext, number: int, extra: list[str]) -> None:
    view = await _act(update, context, confirm_fixed, issue_id=number, rating=int(extra[0]))
    _ = await context.messages(update)
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(
        _("issue.thanks_rating", number=number, stars="⭐" * view.rating)
        if view.rating
        else _("issue.thanks", number=number)
    )
    await refresh_card(context, view)


async def _not_fixed(update: Update, context: GovContext, number: int, _extra: list[str]) -> None:
    view = await _act(update, context, reopen_issue, issue_id=number, policy=issue_policy(context))
    _ = await context.messages(update)
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(_("issue.reopened_reply", number=number))
    await refresh_card(context, view)
    await send_to_committee(context, view, "issue.alert.reopened")


BUTTONS: dict[str, Button] = {
    "acc": Button(0, _accept),
    "dsp": Button(1, _dispatch),
    "esc": Button(0, _escalate),
    "prog": Button(0, _start),
    "res": Button(0, _resolve),
    "rej": Button(0, _reject_menu),
    "rejto": Button(1, _reject),
    "dup": Button(0, _duplicate_menu),
    "dupof": Button(1, _merge, numeric=True),
    "join": Button(1, _merge, numeric=True),
    "sep": Button(0, _separate),
    "cat": Button(0, _category_menu),
    "setcat": Button(1, _set_category),
    "back": Button(0, _back),
    "fix": Button(1, _fixed, numeric=True),
    "nfix": Button(0, _not_fixed),
}


def build_handlers(
    compound_chosen: CompoundChosen,
) -> list[BaseHandler[Update, GovContext, object]]:
    """One handler for every ``iss:`` button; ``compound_chosen`` answers the place question."""

    async def issue_button(update: Update, context: GovContext) -> None:
        """Route an issue button to its action after checking the data's shape."""
        query = update.callback_query
        assert query is not None
        data = query.data or ""
        pieces = data.split(":")
        verb = pieces[1] if len(pieces) > 1 else ""
        if verb == "at":
            parts = unpack(data, PREFIX, 3)
            if parts is not None and is_number(parts[1]):
                await compound_chosen(update, context, int(parts[1]), parts[2])
                return
        button = BUTTONS.get(verb)
        parts = unpack(data, PREFIX, 2 + button.extra) if button else None
        if button is None or parts is None or not all(is_number(p) for p in button.numbers(parts)):
            _ = await context.messages(update)
            await query.answer(_("common.stale_button"), show_alert=True)
            return
        await button.press(update, context, int(parts[1]), parts[2:])

    return [CallbackQueryHandler(issue_button, pattern=pattern(PREFIX))]
