"""Reporting issues (随手报) and reading them: one-message reports, photos and locations that
follow a report, /issues and /issue N. Buttons are in ``issue_buttons``, the guided private
/report in ``issue_guided``, the deadline job in ``issue_jobs``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from handlers import issue_buttons, issue_guided, issue_jobs
from handlers.callbacks import is_number, pack
from handlers.context import GovApplication, GovContext, reply
from handlers.i18n import Messages
from handlers.issue_notify import issue_policy, post_new_issue
from handlers.issue_render import (
    PREFIX,
    card_text,
    list_line,
    local_time,
    receipt_buttons,
    receipt_text,
)
from handlers.parsing import parse_message
from handlers.parsing.lexicon import lexicon
from handlers.parsing.numerals import normalise
from handlers.parsing.triggers import read_trigger
from storage.issue_states import Actor
from storage.issue_views import chat_audience, issue_history, open_issues
from storage.issues import PlaceChoice, ReportOutcome, attach_media, report_issue
from storage.roster import member_snapshot
from storage.splitting import split_text
from storage.tables import Audience, Member

logger = logging.getLogger(__name__)

# Pending reports waiting for the reporter to say which compound (kept per user in memory).
PENDING_KEY = "issue_pending"


@cache
def issue_tag_pattern() -> re.Pattern[str]:
    """A message that starts an issue report by hashtag: #报事 …, #issue … (the parser's tags)."""
    tags = lexicon().words("tags", "issue")
    cjk = "|".join(re.escape(t) for t in tags if not t.isascii())
    latin = "|".join(re.escape(t) for t in tags if t.isascii())
    return re.compile(rf"[#＃]\s?(?:(?:{cjk})|(?:{latin})(?![A-Za-z0-9_-]))", re.IGNORECASE)


def report_body(text: str) -> str:
    """The report without its command or tag, as typed (emoji and all), whitespace tidied."""
    return " ".join(read_trigger(normalise(text)).body.split())


@dataclass(frozen=True)
class Draft:
    """A report read from a message, before it is recorded."""

    text: str
    category: str
    building: str | None
    message_id: int
    photo: str | None = None
    location: tuple[float, float] | None = None


def actor_of(update: Update, member_id: int | None) -> Actor:
    user = update.effective_user
    return Actor(member_id=member_id, user_id=user.id if user else None)


async def report_message(update: Update, context: GovContext) -> None:
    """Record a one-message report: /report TEXT, #报事 TEXT, #issue TEXT, or a photo caption."""
    message = update.effective_message
    if message is None:
        return
    text = message.text or message.caption or ""
    today = context.now().astimezone(context.services.tz).date()
    photo = message.photo[-1].file_id if message.photo else None
    location = (
        (message.location.latitude, message.location.longitude) if message.location else None
    )

    def read(locale: str) -> Draft | None:
        parsed = parse_message(text, today=today, locale=locale)
        body = report_body(text)
        if parsed.kind != "issue" or not parsed.topic or not body:
            return None
        return Draft(
            text=body,
            category=parsed.category or "other",
            building=parsed.building,
            message_id=message.message_id,
            photo=photo,
            location=location,
        )

    await record_draft(update, context, read)


# Reads a report in the given language (the parser reads dates by it); None: nothing to report.
DraftReader = Callable[[str], Draft | None]


