"""A sender process for the SIGKILL test: drains the outbox at a fixed URL until killed.

``python -m tests.bot.sigkill_worker DATABASE_URL LOG``. Each message the offline server accepts
is appended to LOG with one unbuffered write, *as part of accepting it*: the log is Telegram's
side of the story, and it survives the kill. Prints ``draining`` when it starts sending.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from typing import Any

from telegram import Bot

import bot  # noqa: F401  (PTB_TIMEDELTA)
from bot.offline import OfflineBotAPI, RateLimits, UploadedFile
from bot.pacing import Pacing
from bot.sender import OutboxSender
from storage import outbox
from storage.clock import SystemClock
from storage.db import Database

SCALE = 50.0


class LoggingAPI(OfflineBotAPI):
    def __init__(self, log: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._log = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        files: Mapping[str, UploadedFile],
        result: Any,
        *,
        delivered: bool = True,
        error: str | None = None,
    ) -> None:
        if delivered and method == "sendMessage":
            os.write(self._log, f"{params['chat_id']}\t{params['text']}\n".encode())
        super()._record(method, params, files, result, delivered=delivered, error=error)


async def main(url: str, log: str) -> None:
    database = Database(url)
    clock = SystemClock()
    with database.session() as session:
        outbox.recover_interrupted(session, now=clock.now())
    api = LoggingAPI(log, clock=clock, rate_limits=RateLimits(scale=SCALE))
    async with Bot("123456:ABC-offline", request=api) as real_bot:
        sender = OutboxSender(real_bot, database, clock, pacing=Pacing(scale=SCALE))
        sys.stdout.write("draining\n")
        sys.stdout.flush()
        await sender.drain_until_idle()
    sys.stdout.write("done\n")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
