"""/export: the ledger (台账) of the units a committee member manages, as an Excel file."""

from __future__ import annotations

import asyncio

from sqlmodel import Session
from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from handlers.context import GovContext, reply
from handlers.ledger import ledger_workbook
from storage.errors import DomainError
from storage.ledger import Ledger, read_ledger
from storage.org import unit_path
from storage.permissions import Action, active_grants, is_allowed


def export_scope(session: Session, *, member_id: int | None) -> int:
    """The highest unit where the member may export (their 居委, street, …)."""
    for grant in active_grants(session, member_id or 0):
        if is_allowed(session, member_id=member_id, action=Action.EXPORT, unit_id=grant.unit_id):
            return grant.unit_id
    raise DomainError("permission.denied", action=Action.EXPORT.value)


def _ledger_for(session: Session, *, member_id: int | None) -> tuple[str, Ledger]:
    unit_id = export_scope(session, member_id=member_id)
    return unit_path(session, unit_id), read_ledger(session, unit_id=unit_id)


async def export_command(update: Update, context: GovContext) -> None:
    """Send the ledger of the member's units as an XLSX file."""
    _ = await context.messages(update)
    chat = update.effective_chat
    if chat is None or chat.type != chat.PRIVATE:
        await reply(update, _("common.private_only"))
        return
    member = await context.member(update)
    unit, ledger = await context.db(_ledger_for, member_id=member.id if member else None)
    if ledger.empty:
        await reply(update, _("export.nothing"))
        return
    await reply(update, _("export.working"))
    data = await asyncio.to_thread(ledger_workbook, ledger, _.locale, context.services.tz)
    day = context.now().astimezone(context.services.tz).strftime("%Y-%m-%d")
    await chat.send_document(
        document=data,
        filename=f"ledger-{day}.xlsx",
        caption=_("export.caption", unit=unit, date=day),
    )


def build_handlers() -> list[BaseHandler[Update, GovContext, object]]:
    return [CommandHandler("export", export_command)]
