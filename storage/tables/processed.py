"""Messages the bot acted on, so a replayed update is recognised (DESIGN §6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from storage.tables.types import UTCDateTime


class ProcessedMessage(SQLModel, table=True):
    """One message, by its source ``(chat_id, message_id)`` and what it was (``kind``:
    ``checkin``, ``import``), acted on once and answered once.

    For records that carry no source of their own: issues and activities have a unique
    ``(source_chat_id, source_message_id)``; a check-in is one row per building and week
    (the latest answer wins) and an import creates many rows or none. ``answered_at`` is set
    once the reply went out, so a replay after a crash between the commit and the reply is
    still answered.
    """

    __tablename__ = "processed_message"

    chat_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    message_id: int = Field(sa_column=Column(BigInteger(), primary_key=True, autoincrement=False))
    kind: str = Field(primary_key=True)
    processed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
