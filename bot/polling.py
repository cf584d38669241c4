"""Long polling that never loses an update: confirm to Telegram only what has been handled.

PTB's own updater fetches a batch of up to 100 updates, queues them, and asks for the next batch
at once; asking with a higher ``offset`` is how the Bot API confirms the previous batch. So the
queued updates are confirmed before they are handled, and a crash then loses them for good:
Telegram never sends a confirmed update again. Here each batch is handled, in order, before the
next ``getUpdates``; a crash mid-batch means Telegram sends the unconfirmed updates again, and the
unique ``(chat_id, message_id)`` of every record turns the replay into a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram.error import Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.pacing import retry_after_seconds

logger = logging.getLogger(__name__)

POLL_TIMEOUT = timedelta(seconds=30)
MAX_BACKOFF = 60.0

AnyApp = Application[Any, Any, Any, Any, Any, Any]


async def serve(
    app: AnyApp,
    *,
    stop: asyncio.Event,
    allowed_updates: Sequence[str] | None = None,
    poll_timeout: timedelta = POLL_TIMEOUT,
) -> None:
    """Run the application (its post_init, jobs and post_shutdown included) until ``stop``."""
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        # Polling and a webhook exclude each other; pending updates are kept.
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.start()
        try:
            await poll(app, stop=stop, allowed_updates=allowed_updates, poll_timeout=poll_timeout)
        finally:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
    finally:
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


async def poll(
    app: AnyApp,
    *,
    stop: asyncio.Event,
    allowed_updates: Sequence[str] | None = None,
    poll_timeout: timedelta = POLL_TIMEOUT,
) -> None:
    """Fetch, handle in order, then confirm by asking for the next batch; until ``stop``."""
    offset: int | None = None
    backoff = 1.0
    while not stop.is_set():
        fetch = asyncio.ensure_future(
            app.bot.get_updates(
                offset=offset, timeout=poll_timeout, allowed_updates=allowed_updates
            )
        )
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            # Stopping: a batch fetched but not yet returned was not confirmed, so Telegram
            # sends it again to the next process.
            fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)
            return
        try:
            updates = fetch.result()
        except TimedOut:
            continue  # a long poll that timed out on our side: ask again
        except (Forbidden, InvalidToken):
            raise  # the token is wrong or revoked: nothing to retry
        except RetryAfter as exc:
            await _pause(stop, retry_after_seconds(exc.retry_after))
            continue
        except NetworkError:
            logger.warning("getUpdates failed; retrying in %.0f s", backoff, exc_info=True)
            await _pause(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        backoff = 1.0
        for update in updates:
            # process_update sends handler errors to the error handler; it raises only if that
            # fails too, and then the update stays unconfirmed and comes back.
            await app.process_update(update)
            offset = update.update_id + 1


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
