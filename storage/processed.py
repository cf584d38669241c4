"""Which messages were acted on and answered, so a replayed update is recognised (DESIGN §6).

Long polling replays updates after a crash before their offset was confirmed, and webhooks
retry. Issues and activities carry their source ``(chat_id, message_id)`` under a unique
constraint; a check-in or an import has no row of its own to carry it, so it is noted here.

The note is written in the same transaction as what the message changed (``note_message``),
and ``answered_at`` after the reply went out (``mark_answered``): a replay of an answered
message is ignored, and a replay after a crash between the commit and the reply is answered
without acting again.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.tables import ProcessedMessage

CHECKIN, IMPORT = "checkin", "import"


def processed_message(
    session: Session, *, chat_id: int, message_id: int, kind: str
) -> ProcessedMessage | None:
    """The note of this message, if it was acted on."""
    return session.get(ProcessedMessage, (chat_id, message_id, kind))


def was_answered(session: Session, *, chat_id: int, message_id: int, kind: str) -> bool:
    note = processed_message(session, chat_id=chat_id, message_id=message_id, kind=kind)
    return note is not None and note.answered_at is not None


def note_message(
    session: Session, *, chat_id: int, message_id: int, kind: str, now: datetime
) -> ProcessedMessage:
    """Note the message as acted on (flushed, NOT committed: it joins the caller's commit)."""
    note = ProcessedMessage(chat_id=chat_id, message_id=message_id, kind=kind, processed_at=now)
    session.add(note)
    session.flush()
    return note


def mark_answered(
    session: Session, *, chat_id: int, message_id: int, kind: str, now: datetime
) -> None:
    """Record that the message's reply went out (noting the message if it was not); commit."""
    note = processed_message(session, chat_id=chat_id, message_id=message_id, kind=kind)
    if note is None:
        note = note_message(session, chat_id=chat_id, message_id=message_id, kind=kind, now=now)
    note.answered_at = now
    session.add(note)
    session.commit()
