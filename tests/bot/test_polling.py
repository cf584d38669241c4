"""`govbot run`'s polling loop: every update handled, in order, before Telegram is told so."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import updates as u
from bot.offline import Fault, OfflineBotAPI
from bot.polling import serve


async def _serve_until_drained(api: OfflineBotAPI, app: Application, seen: list[int]) -> None:
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, stop=stop, poll_timeout=timedelta(seconds=1)))
    async with asyncio.timeout(10):
        while api.pending_updates or len(seen) < 3:  # noqa: ASYNC110  (the server has no event)
            await asyncio.sleep(0.01)
    stop.set()
    await server


def _app(api: OfflineBotAPI, seen: list[int], unconfirmed: list[int] | None = None) -> Application:
    async def note(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen.append(update.effective_message.message_id)
        if unconfirmed is not None:
            # Asserted by the test: an exception raised here would only be logged by PTB.
            unconfirmed.append(api.pending_updates)

    app = Application.builder().token("123456:ABC-offline").request(api).get_updates_request(api)
    built = app.build()
    built.add_handler(CommandHandler("note", note))
    return built


async def test_updates_are_confirmed_only_after_they_were_handled() -> None:
    api = OfflineBotAPI()
    seen: list[int] = []
    for message_id in (1, 2, 3):
        api.feed(
            u.make_command_update("/note", chat=u.make_private_chat(7), message_id=message_id)
        )
    unconfirmed: list[int] = []
    await _serve_until_drained(api, _app(api, seen, unconfirmed), seen)
    assert seen == [1, 2, 3]
    # While each update was handled, Telegram still held it as unconfirmed.
    assert len(unconfirmed) == 3
    assert all(count >= 1 for count in unconfirmed)
    assert api.pending_updates == 0


async def test_a_failing_get_updates_is_retried() -> None:
    api = OfflineBotAPI()
    seen: list[int] = []
    api.fail_next("getUpdates", error=Fault.server_error())
    for message_id in (1, 2, 3):
        api.feed(
            u.make_command_update("/note", chat=u.make_private_chat(7), message_id=message_id)
        )
    await _serve_until_drained(api, _app(api, seen), seen)
    assert seen == [1, 2, 3]
