"""`govbot chat`: talk to the bot in the terminal as a chosen roster member, offline.

Trainers use it to show the bot to community workers without Telegram. Every message the bot
sends while handling what you type is shown, in whichever chat it went (a report in a group
also posts a card to the committee chat), with its buttons numbered: type the number to press
one. Lines starting with ``:`` are the terminal's own commands (``:help``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from bot.app import build_application
from bot.driver import OfflineDriver, buttons
from bot.offline import OfflineBotAPI, SentCall
from bot.settings import Settings
from bot.updates import next_message_id
from storage.clock import SystemClock
from storage.db import Database
from storage.org import unit_path
from storage.splitting import visible_text
from storage.tables import ChatBinding, Member, RoleGrant

Read = Callable[[str], str]
Write = Callable[[str], None]

HELP = """\
Type a message and press Enter to send it (e.g. #报事 3号楼楼道堆物, /help, /issues).
When the bot's last message has buttons, type a number to press one.
  :who       choose another person          :chat      choose another chat
  :people    list everyone on the roster    :quit      leave (Ctrl-D works too)
  \\1         send the text "1" rather than pressing button 1"""


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    roles: str


@dataclass(frozen=True)
class ChatChoice:
    chat_id: int | None  # None: the person's private chat with the bot
    title: str


def roster(session: Session) -> list[Person]:
    """Everyone who can talk to the bot, with their roles, for the chooser."""
    people = []
    members = session.exec(
        select(Member).where(col(Member.telegram_user_id).is_not(None)).order_by(col(Member.id))
    ).all()
    for member in members:
        grants = session.exec(
            select(RoleGrant).where(
                RoleGrant.member_id == member.id,
                RoleGrant.revoked_at == None,  # noqa: E711
            )
        ).all()
        roles = "; ".join(f"{g.role} @ {unit_path(session, g.unit_id)}" for g in grants)
        people.append(Person(member.telegram_user_id or 0, member.name or "—", roles))
    return people


def bound_chats(session: Session) -> list[ChatChoice]:
    rows = session.exec(select(ChatBinding).where(ChatBinding.active)).all()
    return [ChatChoice(b.chat_id, f"{b.title or b.chat_id} ({b.audience})") for b in rows]


class TerminalChat:
    def __init__(
        self, driver: OfflineDriver, database: Database, read: Read, write: Write
    ) -> None:
        self.driver = driver
        self.database = database
        self.read = read
        self.write = write
        self.person: Person | None = None
        self.chat = ChatChoice(None, "private")
        self.last_buttons: list[tuple[str, str]] = []
        self.last_message_id: int | None = None
        self.titles: dict[int, str] = {}

    async def run(self, *, person: str | None, chat: str | None) -> None:
        with self.database.read_session() as session:
            self.people = roster(session)
            self.chats = bound_chats(session)
        self.titles = {c.chat_id: c.title for c in self.chats if c.chat_id is not None}
        if not self.people:
            self.write("The roster is empty: run `govbot demo` or `govbot import roster` first.")
            return
        self.person = self._find_person(person) if person else await self._choose_person()
        if chat:
            self.chat = self._find_chat(chat)
        self.write(HELP)
        self._announce()
        while True:
            try:
                line = (await asyncio.to_thread(self.read, self._prompt())).strip()
            except EOFError:
                self.write("")
                return
            if not line:
                continue
            if line in (":quit", ":q", ":exit"):
                return
            await self._handle(line)

    async def _handle(self, line: str) -> None:
        if line == ":help":
            self.write(HELP)
        elif line == ":who":
            self.person = await self._choose_person()
            self._announce()
        elif line == ":chat":
            self.chat = await self._choose_chat()
            self._announce()
        elif line == ":people":
            self._list_people()
        elif line.isdecimal() and self.last_buttons:
            await self._press(int(line))
        else:
            await self._send(line[1:] if line.startswith("\\") else line)

    async def _send(self, text: str) -> None:
        assert self.person is not None
        group = self._group_dict()
        sent = await self.driver.send(
            text, user_id=self.person.user_id, name=self.person.name, chat=group
        )
        self._show(sent)

    async def _press(self, number: int) -> None:
        assert self.person is not None
        if not 1 <= number <= len(self.last_buttons):
            self.write(f"(there is no button {number})")
            return
        label, data = self.last_buttons[number - 1]
        self.write(f"(pressing [{number}] {label})")
        sent = await self.driver.press(
            data, user_id=self.person.user_id, chat=self._group_dict(),
            message_id=self.last_message_id,
        )  # fmt: skip
        self._show(sent)

    def _group_dict(self) -> dict[str, Any] | None:
        if self.chat.chat_id is None:
            return None
        return self.driver.group(self.chat.chat_id, self.chat.title)

    def _show(self, sent: list[SentCall]) -> None:
        here = self.chat.chat_id if self.chat.chat_id is not None else self._private_id()
        shown = False
        for call in sent:
            text = call.text or call.caption or call.params.get("text")
            if not isinstance(text, str) and call.photo_bytes is None:
                continue
            where = "" if call.chat_id == here else f" → {self._chat_name(call.chat_id)}"
            body = visible_text(text) if isinstance(text, str) else ""
            if call.photo_bytes:
                body = f"[picture, {call.photo_bytes // 1024} KB] " + body
            self.write(f"🤖{where}: {body}")
            shown = True
            options = buttons(call)
            if options and call.chat_id == here:
                self.last_buttons = options
                self.last_message_id = call.message_id
                self.write("   " + "  ".join(f"[{i}] {label}" for i, (label, _) in
                                             enumerate(options, start=1)))  # fmt: skip
        if not shown:
            self.write("(the bot did not answer)")

    def _private_id(self) -> int:
        assert self.person is not None
        return self.person.user_id

    def _chat_name(self, chat_id: int | str | None) -> str:
        if isinstance(chat_id, int) and chat_id in self.titles:
            return self.titles[chat_id]
        person = next((p for p in self.people if p.user_id == chat_id), None)
        return f"{person.name} (private)" if person else str(chat_id)

    def _prompt(self) -> str:
        assert self.person is not None
        return f"{self.person.name} @ {self.chat.title}> "

    def _announce(self) -> None:
        assert self.person is not None
        self.last_buttons = []
        self.write(f"You are {self.person.name} ({self.person.roles or 'no role'}), "
                   f"writing in {self.chat.title}.")  # fmt: skip

    def _list_people(self) -> None:
        for i, p in enumerate(self.people, start=1):
            self.write(f"  {i:3}. {p.name}  {p.roles}")

    async def _choose_person(self) -> Person:
        self._list_people()
        while True:
            answer = await asyncio.to_thread(self.read, "Who are you? (number or name) ")
            try:
                return self._find_person(answer.strip())
            except LookupError as exc:
                self.write(str(exc))

    async def _choose_chat(self) -> ChatChoice:
        options = [ChatChoice(None, "private"), *self.chats]
        for i, c in enumerate(options, start=1):
            self.write(f"  {i:3}. {c.title}")
        while True:
            answer = await asyncio.to_thread(self.read, "Which chat? (number) ")
            try:
                return self._find_chat(answer.strip())
            except LookupError as exc:
                self.write(str(exc))

    def _find_person(self, key: str) -> Person:
        if key.isdecimal() and 1 <= int(key) <= len(self.people):
            return self.people[int(key) - 1]
        for person in self.people:
            if key in (person.name, str(person.user_id)):
                return person
        raise LookupError(f"nobody called {key!r} on the roster")

    def _find_chat(self, key: str) -> ChatChoice:
        options = [ChatChoice(None, "private"), *self.chats]
        if key.isdecimal() and 1 <= int(key) <= len(options):
            return options[int(key) - 1]
        for choice in options:
            if key == choice.title or key == str(choice.chat_id) or choice.title.startswith(key):
                return choice
        raise LookupError(f"no chat {key!r}")


async def run_chat(settings: Settings, *, person: str | None, chat: str | None, read: Read,
                   write: Write) -> None:  # fmt: skip
    """Talk to the bot on ``settings.database_url`` until the person types :quit."""
    database = Database(settings.database_url)
    clock = SystemClock()
    api = OfflineBotAPI(clock=clock, message_ids=next_message_id)
    app = build_application(settings, api, clock=clock, database=database)
    async with app:
        driver = OfflineDriver(app=app, api=api, clock=clock)
        await TerminalChat(driver, database, read, write).run(person=person, chat=chat)
    await asyncio.to_thread(database.write_later)  # the last replies' ids (Database.later)
