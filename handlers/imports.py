"""Importing a roster or static indicators by sending the file to the bot in a private chat."""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlmodel import Session
from telegram import Update
from telegram.ext import BaseHandler, MessageHandler, filters

from handlers.context import GovContext, reply
from handlers.i18n import Messages
from scoring.catalog import load_catalog as load_indicator_catalog
from storage.errors import DomainError
from storage.indicator_import import IndicatorSpec, import_indicator_file
from storage.permissions import Action, managed_units
from storage.processed import IMPORT, mark_answered, was_answered
from storage.roster_import import COLUMN_ALIASES, ImportReport, import_roster_file
from storage.spreadsheet import read_sheet

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 5 * 1024 * 1024
SUFFIXES = (".csv", ".xlsx", ".xlsm")


@cache
def indicator_specs() -> dict[str, IndicatorSpec]:
    """The importable indicators of the index catalogue, by id."""
    catalog = load_indicator_catalog()
    imported = catalog[catalog["source"] == "imported"]
    return {
        str(i): IndicatorSpec(
            id=str(i), names=(str(i), str(row["zh"]), str(row["en"])), scaling=str(row["scaling"])
        )  # fmt: skip
        for i, row in imported.iterrows()
    }


def format_import_report(report: ImportReport, _: Messages) -> str:
    """A plain-text, row-by-row report of an import (for the CLI and the bot)."""
    if report.ok:
        created = ", ".join(f"{kind}: {n}" for kind, n in sorted(report.created.items()))
        return _.raw("import.ok", file=report.file, rows=report.rows, created=created or "0")
    lines = [_.raw("import.failed", file=report.file, problems=len(report.problems))]
    for problem in report.problems[:50]:
        reason = _.raw(f"error.{problem.code}", **problem.params)
        lines.append(_.raw("import.problem_line", line=problem.line, reason=reason))
    if len(report.problems) > 50:
        lines.append(_.raw("import.more_problems", count=len(report.problems) - 50))
    return "\n".join(lines)


def import_file(
    session: Session, *, path: Path, member_id: int | None, now: datetime
) -> ImportReport:
    """Import a roster or an indicator sheet, told apart by its headers, in the member's units."""
    within = managed_units(session, member_id=member_id, action=Action.IMPORT)
    if not within:
        raise DomainError("permission.denied", action=Action.IMPORT.value)
    columns = read_sheet(path, COLUMN_ALIASES).columns
    if {"committee", "housing"} <= columns:
        return import_roster_file(
            session,
            path=path,
            now=now,
            actor_member_id=member_id,
            within=within,
        )
    return import_indicator_file(
        session,
        path=path,
        indicators=indicator_specs(),
        now=now,
        within=within,
        actor_member_id=member_id,
    )


async def import_document(update: Update, context: GovContext) -> None:
    """Import the spreadsheet a committee member sent, and answer with the row-by-row report."""
    message = update.effective_message
    assert message is not None
    document = message.document
    _ = await context.messages(update)
    if document is None:
        return
    name = document.file_name or "file"
    if not name.lower().endswith(SUFFIXES):
        await reply(update, _("error.import.file_type", name=name))
        return
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await reply(update, _("import.too_big"))
        return
    source = {"chat_id": message.chat.id, "message_id": message.message_id, "kind": IMPORT}
    if await context.db(was_answered, **source):
        return  # the same update again: imported and answered the first time
    member = await context.member(update)
    telegram_file = await document.get_file()
    data = await telegram_file.download_as_bytearray()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(name).name
        path.write_bytes(bytes(data))
        report = await context.db(
            import_file, path=path, member_id=member.id if member else None, now=context.now()
        )
    await reply(update, _("import.report", report=format_import_report(report, _)))
    # Noted only once answered: an import is idempotent (it reuses what exists), so a replay
    # after a crash before this point imports nothing new and answers as it should.
    await context.db(mark_answered, **source, now=context.now())


def build_handlers() -> list[BaseHandler[Update, GovContext, object]]:
    return [MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL, import_document)]
