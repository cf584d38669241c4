"""Builders for the updates Telegram sends, as JSON dicts and as `telegram.Update` objects.

Used by the tests, `govbot demo` and `govbot chat` to speak to the Application as Telegram would.

The dict form is what the Bot API puts on the wire, so it is what `OfflineBotAPI.feed` takes;
`to_update(d, bot)` (or `Update.de_json(d, bot)`) gives the object form for
`app.process_update`. Update ids increase across the whole test session and message ids per
chat, like Telegram's, so replayed-update tests can tell a replay from a new message.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from telegram import Bot, Update

from bot.offline import DEFAULT_BOT_FIRST_NAME, DEFAULT_BOT_ID, DEFAULT_BOT_USERNAME
from bot.offline import chat_member_dict as _chat_member_dict
from storage.splitting import utf16_len

JSONDict = dict[str, Any]

_update_ids: Iterator[int] = itertools.count(1)
_message_ids: defaultdict[int, Iterator[int]] = defaultdict(lambda: itertools.count(1))
_callback_ids: Iterator[int] = itertools.count(1)

_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
# Telegram ends a hashtag at whitespace or punctuation; CJK characters belong to it.
_HASHTAG = re.compile(r"(?<![\w#])#\w+")


def reset_counters() -> None:
    """Restart update and message numbering (for golden outputs that print ids)."""
    global _update_ids, _callback_ids
    _update_ids = itertools.count(1)
    _callback_ids = itertools.count(1)
    _message_ids.clear()


def next_update_id() -> int:
    return next(_update_ids)


def next_message_id(chat_id: int) -> int:
    return next(_message_ids[chat_id])


# -- Users and chats -------------------------------------------------------------------------


def make_user(
    id: int = 1001,
    first_name: str = "张三",
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "zh-hans",
    is_bot: bool = False,
) -> JSONDict:
    user: JSONDict = {"id": id, "is_bot": is_bot, "first_name": first_name}
    if last_name is not None:
        user["last_name"] = last_name
    if username is not None:
        user["username"] = username
    if language_code is not None:
        user["language_code"] = language_code
    return user


def make_bot_user(
    id: int = DEFAULT_BOT_ID,
    username: str = DEFAULT_BOT_USERNAME,
) -> JSONDict:
    """The bot itself, matching `OfflineBotAPI`'s defaults."""
    return {"id": id, "is_bot": True, "first_name": DEFAULT_BOT_FIRST_NAME, "username": username}


def make_private_chat(user: Mapping[str, Any] | int | None = None) -> JSONDict:
    """The private chat with `user` (a private chat's id is the user's id)."""
    person = make_user(user) if isinstance(user, int) else dict(user or make_user())
    chat: JSONDict = {"id": person["id"], "type": "private", "first_name": person["first_name"]}
    for optional in ("last_name", "username"):
        if optional in person:
            chat[optional] = person[optional]
    return chat


def make_group_chat(
    id: int = -1001,
    title: str = "幸福里社区网格群",
    type: Literal["group", "supergroup"] = "group",
) -> JSONDict:
    if id >= 0:
        raise ValueError("group chat ids are negative")
    return {"id": id, "type": type, "title": title}


def make_document(
    file_id: str = "doc-1",
    file_name: str = "roster.xlsx",
    mime_type: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    file_size: int = 1024,
) -> JSONDict:
    return {
        "file_id": file_id,
        "file_unique_id": f"unique-{file_id}",
        "file_name": file_name,
        "mime_type": mime_type,
        "file_size": file_size,
    }


def make_photo_sizes(
    file_id: str = "photo-1", width: int = 1280, height: int = 960
) -> list[JSONDict]:
    """Telegram sends every photo in several sizes, smallest first."""
    return [
        {
            "file_id": f"{file_id}-small",
            "file_unique_id": f"unique-{file_id}-small",
            "width": 90,
            "height": max(1, 90 * height // width),
            "file_size": 1200,
        },
        {
            "file_id": file_id,
            "file_unique_id": f"unique-{file_id}",
            "width": width,
            "height": height,
            "file_size": 120_000,
        },
    ]


# -- Messages --------------------------------------------------------------------------------


def compute_entities(text: str) -> list[JSONDict]:
    """Entities Telegram would attach: a leading /command and every #hashtag (offsets and
    lengths in UTF-16 code units, as Telegram counts them)."""
    entities: list[JSONDict] = []
    if command := _COMMAND.match(text):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command[0])})
    for tag in _HASHTAG.finditer(text):
        entities.append(
            {
                "type": "hashtag",
                "offset": utf16_len(text[: tag.start()]),
                "length": utf16_len(tag[0]),
            }
        )
    return entities


def make_message(
    text: str | None = None,
    *,
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    message_id: int | None = None,
    date: datetime | None = None,
    reply_to: Mapping[str, Any] | int | None = None,
    photo: str | Sequence[Mapping[str, Any]] | None = None,
    location: tuple[float, float] | None = None,
    document: Mapping[str, Any] | None = None,
) -> JSONDict:
    """A Message dict; with `photo` or `document`, `text` becomes the caption, as in Telegram.

    `reply_to` is a message dict, or a message id meaning "a message the bot sent here".
    """
    sender = dict(user or make_user())
    where = dict(chat or make_private_chat(sender))
    message: JSONDict = {
        "message_id": message_id if message_id is not None else next_message_id(where["id"]),
        "from": sender,
        "chat": where,
        "date": _timestamp(date),
    }
    has_media = photo is not None or document is not None
    if text is not None:
        key = "caption" if has_media else "text"
        message[key] = text
        if entities := compute_entities(text):
            message[f"{key}_entities" if has_media else "entities"] = entities
    if photo is not None:
        message["photo"] = make_photo_sizes(photo) if isinstance(photo, str) else list(photo)
    if document is not None:
        message["document"] = dict(document)
    if location is not None:
        message["location"] = {"latitude": location[0], "longitude": location[1]}
    if reply_to is not None:
        message["reply_to_message"] = (
            make_bot_message(chat=where, message_id=reply_to)
            if isinstance(reply_to, int)
            else dict(reply_to)
        )
    return message


