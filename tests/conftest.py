"""Fixtures shared by every test: a migrated database, a movable clock, a small district, and a
harness that drives the real Application through the offline transport."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot  # noqa: F401  (sets PTB_TIMEDELTA before telegram builds any RetryAfter)
from bot.app import build_application
from bot.offline import OfflineBotAPI
from bot.settings import Settings
from bot.updates import next_message_id
from storage.clock import MovableClock
from storage.db import Database
from storage.schema import upgrade_database
from tests.district import District, build_district
from tests.harness import Harness

# Monday 2026-11-16 09:00 in Shanghai.
START = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database built by the real Alembic migrations; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("template") / "govbot.sqlite"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture
def database(migrated_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "govbot.sqlite"
    shutil.copy(migrated_template, path)
    db = Database(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


@pytest.fixture
def district(database: Database, clock: MovableClock) -> District:
    with database.session() as session:
        return build_district(session, now=clock.now())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'unused.sqlite'}",
        bot_username="govbot_demo_bot",
    )


@pytest.fixture
async def harness(
    settings: Settings, database: Database, clock: MovableClock, district: District
) -> AsyncIterator[Harness]:
    api = OfflineBotAPI(clock=clock, message_ids=next_message_id)
    app = build_application(settings, api, clock=clock, database=database)
    async with app:
        yield Harness(app=app, api=api, clock=clock, district=district, database=database)
