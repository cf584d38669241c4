"""What the reliability suite shares: bound chats, the anonymous group admin, file uploads,
and how to tell a refusal from an answer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot import updates as u
from bot.offline import SentCall
from handlers.i18n import catalogue
from storage.tables import Audience
from tests.bot.test_issue_loop_e2e import COMMITTEE_CHAT, RESIDENTS_CHAT, TOWN_CHAT
from tests.harness import Harness, texts

WEST_RESIDENTS_CHAT = -1001002
WEST_COMMITTEE_CHAT = -1002002

# Telegram's stand-in sender for a group admin who posts "anonymously" (as the group): the
# message carries `sender_chat` = the group and `from` = this bot account.
GROUP_ANONYMOUS_BOT = 1087968824

CHATS: dict[int, tuple[str, Audience, str]] = {
    RESIDENTS_CHAT: ("sunshine", Audience.RESIDENTS, "阳光小区居民群"),
    COMMITTEE_CHAT: ("committee_a", Audience.COMMITTEE, "东城居委工作群"),
    TOWN_CHAT: ("town", Audience.TOWN, "花木街道工作群"),
    WEST_RESIDENTS_CHAT: ("west", Audience.RESIDENTS, "西城花苑居民群"),
    WEST_COMMITTEE_CHAT: ("committee_b", Audience.COMMITTEE, "西城居委工作群"),
}


def bind(harness: Harness, chat_id: int) -> None:
    """Bind (or rebind) one of the suite's group chats to its unit and audience."""
    harness.bind(chat_id, *CHATS[chat_id])


def bind_all(harness: Harness) -> None:
    for chat_id in CHATS:
        bind(harness, chat_id)


def group(chat_id: int) -> dict[str, Any]:
    return u.make_group_chat(chat_id, CHATS[chat_id][2])


def anonymous_admin_update(text: str, chat_id: int, **kw: Any) -> dict[str, Any]:
    """``text`` posted by an anonymous admin of ``chat_id``."""
    chat = group(chat_id)
    sender = u.make_user(GROUP_ANONYMOUS_BOT, "Group", username="GroupAnonymousBot", is_bot=True)
    if text.startswith("/"):
        command, _, rest = text.partition(" ")
        update = u.make_command_update(command, *rest.split(), user=sender, chat=chat, **kw)
    else:
        update = u.make_message_update(text, user=sender, chat=chat, **kw)
    update["message"]["sender_chat"] = dict(chat)
    return update


async def send_as(
    harness: Harness, text: str, *, user_id: int, chat_id: int | None = None
) -> list[SentCall]:
    """``text`` from ``user_id`` (the anonymous admin if it is GROUP_ANONYMOUS_BOT)."""
    if user_id == GROUP_ANONYMOUS_BOT:
        assert chat_id is not None, "an anonymous admin only exists in a group"
        return await harness.process(
            anonymous_admin_update(text, chat_id, date=harness.clock.now())
        )
    chat = group(chat_id) if chat_id is not None else None
    return await harness.send(text, user_id=user_id, chat=chat)


async def send_file(
    harness: Harness, user_id: int, name: str, data: bytes, *, mime: str = "text/csv"
) -> list[SentCall]:
    """``user_id`` sends the bot a file in private."""
    file_id = f"file-{len(harness.api.calls)}-{name}"
    harness.api.add_file(file_id, data)
    document = u.make_document(file_id=file_id, file_name=name, mime_type=mime,
                               file_size=len(data))  # fmt: skip
    update = u.make_message_update(
        None, user=harness.user(user_id), chat=harness.private(user_id), document=document
    )
    return await harness.process(update)


def _fragment(text: str) -> str:
    """A fixed piece of a catalogue sentence: the longest run without a placeholder."""
    return max(re.split(r"\{[^}]*\}", text), key=len).strip()[:12]


# Every sentence the bot refuses with; a reply containing one of them is a refusal.
REFUSAL_IDS = (
    "error.permission.denied",
    "error.unit.not_managed",
    "error.issue.not_on_roster",
    "error.activity.not_member",
    "error.activity.not_allowed",
    "error.activity.not_allowed_here",
    "error.activity.not_yours",
    "error.invite.not_your_unit",
    "issue.list.not_here",
    "checkin.no_building",
    "common.stale_button",
)


def refusal_fragments() -> list[str]:
    fragments = []
    for locale in ("zh", "en"):
        sentences = catalogue(locale)
        fragments += [_fragment(sentences[key]) for key in REFUSAL_IDS]
        fragments.append(sentences["start.stranger"].splitlines()[-1][:12])  # 您还没有加入。
    return [f for f in fragments if f]


def refused(calls: list[SentCall]) -> bool:
    said = texts(calls)
    return any(fragment in said for fragment in refusal_fragments())


def readable_texts(calls: list[SentCall], chat_id: int) -> list[str]:
    return [c.readable for c in calls if str(c.chat_id) == str(chat_id) and c.readable]


def button_data(markup: Mapping[str, Any] | None) -> list[str]:
    return [
        b.get("callback_data", "")
        for row in (markup or {}).get("inline_keyboard", [])
        for b in row
    ]