async def record_draft(
    update: Update, context: GovContext, read: DraftReader, *, compound_id: int | None = None
) -> ReportOutcome | None:
    """Record the report, then (only then) tell the reporter its number and post the card.

    The sender is looked up, the report read in their language and recorded in one
    transaction, as a logged activity is (a session of its own for the sender was a tenth of a
    report's CPU). A message with nothing to report gets the correction instead.
    Returns the outcome (None while the reporter is asked which compound, or for the
    correction); a replayed message gets no second answer.
    """
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    member, draft, outcome = await context.db_quick(
        _read_and_report,
        user_id=user.id if user else None,
        read=read,
        default_locale=context.services.default_locale,
        chat_id=chat.id,
        compound_id=compound_id,
        now=context.now(),
        policy=issue_policy(context),
    )
    if user is not None:
        context.remember_member(user.id, member)
    _ = await context.messages(update)
    if draft is None or outcome is None:
        await reply(update, _("issue.empty"))
        return None
    if isinstance(outcome, PlaceChoice):
        await ask_compound(update, context, draft, outcome, _)
        return None
    if not outcome.created:
        logger.info(
            "report message %s/%s seen again: #%s", chat.id, draft.message_id, outcome.issue.number
        )
        return outcome
    view = outcome.issue
    text = receipt_text(
        view,
        _,
        tz=context.services.tz,
        residents_chat=outcome.residents_chat,
        unknown_building=outcome.unknown_building,
    )
    duplicates = () if outcome.residents_chat else outcome.duplicates
    if duplicates:
        text += "\n\n" + _("issue.receipt.maybe_duplicate", original=duplicates[0])
    await reply(update, text, reply_markup=receipt_buttons(view, _, duplicates=duplicates))
    await post_new_issue(context, view, outcome.chats)
    return outcome


def _read_and_report(
    session: Session,
    *,
    user_id: int | None,
    read: DraftReader,
    default_locale: str,
    **kwargs: Any,
) -> tuple[Member | None, Draft | None, ReportOutcome | PlaceChoice | None]:
    member = member_snapshot(session, user_id=user_id) if user_id is not None else None
    draft = read(member.language if member is not None else default_locale)
    if draft is None:
        return member, None, None
    outcome = report_issue(
        session,
        actor=Actor(member_id=member.id if member else None, user_id=user_id),
        message_id=draft.message_id,
        text=draft.text,
        category_id=draft.category,
        building_ref=draft.building,
        photo_file_id=draft.photo,
        location=draft.location,
        **kwargs,
    )
    return member, draft, outcome


async def ask_compound(
    update: Update, context: GovContext, draft: Draft, choice: PlaceChoice, _: Messages
) -> None:
    """The reporter covers several compounds: ask which one, keeping the report meanwhile."""
    chat = update.effective_chat
    assert chat is not None
    pending: dict[Any, Draft] = context.user_data.setdefault(PENDING_KEY, {})  # type: ignore[union-attr]
    pending[(chat.id, draft.message_id)] = draft
    rows = [
        [InlineKeyboardButton(path, callback_data=pack(PREFIX, "at", draft.message_id, cid))]
        for cid, path in choice.candidates[: issue_guided.MAX_PLACE_BUTTONS]
    ]
    await reply(update, _("issue.which_compound"), reply_markup=InlineKeyboardMarkup(rows))


async def compound_chosen(
    update: Update, context: GovContext, message_id: int, compound: str
) -> None:
    """Record a pending report in the compound the reporter chose."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None
    assert chat is not None
    _ = await context.messages(update)
    pending: dict[Any, Draft] = (context.user_data or {}).get(PENDING_KEY, {})
    draft = pending.get((chat.id, message_id))
    if draft is None or not is_number(compound):
        await query.answer(_("issue.pending_lost"), show_alert=True)
        return
    outcome = await record_draft(update, context, lambda _locale: draft, compound_id=int(compound))
    pending.pop((chat.id, message_id), None)
    if outcome is not None and not outcome.created:
        await query.answer(_("issue.already_recorded", number=outcome.issue.number))
        return
    await query.answer()


async def media_message(update: Update, context: GovContext) -> None:
    """Attach a photo or location sent right after a report (or a fix) to that issue."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    member = await context.member(update)
    photo = message.photo[-1].file_id if message.photo else None
    location = (
        (message.location.latitude, message.location.longitude) if message.location else None
    )
    attached = await context.db(
        attach_media,
        chat_id=chat.id,
        message_id=message.message_id,
        actor=actor_of(update, member.id if member else None),
        now=context.now(),
        photo_file_id=photo,
        location=location,
        policy=issue_policy(context),
    )
    _ = await context.messages(update)
    if attached is None:
        if chat.type == chat.PRIVATE:
            await reply(update, _("issue.media_without_report"))
        return  # in a group, a photo is just a photo
    if attached.created:
        await reply(update, _(f"issue.attached.{attached.kind}", number=attached.issue_id))


