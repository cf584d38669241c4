"""Database access from handlers: short work on the loop unless a writer holds the lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.updates import (
    make_bot_added_update,
    make_group_chat,
    make_message_update,
    make_private_chat,
    make_user,
    to_update,
)
from handlers.context import Services, _write_later, reply, run_db_quick
from storage.clock import MovableClock
from storage.db import Database
from tests.harness import Harness


def _write(*, session: Session, ran_in: list[int]) -> str:
    ran_in.append(threading.get_ident())
    session.execute(text("CREATE TABLE probe (x INTEGER)"))
    session.commit()
    return "recorded"


async def test_quick_work_on_a_free_database_runs_on_the_event_loop(database: Database) -> None:
    ran_in: list[int] = []
    assert await run_db_quick(database, _write, ran_in=ran_in) == "recorded"
    assert ran_in == [threading.get_ident()]


async def test_quick_work_waits_for_another_writer_in_a_thread_and_is_not_lost(
    database: Database,
) -> None:
    path = database.engine.url.database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. the weekly job storing a snapshot
    ran_in: list[int] = []
    work = asyncio.create_task(run_db_quick(database, _write, ran_in=ran_in))
    await asyncio.sleep(0.05)
    assert not work.done()  # waiting for the lock, and the loop is free meanwhile
    other.execute("COMMIT")
    other.close()
    assert await work == "recorded"
    assert len(ran_in) == 1
    assert ran_in[0] != threading.get_ident()
    with database.read_session() as session:
        assert session.execute(text("SELECT count(*) FROM probe")).scalar_one() == 0


async def test_quick_work_still_gives_other_tasks_their_turn(database: Database) -> None:
    """The sender, the jobs and the update fetcher share the loop with a stream of updates."""
    turns: list[str] = []

    async def other_task() -> None:
        turns.append("other task ran")

    other = asyncio.create_task(other_task())
    await run_db_quick(database, _write, ran_in=[])
    assert turns == ["other task ran"]
    await other


async def test_the_later_timer_is_armed_again_after_an_error(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure in the timer's callback is logged by asyncio; it must not leave the timer
    looking armed, or no queued write would be committed before shutdown."""
    services = Services(db=database, clock=MovableClock(datetime(2026, 11, 16, tzinfo=UTC)),
                        tz=ZoneInfo("Asia/Shanghai"))  # fmt: skip

    def broken() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(database, "session_if_free", broken)
    services.later_timer = asyncio.get_running_loop().call_later(60, lambda: None)
    with pytest.raises(sqlite3.OperationalError):
        _write_later(services)
    assert services.later_timer is None  # GovContext.write_soon arms it again


# -- Sending: the request PTB would make, without the Message it would build ---------------------


def _forum_topic(update: dict[str, Any]) -> dict[str, Any]:
    message = update["message"]
    message["chat"] = {**message["chat"], "type": "supergroup", "is_forum": True}
    message["message_thread_id"] = 7
    message["is_topic_message"] = True
    return update


@pytest.mark.parametrize(
    "case",
    [
        "group",
        "private",
        "forum topic",
        "business connection",
        "keyboard",
        "link",
        "no buttons",
        "no message",
    ],
)
async def test_each_reply_is_the_request_ptb_reply_text_would_make(
    harness: Harness, case: str
) -> None:
    """``reply``/``send_text`` skip building the sent ``Message`` (only its id is used): what
    reaches Telegram must still be exactly what PTB's ``reply_text`` (or, for an update without
    a message, the chat's ``send_message``) sends, and the id returned the one Telegram gave."""
    bot = harness.app.bot
    user = make_user(501, "王阿姨")
    chat = make_private_chat(user) if case == "private" else make_group_chat(-1001, "3号楼")
    if case == "no message":  # the bot added to a group: a chat, no message to quote
        data = make_bot_added_update(chat, user)
    else:
        data = make_message_update("#报事 楼道堆物", user=user, chat=chat)
    if case == "forum topic":
        data = _forum_topic(data)
    if case == "business connection":
        data["message"]["business_connection_id"] = "bc-1"
    markup = None
    if case in ("keyboard", "no message"):
        buttons = [InlineKeyboardButton(label, callback_data=f"act:{label}:1") for label in "ab"]
        markup = InlineKeyboardMarkup([buttons, [InlineKeyboardButton("撤销", callback_data="x")]])
    if case == "no buttons":  # an empty keyboard: PTB's own conversion sends {}
        markup = InlineKeyboardMarkup([])
    if case == "link":  # not a plain callback button: PTB converts the keyboard itself
        button = InlineKeyboardButton("说明", url="https://example.org/help", style="primary")
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("撤销", callback_data="x"), button]])
    update = to_update(data, bot)
    text = "<b>已记录</b> 志愿服务 & 2小时"

    sent_id = await reply(update, text, reply_markup=markup)
    ours = harness.api.calls[-1]
    message, group = update.effective_message, update.effective_chat
    if message is not None:
        by_ptb = await message.reply_text(text, reply_markup=markup)
    else:
        assert group is not None
        by_ptb = await group.send_message(text, reply_markup=markup)
    theirs = harness.api.calls[-1]

    assert (ours.method, dict(ours.params)) == (theirs.method, dict(theirs.params))
    assert sent_id == ours.message_id == by_ptb.message_id - 1
