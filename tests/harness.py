"""The offline driver plus what tests need to look behind it: the district and the database."""

from __future__ import annotations

from dataclasses import dataclass

from bot.driver import OfflineDriver, buttons, texts
from storage.bindings import bind_chat, create_bind_code
from storage.clock import MovableClock
from storage.db import Database
from storage.tables import Audience
from tests.district import District

__all__ = ["Harness", "buttons", "texts"]


@dataclass
class Harness(OfflineDriver):
    clock: MovableClock
    district: District
    database: Database

    def bind(self, chat_id: int, unit: str, audience: Audience, title: str = "群") -> None:
        """Bind a group chat to a district unit for an audience, as `/bind CODE` would."""
        now = self.clock.now()
        with self.database.session() as session:
            code = create_bind_code(
                session,
                unit_id=self.district.units[unit],
                audience=audience,
                created_by=None,
                now=now,
            )
            bind_chat(
                session, code=code.code, chat_id=chat_id, title=title, member_id=None, now=now
            )
