"""Telling the right chats about an issue: the card, alerts, notices to assignee and reporter.

Alerts (an urgent report, an escalation to the town, a reopened issue, and the deadline scan's)
go through the outbox with :func:`post_alert`: retried on a 5xx, paced, and sent once per
cause. The card (whose message id later edits) and the private notices with their buttons are
sent directly: a failed direct send never undoes a committed change; it is logged, and a group
that has removed the bot has its binding deactivated so nothing more is sent there.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from handlers.context import GovContext, send_text
from handlers.i18n import Messages
from handlers.issue_render import (
    card_buttons,
    card_text,
    category,
    category_name,
    handler_buttons,
    rating_buttons,
)
from storage.bindings import deactivate_chat
from storage.issue_policy import DEFAULT_POLICY, IssuePolicy
from storage.issue_views import IssueChats, IssueView, issue_chats, party_user_ids
from storage.issues import set_card
from storage.outbox import enqueue, text_part
from storage.roster import member_by_user

logger = logging.getLogger(__name__)


def issue_policy(context: GovContext) -> IssuePolicy:
    """The deployment's deadlines (``services.extras["issue_policy"]``), else the defaults."""
    policy = context.services.extras.get("issue_policy")
    return policy if isinstance(policy, IssuePolicy) else DEFAULT_POLICY


def chat_messages(context: GovContext) -> Messages:
    """Group chats read the deployment's default language."""
    return Messages(context.services.default_locale)


async def user_messages(context: GovContext, user_id: int) -> Messages:
    member = await context.db(member_by_user, user_id=user_id)
    return Messages(member.language if member else context.services.default_locale)


