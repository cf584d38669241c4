"""The weekly check-in (零报告) and the silent-building alert.

Each week, at ``checkin_weekday``/``checkin_time`` in the settings' time zone, every building
leader is asked in private "本周楼组情况？" with 无异常 / 有情况 buttons; /checkin (or a private
message such as 无异常, or ``#零报告 …``) answers early. 有情况 asks them to report it (#报事 or
/report, handled by the issues module). A daily scan posts a silent-building alert in the
committee chat of the building's 居委, once per cause, through the outbox. The weekly question
is sent directly: it goes to each leader in private with buttons, once per week's key.

Jobs are keyed by ISO week (``checkin:2026-W47`` in ``job_run``), so a catch-up at start-up
after downtime asks once, never twice.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers.callbacks import is_number, pack, pattern, unpack
from handlers.context import GovApplication, GovContext, reply
from handlers.i18n import Messages
from handlers.issue_notify import post_alert
from handlers.parsing import parse_message
from handlers.parsing.lexicon import alternation, lexicon
from handlers.parsing.numerals import normalise
from handlers.parsing.triggers import read_trigger
from handlers.start import help_command
from storage.bindings import bindings_under
from storage.checkins import (
    ISSUE,
    OK,
    LedBuilding,
    SilentBuilding,
    checkin_requests,
    claim_run,
    iso_week,
    led_buildings,
    record_checkin,
    record_checkin_message,
    scan_silent_buildings,
)
from storage.org import get_unit
from storage.processed import CHECKIN as CHECKIN_MESSAGE
from storage.processed import mark_answered
from storage.tables import Audience

logger = logging.getLogger(__name__)

CHK = "chk"
ASK_JOB, SILENT_JOB, CATCH_UP_JOB = "checkin:ask", "checkin:silent", "checkin:catch-up"


_CHECKIN_TAG = re.compile(rf"#\s?{alternation(lexicon().words('tags', 'checkin'))}", re.IGNORECASE)


class _CheckinWords(filters.MessageFilter):
    """#零报告 anywhere; in a private chat also a short 无异常 / 有情况 on its own."""

    def filter(self, message: Message) -> bool:
        if not message.text:
            return False
        trigger = read_trigger(normalise(message.text))
        if trigger.kind != "checkin" or trigger.by_command:
            return False
        if message.chat.type == message.chat.PRIVATE:
            return True
        return _CHECKIN_TAG.search(normalise(message.text)) is not None


CHECKIN_WORDS = _CheckinWords(name="govbot.checkin_words")


def _buttons(_: Messages, building_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("checkin.button.ok"), callback_data=pack(CHK, OK, building_id)
                ),
                InlineKeyboardButton(
                    _("checkin.button.issue"), callback_data=pack(CHK, ISSUE, building_id)
                ),
            ]
        ]
    )


def _place(building: LedBuilding) -> str:
    return f"{building.compound} {building.building}".strip()


async def checkin_command(update: Update, context: GovContext) -> None:
    """Answer this week's check-in early: one question per building the user leads."""
    user = update.effective_user
    if user is None:
        return
    _ = await context.messages(update)
    buildings = await context.db(led_buildings, user_id=user.id)
    if not buildings:
        await reply(update, _("checkin.no_building"))
        return
    for building in buildings:
        await reply(
            update,
            _("checkin.ask", place=_place(building)),
            reply_markup=_buttons(_, building.building_id),
        )


async def checkin_text(update: Update, context: GovContext) -> None:
    """A check-in written as a message: 无异常 → ok; 有情况 … → issue, then how to report it."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not message.text or update.edited_message:
        return
    _ = await context.messages(update)
    today = context.today()
    result = parse_message(message.text, today=today, locale=_.locale)
    buildings = await context.db(led_buildings, user_id=user.id)
    if not buildings and not _CHECKIN_TAG.search(normalise(message.text)):
        # A short "有问题" from someone who leads no building is not a check-in: answer it as
        # start's private fallback would.
        await help_command(update, context)
        return
    if not buildings:
        await reply(update, _("checkin.no_building"))
        return
    if len(buildings) > 1:
        for building in buildings:
            await reply(
                update,
                _("checkin.ask", place=_place(building)),
                reply_markup=_buttons(_, building.building_id),
            )
        return
    status = OK if result.checkin_clear else ISSUE
    source = {"chat_id": message.chat.id, "message_id": message.message_id}
    owed = await context.db(
        record_checkin_message,
        **source,
        user_id=user.id,
        building_id=buildings[0].building_id,
        status=status,
        now=context.now(),
        today=today,
    )
    if not owed:
        return  # the same update again: recorded and answered the first time
    # The topic echoes the leader's own words, which may name a neighbour, a phone or a room:
    # fine in private, never in a group (residents chats see no personal data).
    private = message.chat.type == message.chat.PRIVATE
    topic = result.topic if private else None
    await reply(update, _answer_text(_, status, _place(buildings[0]), topic))
    await context.db(mark_answered, **source, kind=CHECKIN_MESSAGE, now=context.now())


def _answer_text(_: Messages, status: str, place: str, topic: str | None) -> str:
    if status == OK:
        return _("checkin.thanks_ok", place=place)
    if topic:
        return _("checkin.thanks_issue_topic", place=place, topic=topic)
    return _("checkin.thanks_issue", place=place)


async def checkin_button(update: Update, context: GovContext) -> None:
    """无异常 / 有情况 pressed: record it for that building."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    _ = await context.messages(update)
    parts = unpack(query.data, CHK, 2)
    if parts is None or parts[0] not in (OK, ISSUE) or not is_number(parts[1]) or user is None:
        await query.answer(_("common.stale_button"), show_alert=True)
        return
    status, building_id = parts[0], int(parts[1])
    await context.db(
        record_checkin,
        user_id=user.id,
        building_id=building_id,
        status=status,
        now=context.now(),
        today=context.today(),
    )
    await query.answer()
    place = await context.db(_place_of, building_id=building_id)
    await query.edit_message_text(_answer_text(_, status, place, None))