def make_bot_message(
    text: str = "…",
    *,
    chat: Mapping[str, Any],
    message_id: int | None = None,
    reply_markup: Mapping[str, Any] | None = None,
    date: datetime | None = None,
) -> JSONDict:
    """A message the bot sent earlier (what a callback query or a reply points at)."""
    message: JSONDict = {
        "message_id": message_id if message_id is not None else next_message_id(chat["id"]),
        "from": make_bot_user(),
        "chat": dict(chat),
        "date": _timestamp(date),
        "text": text,
    }
    if reply_markup is not None:
        message["reply_markup"] = dict(reply_markup)
    return message


def make_message_update(
    text: str | None = None,
    *,
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    message_id: int | None = None,
    date: datetime | None = None,
    reply_to: Mapping[str, Any] | int | None = None,
    photo: str | Sequence[Mapping[str, Any]] | None = None,
    location: tuple[float, float] | None = None,
    document: Mapping[str, Any] | None = None,
) -> JSONDict:
    message = make_message(
        text,
        user=user,
        chat=chat,
        message_id=message_id,
        date=date,
        reply_to=reply_to,
        photo=photo,
        location=location,
        document=document,
    )
    return {"update_id": next_update_id(), "message": message}


def make_command_update(
    command: str,
    *args: str,
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    mention_bot: bool = False,
    message_id: int | None = None,
    date: datetime | None = None,
) -> JSONDict:
    """`/command arg…`; `mention_bot` writes `/command@govbot_demo_bot` as group menus do."""
    name = command if command.startswith("/") else f"/{command}"
    if mention_bot:
        name = f"{name}@{DEFAULT_BOT_USERNAME}"
    text = " ".join([name, *args])
    return make_message_update(text, user=user, chat=chat, message_id=message_id, date=date)


def make_edited_message_update(
    text: str,
    *,
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    message_id: int,
    date: datetime | None = None,
    edit_date: datetime | None = None,
) -> JSONDict:
    message = make_message(text, user=user, chat=chat, message_id=message_id, date=date)
    message["edit_date"] = _timestamp(edit_date)
    return {"update_id": next_update_id(), "edited_message": message}


def make_callback_update(
    data: str,
    *,
    user: Mapping[str, Any] | None = None,
    chat: Mapping[str, Any] | None = None,
    message_id: int | None = None,
    message_text: str = "…",
    reply_markup: Mapping[str, Any] | None = None,
) -> JSONDict:
    """A button press on a message the bot sent in `chat`."""
    presser = dict(user or make_user())
    where = dict(chat or make_private_chat(presser))
    message = make_bot_message(
        message_text, chat=where, message_id=message_id, reply_markup=reply_markup
    )
    query = {
        "id": str(next(_callback_ids)),
        "from": presser,
        "chat_instance": f"instance{where['id']}",
        "message": message,
        "data": data,
    }
    return {"update_id": next_update_id(), "callback_query": query}


def make_my_chat_member_update(
    *,
    chat: Mapping[str, Any],
    by: Mapping[str, Any] | None = None,
    old_status: str = "member",
    new_status: str = "kicked",
    date: datetime | None = None,
) -> JSONDict:
    """The bot's own membership changed: `new_status` "member"/"administrator" means added,
    "left"/"kicked" means removed."""
    bot_user = make_bot_user()
    change = {
        "chat": dict(chat),
        "from": dict(by or make_user()),
        "date": _timestamp(date),
        "old_chat_member": _chat_member_dict(bot_user, old_status),
        "new_chat_member": _chat_member_dict(bot_user, new_status),
    }
    return {"update_id": next_update_id(), "my_chat_member": change}


def make_bot_added_update(
    chat: Mapping[str, Any], by: Mapping[str, Any] | None = None
) -> JSONDict:
    return make_my_chat_member_update(chat=chat, by=by, old_status="left", new_status="member")


def make_bot_removed_update(
    chat: Mapping[str, Any], by: Mapping[str, Any] | None = None, *, status: str = "kicked"
) -> JSONDict:
    return make_my_chat_member_update(chat=chat, by=by, old_status="member", new_status=status)


def make_migrate_update(
    old_chat_id: int,
    new_chat_id: int,
    *,
    title: str = "幸福里社区网格群",
    user: Mapping[str, Any] | None = None,
    in_new_chat: bool = False,
) -> JSONDict:
    """A group upgraded to a supergroup. Telegram sends two service messages: one in the old
    group carrying `migrate_to_chat_id` (the default here) and one in the new supergroup
    carrying `migrate_from_chat_id` (`in_new_chat=True`)."""
    if in_new_chat:
        chat = make_group_chat(new_chat_id, title, type="supergroup")
        message = make_message(user=user, chat=chat)
        message["migrate_from_chat_id"] = old_chat_id
    else:
        chat = make_group_chat(old_chat_id, title, type="group")
        message = make_message(user=user, chat=chat)
        message["migrate_to_chat_id"] = new_chat_id
    return {"update_id": next_update_id(), "message": message}


def to_update(data: Mapping[str, Any], bot: Bot) -> Update:
    """The object form, bound to `bot` so shortcuts like `message.reply_text` work."""
    return Update.de_json(dict(data), bot)


def _timestamp(moment: datetime | None) -> int:
    return int((moment or datetime.now(UTC)).timestamp())
