"""The offline driver plus what tests need to look behind it: the district and the database."""

from __future__ import annotations

from dataclasses import dataclass

from bot.driver import OfflineDriver, buttons, texts
from storage.clock import MovableClock
from storage.db import Database
from tests.district import District

__all__ = ["Harness", "buttons", "texts"]


@dataclass
class Harness(OfflineDriver):
    clock: MovableClock
    district: District
    database: Database