async def issues_command(update: Update, context: GovContext) -> None:
    """List the open issues in the user's scope, overdue first."""
    _ = await context.messages(update)
    if not await _may_list_here(update, context):
        await reply(update, _("issue.list.not_here"))
        return
    member = await context.member(update)
    now = context.now()
    views = await context.db(open_issues, member_id=member.id if member else None, now=now)
    if not views:
        await reply(update, _("issue.list.empty"))
        return
    tz = context.services.tz
    lines = [_("issue.list.title", count=len(views))]
    lines += [list_line(v, _, tz=tz, now=now) for v in views]
    lines.append(_("issue.list.footer"))
    await reply(update, "\n".join(lines))


async def issue_command(update: Update, context: GovContext) -> None:
    """Show one issue with its whole history: /issue N."""
    _ = await context.messages(update)
    args = context.args or []
    number = args[0].lstrip("#＃") if args else ""
    if not number.isdecimal():  # not isdigit: int() refuses "²"
        await reply(update, _("issue.detail.usage"))
        return
    if not await _may_list_here(update, context):
        await reply(update, _("issue.list.not_here"))
        return
    member = await context.member(update)
    view, events = await context.db(
        issue_history, issue_id=int(number), actor=actor_of(update, member.id if member else None)
    )
    tz = context.services.tz
    lines = [card_text(view, _, tz=tz, now=context.now()), "", _("issue.detail.history")]
    for event in events:
        lines.append(
            _(
                "issue.detail.event",
                at=local_time(event.at, tz),
                action=_(f"issue.event.{event.action}"),
                who=event.actor_name or _("issue.detail.system"),
                note=_event_note(event.action, event.note, _),
            )
        )
    # A long history goes out in several messages, split between lines: cutting it at a fixed
    # length could cut a tag or an entity in half, and Telegram refuses such a message.
    for piece in split_text("\n".join(lines)):
        await reply(update, piece)


def _event_note(action: str, note: str | None, _: Messages) -> str:
    if not note:
        return ""
    if action in ("dispatch", "reject"):
        key = "issue.party" if action == "dispatch" else "issue.body"
        return f"（{_(f'{key}.{note}')}）"
    if action in ("overdue", "reminder", "auto_escalate"):
        return f"（{_(f'issue.phase.{note}')}）"
    if action == "confirm":
        return f"（{'⭐' * int(note) if note.isdecimal() else note}）"
    if action in ("joined", "duplicate", "recategorise"):
        return f"（{note}）"
    return ""


async def _may_list_here(update: Update, context: GovContext) -> bool:
    """Lists never go to a residents chat: they may name sensitive categories."""
    chat = update.effective_chat
    if chat is None or chat.type == chat.PRIVATE:
        return True
    return await context.db(chat_audience, chat_id=chat.id) != Audience.RESIDENTS


def schedule_jobs(app: GovApplication) -> None:
    """Run the deadline scan from the job queue."""
    issue_jobs.schedule(app)


def build_handlers() -> list[BaseHandler[Update, GovContext, object]]:
    private = filters.ChatType.PRIVATE
    tagged = filters.Regex(issue_tag_pattern()) | filters.CaptionRegex(issue_tag_pattern())
    return [
        issue_guided.build_conversation(report_message),
        CommandHandler("report", report_message, filters=~private),
        MessageHandler(tagged & ~filters.COMMAND, report_message),
        CommandHandler("issues", issues_command),
        CommandHandler("issue", issue_command),
        *issue_buttons.build_handlers(compound_chosen),
        # A captioned photo with a tag (#志愿 …) belongs to whoever handles that tag.
        MessageHandler(
            (filters.PHOTO & ~filters.CaptionRegex(r"[#＃]")) | filters.LOCATION, media_message
        ),
    ]
