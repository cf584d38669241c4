"""A bot process for the crash-during-ingest test: the real Application, long polling the
offline Bot API, on a SQLite file, until it has handled every update or is killed.

``python -m tests.reliability.ingest_child DATABASE_PATH STREAM_JSON ACK_LOG``; the test forks
:func:`run` instead, so that each of its many restarts does not pay for the imports again.

STREAM_JSON holds the whole update stream. By default a restart is fed all of it again (every
replay must be recognised). With ``remember_offset`` the server behaves exactly like Telegram:
it remembers the offset the bot confirmed (in ``ACK_LOG.offset``, fsynced) and serves only the
updates from there on. Whenever the bot's receipt for message N
reaches the chat, N is appended to ACK_LOG and fsynced *as the server accepts it*: the log is
what the users saw, and it survives the kill. Prints
``polling`` (or sets ``polling``) once the bot is running.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping
from datetime import timedelta
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import bot  # noqa: F401  (PTB_TIMEDELTA)
from bot.app import build_application
from bot.offline import OfflineBotAPI, UploadedFile
from bot.polling import serve
from bot.settings import Settings
from storage.db import Database

RECEIPT = "已记下"


class AckingAPI(OfflineBotAPI):
    """Writes the message id each delivered receipt replies to, durably, before answering."""

    def __init__(self, log: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._log = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._offset = Path(f"{log}.offset")

    def confirmed(self) -> int:
        """The offset the bot last confirmed, across restarts (Telegram's memory)."""
        return int(self._offset.read_text() or 0) if self._offset.exists() else 0

    def _confirm(self, offset: int | None) -> None:
        super()._confirm(offset)
        if offset is not None and offset > self.confirmed():
            fd = os.open(self._offset, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, str(offset).encode())
            os.fsync(fd)
            os.close(fd)

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
        reply_to = (params.get("reply_parameters") or {}).get("message_id")
        if delivered and method == "sendMessage" and RECEIPT in str(params.get("text")):
            os.write(self._log, f"{reply_to}\n".encode())
            os.fsync(self._log)
        super()._record(method, params, files, result, delivered=delivered, error=error)


async def main(
    path: str,
    stream: str,
    log: str,
    polling: Event | None = None,
    *,
    remember_offset: bool = False,
) -> None:
    updates = json.loads(Path(stream).read_text(encoding="utf-8"))  # noqa: ASYNC240
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{path}",
        bot_username="govbot_demo_bot",
    )
    api = AckingAPI(log)
    database = Database(settings.database_url)
    app = build_application(settings, api, database=database)
    for update in updates:
        if not remember_offset or update["update_id"] >= api.confirmed():
            api.feed(update)
    # The same loop as `govbot run`: an update is confirmed only after it was handled.
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, stop=stop, poll_timeout=timedelta(seconds=1)))
    while not app.running:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    if polling is not None:
        polling.set()
    else:
        sys.stdout.write("polling\n")
        sys.stdout.flush()
    while api.pending_updates:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    stop.set()
    await server
    sys.stdout.write("done\n")


def run(path: str, stream: str, log: str, polling: Event, remember_offset: bool) -> None:
    """The body of a forked child process."""
    asyncio.run(main(path, stream, log, polling, remember_offset=remember_offset))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
