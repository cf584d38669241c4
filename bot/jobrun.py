"""Run a periodic pipeline once per key (``weekly:2026-W47``), across restarts and within one
process.

The database (``storage.jobrun``) remembers finished keys and lets an unfinished one — its
process died — run again. Within one process the same key may be asked for twice at once (the
start-up catch-up and the scheduled job both firing on Monday 09:00): the second is refused
while the first is running.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.context import run_db
from storage.clock import Clock
from storage.db import Database
from storage.jobrun import finish_run, run_once


class KeyedRuns:
    """The keys this process is running now, and the door to running one."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock
        self._running: set[str] = set()

    async def run(self, key: str, work: Callable[[], Awaitable[None]]) -> bool:
        """Run ``work`` unless ``key`` is finished or running here; True if it ran to the end.

        ``work`` must be idempotent: after a crash it runs again for the same key.
        """
        if key in self._running:
            return False
        self._running.add(key)
        try:
            if not await run_db(self.database, run_once, key=key, now=self.clock.now()):
                return False
            await work()
            await run_db(self.database, finish_run, key=key, now=self.clock.now())
            return True
        finally:
            self._running.discard(key)
