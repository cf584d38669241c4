"""Talk to the Application as Telegram would, offline: send messages, press buttons, and read
back what the bot sent. The demo, `govbot chat` and the tests all drive the bot through this."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot import updates as u
from bot.offline import OfflineBotAPI, SentCall
from handlers.context import GovApplication
from storage.clock import Clock


@dataclass
class OfflineDriver:
    app: GovApplication
    api: OfflineBotAPI
    clock: Clock

    @staticmethod
    def user(user_id: int, name: str = "张三", *, language: str = "zh-hans") -> dict[str, Any]:
        return u.make_user(user_id, name, language_code=language)

    @staticmethod
    def private(user_id: int) -> dict[str, Any]:
        return u.make_private_chat(user_id)

    @staticmethod
    def group(chat_id: int, title: str = "阳光小区居民群") -> dict[str, Any]:
        return u.make_group_chat(chat_id, title)

    async def process(self, update: Mapping[str, Any]) -> list[SentCall]:
        """Process one update (as a dict) and return what the bot sent while handling it."""
        before = len(self.api.calls)
        await self.app.process_update(u.to_update(update, self.app.bot))
        return list(self.api.calls[before:])

    async def send(
        self,
        text: str,
        *,
        user_id: int,
        chat: Mapping[str, Any] | None = None,
        name: str = "张三",
        **kw: Any,
    ) -> list[SentCall]:
        """A message (or a /command) from ``user_id``, in private unless ``chat`` is given."""
        chat = chat or self.private(user_id)
        kw.setdefault("date", self.clock.now())
        user = self.user(user_id, name)
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            update = u.make_command_update(command, *rest.split(), user=user, chat=chat, **kw)
        else:
            update = u.make_message_update(text, user=user, chat=chat, **kw)
        return await self.process(update)

    async def press(
        self, data: str, *, user_id: int, chat: Mapping[str, Any] | None = None, **kw: Any
    ) -> list[SentCall]:
        """``user_id`` presses an inline button carrying ``data``."""
        chat = chat or self.private(user_id)
        update = u.make_callback_update(data, user=self.user(user_id), chat=chat, **kw)
        return await self.process(update)


def texts(calls: list[SentCall]) -> str:
    """Everything the bot wrote in ``calls`` (texts, captions, button answers), one string."""
    parts = []
    for call in calls:
        for value in (call.text, call.caption, call.params.get("text")):
            if isinstance(value, str):
                parts.append(value)
    return "\n".join(parts)


def buttons(call: SentCall) -> list[tuple[str, str]]:
    """``(label, callback_data)`` of every inline button on a sent message."""
    markup = call.reply_markup or {}
    return [
        (button["text"], button.get("callback_data", ""))
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]