def _place_of(session: Session, *, building_id: int) -> str:
    building = get_unit(session, building_id)
    compound = get_unit(session, building.parent_id) if building.parent_id else None
    return f"{compound.name if compound else ''} {building.name}".strip()


# -- jobs ------------------------------------------------------------------------------------


async def ask_for_checkins(context: GovContext) -> None:
    """Ask every building leader about their building, once per ISO week."""
    today = context.today()
    claimed = await context.db(claim_run, key=f"checkin:{iso_week(today)}", now=context.now())
    if not claimed:
        return
    requests = await context.db(checkin_requests, today=today)
    for request in requests:
        _ = Messages(request.language)
        place = f"{request.compound} {request.building}".strip()
        try:
            await context.bot.send_message(
                request.user_id,
                _("checkin.ask", place=place),
                reply_markup=_buttons(_, request.building_id),
            )
        except TelegramError:
            # A leader who never opened a private chat with the bot cannot be written to.
            logger.warning(
                "could not ask user %s for the check-in", request.user_id, exc_info=True
            )


async def alert_silent_buildings(context: GovContext) -> None:
    """Post new silent-building alerts in the committee chat of each building's 居委."""
    now = context.now()
    today = now.astimezone(context.services.tz).date()
    raised = await context.db(scan_silent_buildings, today=today, now=now)
    _ = Messages(context.services.default_locale)
    for alert in raised:
        chats = await context.db(_committee_chats, alert=alert)
        for chat_id in chats:
            await post_alert(
                context,
                chat_id,
                _silent_text(_, alert),
                kind="alert:silent-building",
                key=str(alert.alert_id),  # the stored alert: one per building and cause
            )


def _silent_text(_: Messages, alert: SilentBuilding) -> str:
    place = f"{alert.compound} {alert.building}".strip()
    if alert.last_seen is None:
        return _("checkin.silent_never", place=place)
    return _("checkin.silent", place=place, last_seen=alert.last_seen.isoformat())


def _committee_chats(session: Session, *, alert: SilentBuilding) -> list[int]:
    if alert.committee_id is None:
        return []
    bindings = bindings_under(session, unit_id=alert.committee_id, audience=Audience.COMMITTEE)
    return [b.chat_id for b in bindings]


@dataclass(frozen=True)
class _When:
    weekday: int  # Monday = 0, as in the settings
    at: time


async def catch_up(context: GovContext) -> None:
    """At start-up: if this week's check-in time has passed, ask now (keyed, so only once)."""
    job = context.job
    when: _When | None = job.data if job is not None else None  # type: ignore[assignment]
    if when is None:
        return
    local = context.now().astimezone(context.services.tz)
    monday = local.date() - timedelta(days=local.weekday())
    due = datetime.combine(monday + timedelta(days=when.weekday), when.at, tzinfo=local.tzinfo)
    if local >= due:
        await ask_for_checkins(context)
    await alert_silent_buildings(context)


def schedule_jobs(app: GovApplication, settings: Any) -> None:
    """Register the weekly check-in, the daily silent-building scan and the start-up catch-up."""
    queue = app.job_queue
    if queue is None:
        logger.warning("no job queue: install python-telegram-bot[job-queue]")
        return
    at = settings.checkin_time.replace(tzinfo=settings.tz)
    # PTB counts days from Sunday = 0; the settings count from Monday = 0 like Python.
    queue.run_daily(ask_for_checkins, at, days=((settings.checkin_weekday + 1) % 7,), name=ASK_JOB)
    queue.run_daily(alert_silent_buildings, at, name=SILENT_JOB)
    queue.run_once(
        catch_up,
        timedelta(seconds=30),
        data=_When(settings.checkin_weekday, settings.checkin_time),
        name=CATCH_UP_JOB,
    )


def build_handlers() -> list[BaseHandler[Update, GovContext, Any]]:
    return [
        CommandHandler("checkin", checkin_command),
        CallbackQueryHandler(checkin_button, pattern=pattern(CHK)),
        MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & CHECKIN_WORDS, checkin_text),
    ]
