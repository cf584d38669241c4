"""/index (a compound's latest score with its chart) and /digest (a private preview of the week's
digest for the chat)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlmodel import Session
from telegram import Update
from telegram.error import Forbidden
from telegram.ext import BaseHandler, CommandHandler

from bot.digest.charts import draw
from bot.digest.render import Digest, render_digest, render_index
from bot.digest.weeks import digest_week
from bot.weekly import prepare_week, weekly_config
from handlers.context import GovContext, reply
from storage.bindings import active_binding
from storage.errors import DomainError
from storage.org import compound_of, get_unit, resolve_unit
from storage.permissions import ACTION_ROLES, Action, active_grants, managed_units, require
from storage.snapshots import latest_period, read_week
from storage.splitting import MAX_CAPTION, split_text, utf16_len
from storage.tables import Audience, Role, UnitKind


@dataclass(frozen=True)
class _IndexView:
    compound: str
    week: str | None
    row: pd.Series | None


async def index_command(update: Update, context: GovContext) -> None:
    """Show the latest index of the user's compound (or the one named) with its chart."""
    _ = await context.messages(update)
    member = await context.member(update)
    if member is None:
        raise DomainError("permission.denied", action=Action.VIEW_INDEX.value)
    ref = " ".join(context.args or []).strip()
    view = await context.db(_index_view, member_id=member.id, ref=ref)
    if view is None:
        await reply(update, _("digest.index.no_compound"))
        return
    if view.row is None or view.week is None:
        await reply(update, _("digest.index.not_yet", compound=view.compound))
        return
    message = update.effective_message
    if message is None:
        return
    caption, png = await asyncio.to_thread(
        _index_photo, view.row, compound=view.compound, week=view.week, locale=_.locale
    )
    await message.reply_photo(png, caption=caption)


def _index_photo(row: pd.Series, *, compound: str, week: str, locale: str) -> tuple[str, bytes]:
    """``/index``'s caption and chart, rendered and drawn off the event loop (pandas and
    matplotlib)."""
    (part,) = render_index(row, compound=compound, week=week, locale=locale).parts
    assert part.chart is not None  # render_index always describes the dimensions chart
    return part.text, draw(part.chart)


def _index_view(session: Session, *, member_id: int | None, ref: str) -> _IndexView | None:
    """The compound to show: the one named, else the first compound the member belongs to."""
    compound = None
    if ref:
        compound = compound_of(session, resolve_unit(session, ref).id)
        if compound is None:
            return None
    else:
        for grant in active_grants(session, member_id or 0):
            compound = compound_of(session, grant.unit_id)
            if compound is not None:
                break
    if compound is None:
        return None
    if not _on_compound_roster(session, member_id=member_id, compound_id=compound.id):
        require(session, member_id=member_id, action=Action.VIEW_INDEX, unit_id=compound.id)
    week = latest_period(session)
    if week is None:
        return _IndexView(compound.name, None, None)
    scores = read_week(session, period=week)
    row = scores.loc[compound.id] if compound.id in scores.index else None
    return _IndexView(compound.name, week, row)


def _on_compound_roster(session: Session, *, member_id: int | None, compound_id: int) -> bool:
    """A role in the compound or in one of its buildings lets a person see its index."""
    roles = ACTION_ROLES[Action.VIEW_INDEX]
    for grant in active_grants(session, member_id or 0):
        inside = compound_of(session, grant.unit_id)
        if Role(grant.role) in roles and inside is not None and inside.id == compound_id:
            return True
    return False


async def digest_command(update: Update, context: GovContext) -> None:
    """Send the requester, privately, the digest this chat receives this week."""
    _ = await context.messages(update)
    member = await context.member(update)
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    target = await context.db(
        _preview_target, member_id=member.id if member else None, chat_id=chat.id
    )
    if target is None:
        await reply(update, _("digest.preview.nothing"))
        return
    unit_id, audience = target
    services = context.services
    config = weekly_config(services)
    week = digest_week(context.now(), services.tz)
    material = await asyncio.to_thread(
        prepare_week,
        services.db,
        week=week,
        now=context.now(),
        tz=services.tz,
        drop_points=config.drop_points,
    )
    digest = await asyncio.to_thread(
        render_digest, material, audience=audience, unit_id=unit_id, locale=services.default_locale
    )
    try:
        await _send_privately(
            context,
            user.id,
            digest,
            _("digest.preview.header", audience=_(f"audience.{audience}")),
        )
    except Forbidden:
        await reply(update, _("digest.preview.cannot_dm"))
        return
    if chat.id != user.id:
        await reply(update, _("digest.preview.sent"))


def _preview_target(
    session: Session, *, member_id: int | None, chat_id: int
) -> tuple[int, str] | None:
    """The (unit, audience) whose digest to preview: the chat's binding, or in a private chat
    the highest unit the member may preview."""
    binding = active_binding(session, chat_id=chat_id)
    if binding is not None:
        require(
            session, member_id=member_id, action=Action.DIGEST_PREVIEW, unit_id=binding.unit_id
        )
        return binding.unit_id, binding.audience
    units = managed_units(session, member_id=member_id, action=Action.DIGEST_PREVIEW)
    if not units:
        raise DomainError("permission.denied", action=Action.DIGEST_PREVIEW.value)
    rank = {UnitKind.TOWN: 0, UnitKind.COMMITTEE: 1}
    candidates = [get_unit(session, unit_id) for unit_id in units]
    candidates = [u for u in candidates if u.kind in rank]
    if not candidates:
        return None
    best = min(candidates, key=lambda u: (rank[UnitKind(u.kind)], u.id or 0))
    audience = Audience.TOWN if best.kind == UnitKind.TOWN else Audience.COMMITTEE
    return best.id or 0, audience


async def _send_privately(context: GovContext, user_id: int, digest: Digest, header: str) -> None:
    await context.bot.send_message(user_id, header)
    for part in digest.parts:
        if part.chart is not None:
            fits = utf16_len(part.text) <= MAX_CAPTION  # else the text follows the photo
            png = await asyncio.to_thread(draw, part.chart)
            await context.bot.send_photo(user_id, png, caption=part.text if fits else None)
            if fits:
                continue
        for piece in split_text(part.text):
            await context.bot.send_message(user_id, piece)


def build_handlers() -> list[BaseHandler[Update, GovContext, Any]]:
    return [
        CommandHandler("index", index_command),
        CommandHandler("digest", digest_command),
    ]
