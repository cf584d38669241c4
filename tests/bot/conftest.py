"""Fixtures for driving a real PTB Application through the offline transport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram.ext import Application

from bot.offline import OfflineBotAPI
from tests.factories import next_message_id

TOKEN = "123456:ABC-offline"


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's timedelta `retry_after`.

    Without it, even *constructing* `RetryAfter` emits a PTBDeprecationWarning (PTB v22.2+),
    which `filterwarnings = error` turns into the exception the test sees instead.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def offline_api() -> OfflineBotAPI:
    """Numbers the bot's messages in the same per-chat sequence as the factories' updates."""
    return OfflineBotAPI(message_ids=next_message_id)


@pytest.fixture
async def offline_app(offline_api: OfflineBotAPI) -> AsyncIterator[Application]:
    """An initialised Application whose every Bot API call goes to `offline_api`.

    One transport serves both request slots, so updates fed for getUpdates and the messages
    the bot sends are in one place.
    """
    builder = Application.builder().token(TOKEN)
    builder = builder.request(offline_api).get_updates_request(offline_api)
    async with builder.build() as application:
        yield application
