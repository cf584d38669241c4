"""The persistent outbox: every message the bot sends on its own initiative goes through here.

One row per (chat, kind, period) — a weekly digest is ``(chat, "digest", "2026-W47")`` — so
enqueuing twice sends once. A row holds an ordered list of parts (texts and photos) as JSON and
moves through these states::

    pending ──claim_due_rows──▶ sending ──mark_part_sent (last part)──▶ sent
       ▲                          │ ├──mark_failed──────▶ failed     (never retried)
       │                          │ └──mark_ambiguous───▶ ambiguous  (never resent automatically)
       └──defer / recover_interrupted / resolve_ambiguous

``parts_sent`` counts the parts Telegram confirmed, committed right after each confirmation: a
resumed row starts at the first unconfirmed part and never repeats a confirmed one. The one
window left is a crash between Telegram accepting a part and our commit (milliseconds): that
part is sent again after the restart. ``attempts`` counts Bot API calls made for the row, and
``last_error`` says what the latest unsuccessful one answered.

Photos are stored by *path*: whoever renders a chart writes the PNG under a media folder (e.g.
``<data dir>/media/2026-W47/``) and enqueues its path; the sender reads the file when it sends.
This keeps megabytes of images out of the database; a file missing at send time fails the row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, bindparam, case, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from storage.splitting import MAX_CAPTION, MAX_TEXT, split_text, utf16_len, visible_text
from storage.tables import OutboxMessage, UTCDateTime

__all__ = [
    "OutboxPart",
    "OutboxState",
    "PartKind",
    "QueuedMessage",
    "ambiguous_messages",
    "ClaimedRow",
    "claim_due_rows",
    "decode_parts",
    "defer",
    "encode_parts",
    "enqueue",
    "enqueue_many",
    "fail_chat",
    "mark_ambiguous",
    "mark_failed",
    "mark_part_sent",
    "mark_parts_sent",
    "next_due",
    "normalise_parts",
    "part_count",
    "photo_part",
    "recover_interrupted",
    "resolve_ambiguous",
    "retarget_chat",
    "split_text",
    "text_part",
    "visible_text",
]

_ERROR_LENGTH = 500
PAYLOAD_VERSION = 1


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    AMBIGUOUS = "ambiguous"


UNFINISHED = (OutboxState.PENDING, OutboxState.SENDING)


class PartKind(StrEnum):
    TEXT = "text"
    PHOTO = "photo"


@dataclass(frozen=True, slots=True)
class OutboxPart:
    """One message of a row: a text, or a photo (a file path) with an optional caption.

    ``text`` is Telegram HTML (the message text, or the photo's caption); ``reply_markup`` is
    the Bot API JSON of an inline keyboard.
    """

    kind: PartKind
    text: str = ""
    photo: str | None = None
    reply_markup: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": str(self.kind), "text": self.text}
        if self.photo is not None:
            data["photo"] = self.photo
        if self.reply_markup is not None:
            data["reply_markup"] = dict(self.reply_markup)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OutboxPart:
        return cls(
            kind=PartKind(data["kind"]),
            text=str(data.get("text") or ""),
            photo=data.get("photo"),
            reply_markup=data.get("reply_markup"),
        )


def text_part(text: str, *, reply_markup: Mapping[str, Any] | None = None) -> OutboxPart:
    return OutboxPart(PartKind.TEXT, text, reply_markup=reply_markup)


def photo_part(
    path: str, *, caption: str = "", reply_markup: Mapping[str, Any] | None = None
) -> OutboxPart:
    return OutboxPart(PartKind.PHOTO, caption, photo=str(path), reply_markup=reply_markup)


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """What ``enqueue_many`` takes: one row to create unless it already exists."""

    chat_id: int
    kind: str
    period: str
    parts: Sequence[OutboxPart] = field(default_factory=tuple)


# -- Parts -----------------------------------------------------------------------------------


def normalise_parts(parts: Iterable[OutboxPart]) -> list[OutboxPart]:
    """Make every part fit Telegram's limits.

    A long text becomes several text parts; a caption over 1024 moves into text parts right
    after its photo. An inline keyboard stays on the last piece its part became.
    """
    result: list[OutboxPart] = []
    for part in parts:
        if part.kind is PartKind.PHOTO:
            if not part.photo:
                raise ValueError("a photo part needs a file path")
            if utf16_len(part.text) <= MAX_CAPTION:
                result.append(part)
                continue
            result.append(OutboxPart(PartKind.PHOTO, "", photo=part.photo))
        pieces = split_text(part.text, MAX_TEXT)
        if not pieces:
            raise ValueError("a text part must show something")
        result.extend(OutboxPart(PartKind.TEXT, piece) for piece in pieces[:-1])
        result.append(OutboxPart(PartKind.TEXT, pieces[-1], reply_markup=part.reply_markup))
    if not result:
        raise ValueError("a message needs at least one part")
    return result


def encode_parts(parts: Sequence[OutboxPart]) -> str:
    payload = {"v": PAYLOAD_VERSION, "parts": [part.to_json() for part in parts]}
    return json.dumps(payload, ensure_ascii=False)


def decode_parts(payload: str) -> list[OutboxPart]:
    data = json.loads(payload)
    return [OutboxPart.from_json(part) for part in data["parts"]]


def part_count(row: OutboxMessage) -> int:
    return len(json.loads(row.payload)["parts"])


# -- Enqueue ---------------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    chat_id: int,
    kind: str,
    period: str,
    parts: Sequence[OutboxPart],
    now: datetime,
) -> OutboxMessage:
    """Queue a message for ``chat_id``, due now; an existing (chat, kind, period) is returned
    untouched, so a re-run of the same period sends nothing twice."""
    enqueue_many(session, messages=[QueuedMessage(chat_id, kind, period, parts)], now=now)
    row = _existing(session, chat_id, kind, period)
    assert row is not None  # just committed, or there before
    return row


def enqueue_many(session: Session, *, messages: Sequence[QueuedMessage], now: datetime) -> int:
    """``enqueue`` for many chats in one transaction (a weekly fan-out is thousands of rows);
    returns how many rows were new."""
    prepared = {
        (m.chat_id, m.kind, m.period): encode_parts(normalise_parts(m.parts)) for m in messages
    }
    existing = _existing_keys(session, list(prepared))
    rows = [
        {
            "chat_id": chat_id,
            "kind": kind,
            "period": period,
            "payload": payload,
            "state": str(OutboxState.PENDING),
            "attempts": 0,
            "parts_sent": 0,
            "not_before": now,
            "created_at": now,
        }
        for (chat_id, kind, period), payload in prepared.items()
        if (chat_id, kind, period) not in existing
    ]
    if rows:
        try:
            session.execute(insert(OutboxMessage), rows)
            session.commit()
        except IntegrityError:
            # Only a database without SQLite's write lock lets a concurrent enqueue in between.
            session.rollback()
            return enqueue_many(session, messages=messages, now=now)
    else:
        session.commit()
    return len(rows)


def _existing_keys(
    session: Session, keys: list[tuple[int, str, str]]
) -> set[tuple[int, str, str]]:
    found: set[tuple[int, str, str]] = set()
    chats = sorted({chat_id for chat_id, _, _ in keys})
    for start in range(0, len(chats), 500):
        query = select(OutboxMessage.chat_id, OutboxMessage.kind, OutboxMessage.period).where(
            col(OutboxMessage.chat_id).in_(chats[start : start + 500])
        )
        found.update((chat_id, kind, period) for chat_id, kind, period in session.exec(query))
    return found & set(keys)


def _existing(session: Session, chat_id: int, kind: str, period: str) -> OutboxMessage | None:
    query = select(OutboxMessage).where(
        OutboxMessage.chat_id == chat_id,
        OutboxMessage.kind == kind,
        OutboxMessage.period == period,
    )
    return session.exec(query).first()


# -- Claiming --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """What the sender needs of a claimed row (``claim_due_rows``), without an ORM object."""

    id: int
    chat_id: int
    payload: str
    parts_sent: int
    attempts: int


def claim_due_rows(session: Session, *, now: datetime, limit: int) -> list[ClaimedRow]:
    """Take up to ``limit`` pending rows due by ``now`` and mark them ``sending``.

    The session's ``BEGIN IMMEDIATE`` holds the write lock from the select to the commit, so
    two senders never take the same row (``FOR UPDATE SKIP LOCKED`` does the same on
    PostgreSQL; SQLite ignores it). Read and marked with two Core statements, not an ORM unit
    of work per row: a claim is hundreds of rows.
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    query = (
        core_select(
            table.c.id, table.c.chat_id, table.c.payload, table.c.parts_sent, table.c.attempts
        )
        .where(table.c.state == str(OutboxState.PENDING), table.c.not_before <= now)
        .order_by(table.c.not_before, table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    connection = session.connection()
    rows = [ClaimedRow(*row) for row in connection.execute(query)]
    for start in range(0, len(rows), 500):
        ids = [row.id for row in rows[start : start + 500]]
        connection.execute(
            update(table).where(table.c.id.in_(ids)).values(state=str(OutboxState.SENDING))
        )
    session.commit()
    return rows


def next_due(session: Session) -> datetime | None:
    """When the earliest pending row becomes due (``None`` if nothing is pending)."""
    query = (
        select(OutboxMessage.not_before)
        .where(OutboxMessage.state == OutboxState.PENDING)
        .order_by(col(OutboxMessage.not_before))
        .limit(1)
    )
    return session.exec(query).first()


def recover_interrupted(session: Session, *, now: datetime) -> int:
    """Rows a killed process left in ``sending`` go back to ``pending`` from their first
    unconfirmed part. Call it at start-up, before this process's sender runs: govbot runs one
    sender per database, so any ``sending`` row then belongs to a dead process."""
    rows = session.exec(
        select(OutboxMessage).where(OutboxMessage.state == OutboxState.SENDING)
    ).all()
    for row in rows:
        row.state = OutboxState.PENDING
        row.not_before = now
        row.last_error = _clip(f"interrupted; resumes at part {row.parts_sent + 1}")
        session.add(row)
    session.commit()
    return len(rows)


# -- Outcomes --------------------------------------------------------------------------------


def mark_part_sent(
    session: Session, *, message_id: int, part: int, now: datetime
) -> OutboxMessage:
    """Telegram confirmed part ``part`` (0-based); the row is ``sent`` after its last part.

    Confirming a part that is already counted changes nothing.
    """
    total = part_count(_row(session, message_id))
    mark_parts_sent(session, confirmed=[(message_id, part, total)], now=now)
    return _row(session, message_id)


def mark_parts_sent(
    session: Session, *, confirmed: Sequence[tuple[int, int, int]], now: datetime
) -> None:
    """Record several confirmations ``(message_id, part, parts_in_row)`` in one transaction.

    The sender groups the confirmations that arrive while a commit is under way (a group
    commit): a fan-out then costs far fewer transactions than parts, and no part counts as
    sent before its commit. One plain UPDATE per part, guarded by ``parts_sent = part``.
    """
    if not confirmed:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.paramstyle == "qmark":
        # The sender's hottest statement: sent as prepared SQL, with no statement to build,
        # compile or look up in the cache per transaction.
        sent_at = UTCDateTime().bind_processor(dialect)
        stamp = sent_at(now) if sent_at else now
        connection.exec_driver_sql(
            _MARK_PART_SQL,
            [
                (part + 1 >= total, part + 1 >= total, stamp, message_id, part)
                for message_id, part, total in confirmed
            ],
        )
    else:
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        done = bindparam("b_done", type_=Boolean())
        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.parts_sent == bindparam("b_part"))
            .values(
                parts_sent=table.c.parts_sent + 1,
                attempts=table.c.attempts + 1,
                state=case((done, str(OutboxState.SENT)), else_=table.c.state),
                sent_at=case(
                    (done, bindparam("b_now", type_=UTCDateTime())), else_=table.c.sent_at
                ),
            )
        )
        params = [
            {"b_id": message_id, "b_part": part, "b_done": part + 1 >= total, "b_now": now}
            for message_id, part, total in confirmed
        ]
        connection.execute(statement, params)
    session.commit()
    session.expire_all()


_MARK_PART_SQL = (
    "UPDATE outbox_message SET parts_sent = parts_sent + 1, attempts = attempts + 1, "
    f"state = CASE WHEN ? THEN '{OutboxState.SENT}' ELSE state END, "
    "sent_at = CASE WHEN ? THEN ? ELSE sent_at END "
    "WHERE id = ? AND parts_sent = ?"
)


def defer(session: Session, *, message_id: int, until: datetime, error: str) -> OutboxMessage:
    """A retryable failure (429, 5xx, network): back to ``pending``, due at ``until``."""
    row = _row(session, message_id)
    row.state = OutboxState.PENDING
    row.not_before = until
    row.attempts += 1
    row.last_error = _clip(error)
    session.add(row)
    session.commit()
    return row


def mark_failed(
    session: Session, *, message_id: int, error: str, attempted: bool = True
) -> OutboxMessage:
    """A permanent failure (``BadRequest``, ``Forbidden``, missing photo): never retried.

    ``attempted=False`` when the row failed without a Bot API call (e.g. its photo is gone).
    """
    row = _row(session, message_id)
    row.state = OutboxState.FAILED
    row.attempts += int(attempted)
    row.last_error = _clip(error)
    session.add(row)
    session.commit()
    return row


def mark_ambiguous(session: Session, *, message_id: int, error: str) -> OutboxMessage:
    """The request for part ``parts_sent`` may or may not have reached Telegram.

    The row stops there and is never resent automatically (a resend could duplicate the
    message); ``ambiguous_messages`` reports it and ``resolve_ambiguous`` settles it.
    """
    row = _row(session, message_id)
    row.state = OutboxState.AMBIGUOUS
    row.attempts += 1
    row.last_error = _clip(f"part {row.parts_sent + 1} may not have arrived: {error}")
    session.add(row)
    session.commit()
    return row


def sent_count(session: Session, *, kind: str) -> int:
    """How many messages of ``kind`` were delivered."""
    return session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.kind == kind, OutboxMessage.state == OutboxState.SENT)
    ).one()