async def send_safely(
    context: GovContext, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> int | None:
    """Send; the message's id. On failure log (and deactivate a group that removed the bot)."""
    try:
        return await send_text(context.bot, chat_id, text, markup)
    except Forbidden:
        logger.info("chat %s does not accept messages from the bot", chat_id)
        if chat_id < 0:
            await context.db(
                deactivate_chat, chat_id=chat_id, reason="forbidden", now=context.now()
            )
    except TelegramError:
        logger.warning("could not send an issue message to chat %s", chat_id, exc_info=True)
    return None


async def edit_safely(
    context: GovContext,
    chat_id: int,
    message_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    try:
        await context.bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            logger.warning("could not edit message %s in %s: %s", message_id, chat_id, error)
    except TelegramError:
        logger.warning("could not edit message %s in %s", message_id, chat_id, exc_info=True)


async def post_alert(context: GovContext, chat_id: int, text: str, *, kind: str, key: str) -> None:
    """Queue an alert for ``chat_id`` in the outbox and have it sent.

    ``kind`` says what it is (``alert:overdue``) and ``key`` which cause raised it (the issue
    number and the deadline): the outbox keeps one row per (chat, kind, key), so raising the
    same cause again sends nothing.
    """
    await context.db(
        enqueue,
        chat_id=chat_id,
        kind=kind,
        period=key,
        parts=[text_part(text)],
        now=context.now(),
    )
    deliver = context.services.deliver_outbox
    if deliver is None:
        return
    try:
        await deliver()
    except Exception:  # the row is committed: the sender delivers it later, not the user's fault
        logger.exception("could not hand alert %s/%s to the sender", kind, key)


def render_card(context: GovContext, view: IssueView, _: Messages) -> tuple[str, Any]:
    text = card_text(view, _, tz=context.services.tz, now=context.now())
    return text, card_buttons(view, _)


async def refresh_card(context: GovContext, view: IssueView) -> None:
    """Edit the committee-chat card to show the issue as it is now."""
    if view.card_chat_id is None or view.card_message_id is None:
        return
    text, markup = render_card(context, view, chat_messages(context))
    await edit_safely(context, view.card_chat_id, view.card_message_id, text, markup)


async def post_new_issue(
    context: GovContext, view: IssueView, chats: IssueChats | None = None
) -> None:
    """Post the card in the committee chat; an urgent category also raises an alert there.

    ``chats`` saves a lookup when the caller already has them (``report_issue`` returns them).
    """
    if chats is None:
        chats = await context.db(issue_chats, issue_id=view.number)
    _ = chat_messages(context)
    target = chats.committee or chats.town
    if target is None:
        logger.info("issue #%s: no committee or town chat is bound above it", view.number)
        return
    text, markup = render_card(context, view, _)
    card = await send_safely(context, target, text, markup)
    if card is not None:
        set_card(context.services.db, issue_id=view.number, chat_id=target, message_id=card)
        context.write_soon()
    if category(view.category_id).urgent:
        alert = _(
            "issue.alert.urgent",
            number=view.number,
            category=category_name(view.category_id, _),
            place=view.place,
        )
        await post_alert(context, target, alert, kind="alert:urgent", key=str(view.number))


async def notify_party(context: GovContext, view: IssueView) -> None:
    """Tell the people the issue was dispatched to, with their 处理中 / 已解决 buttons."""
    for user_id in await context.db(party_user_ids, issue_id=view.number):
        _ = await user_messages(context, user_id)
        text = _("issue.notice.dispatched") + "\n\n" + render_card(context, view, _)[0]
        await send_safely(context, user_id, text, handler_buttons(view, _))


async def ask_reporters(context: GovContext, view: IssueView) -> None:
    """Ask every reporter in private whether it is fixed, with a 1–5 rating."""
    for user_id in view.reporter_user_ids:
        _ = await user_messages(context, user_id)
        text = _(
            "issue.ask_fixed",
            number=view.number,
            category=category_name(view.category_id, _),
            place=view.place,
        )
        await send_safely(context, user_id, text, rating_buttons(view.number, _))


async def tell_reporters(context: GovContext, view: IssueView, msgid: str, **params: Any) -> None:
    for user_id in view.reporter_user_ids:
        _ = await user_messages(context, user_id)
        await send_safely(context, user_id, _(msgid, number=view.number, **params))


async def send_to_committee(
    context: GovContext,
    view: IssueView,
    msgid: str,
    *,
    kind: str | None = None,
    key: str | None = None,
    **params: Any,
) -> None:
    """Alert the committee chat (else the town's) about the issue: ``issue.alert.reopened``.

    ``kind`` and ``key`` default to the message's name and the issue's round of work;
    ``params`` fill the message's placeholders beyond number, place and category.
    """
    chats = await context.db(issue_chats, issue_id=view.number)
    target = chats.committee or chats.town
    if target is None:
        return
    _ = chat_messages(context)
    text = _(
        msgid,
        number=view.number,
        place=view.place,
        category=category_name(view.category_id, _),
        **params,
    )
    await post_alert(
        context, target, text, kind=kind or _alert_kind(msgid), key=key or _cycle_key(view)
    )


async def escalate_to_town(
    context: GovContext, view: IssueView, msgid: str, *, key: str | None = None
) -> None:
    """Post the issue in the town chat (吹哨, or twice overdue), once per ``key``.

    The default key allows one per ``msgid`` and round of work on the issue: 吹哨 is offered
    again only after a reopening.
    """
    chats = await context.db(issue_chats, issue_id=view.number)
    if chats.town is None:
        logger.info("issue #%s: no town chat bound to escalate to", view.number)
        return
    _ = chat_messages(context)
    text = _(msgid, number=view.number) + "\n\n" + render_card(context, view, _)[0]
    key = key or f"{_cycle_key(view)}:{msgid.rsplit('.', 1)[-1]}"
    await post_alert(context, chats.town, text, kind="alert:escalation", key=key)


def _alert_kind(msgid: str) -> str:
    """``issue.alert.reopened`` → ``alert:reopened``."""
    return "alert:" + msgid.rsplit(".", 1)[-1]


def _cycle_key(view: IssueView) -> str:
    """The issue in its current round of work (a reopening starts the next one)."""
    return f"{view.number}:{view.reopen_count}"