def ambiguous_messages(session: Session) -> list[OutboxMessage]:
    """Rows waiting for someone to say whether their part in doubt arrived."""
    query = select(OutboxMessage).where(OutboxMessage.state == OutboxState.AMBIGUOUS)
    return list(session.exec(query.order_by(col(OutboxMessage.id))).all())


def resolve_ambiguous(
    session: Session, *, message_id: int, delivered: bool, now: datetime
) -> OutboxMessage:
    """Settle an ambiguous row: ``delivered`` counts the part in doubt as sent and queues the
    rest; otherwise the part in doubt is sent again."""
    row = _row(session, message_id)
    if row.state != OutboxState.AMBIGUOUS:
        return row
    if delivered:
        row.parts_sent += 1
    if row.parts_sent >= part_count(row):
        _finish_sent(row, now)
    else:
        row.state = OutboxState.PENDING
        row.not_before = now
    session.add(row)
    session.commit()
    return row


def fail_chat(session: Session, *, chat_id: int, error: str) -> int:
    """Fail every unfinished row for a chat we may no longer write to (``Forbidden``)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.chat_id) == chat_id,
            col(OutboxMessage.state).in_([str(state) for state in UNFINISHED]),
        )
        .values(state=OutboxState.FAILED, last_error=_clip(error))
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def retarget_chat(session: Session, *, old_chat_id: int, new_chat_id: int) -> list[int]:
    """A group became a supergroup: unfinished rows follow it to ``new_chat_id``.

    States are kept (a row being sent stays with its sender). A row whose (kind, period) the
    new chat already has is failed as superseded rather than sent twice. Returns the ids of
    the rows moved.
    """
    rows = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.chat_id == old_chat_id,
            col(OutboxMessage.state).in_([str(state) for state in UNFINISHED]),
        )
    ).all()
    moved = []
    for row in rows:
        if _existing(session, new_chat_id, row.kind, row.period) is not None:
            row.state = OutboxState.FAILED
            row.last_error = _clip(f"chat migrated to {new_chat_id}, which already has it")
        else:
            row.chat_id = new_chat_id
            row.last_error = _clip(f"chat migrated from {old_chat_id}")
            moved.append(row.id or 0)
        session.add(row)
        session.flush()
    session.commit()
    return moved


def _finish_sent(row: OutboxMessage, now: datetime) -> None:
    row.state = OutboxState.SENT
    row.sent_at = now


def _row(session: Session, message_id: int) -> OutboxMessage:
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise LookupError(f"no outbox message {message_id}")
    return row


def _clip(text: str) -> str:
    return text if len(text) <= _ERROR_LENGTH else text[: _ERROR_LENGTH - 1] + "…"
