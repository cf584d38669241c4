"""Activities logged by message (志愿, 会议, 走访, …) and the weekly check-in (零报告)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.types import UTCDateTime


class Activity(SQLModel, table=True):
    """One logged activity. Unconfirmed ones are kept (nothing a user sends is lost) but only
    confirmed ones count in the index. ``(source_chat_id, source_message_id)`` is unique so an
    edited or replayed message updates the same row."""

    __tablename__ = "activity"
    __table_args__ = (
        UniqueConstraint("source_chat_id", "source_message_id", name="uq_activity_source"),
        Index("ix_activity_compound_date", "compound_id", "occurred_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int | None = Field(default=None, foreign_key="unit.id")
    building_id: int | None = Field(default=None, foreign_key="unit.id")
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    activity_type: str | None = None
    meeting_type: str | None = None
    occurred_on: date
    participants: int | None = None
    party_members: int | None = None
    hours: float | None = None
    person_hours: float | None = None
    households: int | None = None
    topic: str | None = None
    decision: str | None = None
    raw_text: str = Field(sa_column=Column(Text(), nullable=False))
    unparsed: str = Field(default="[]", sa_column=Column(Text(), nullable=False))
    status: str = "unconfirmed"  # unconfirmed | confirmed | discarded
    source_chat_id: int = Field(sa_type=BigInteger)
    source_message_id: int = Field(sa_type=BigInteger)
    # The bot's "what I understood" reply, so an edited message edits it instead of sending
    # a second one, and a replayed update is not answered twice.
    reply_message_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ActivityPerson(SQLModel, table=True):
    """A named volunteer or party member who took part in an activity."""

    __tablename__ = "activity_person"
    __table_args__ = (UniqueConstraint("activity_id", "member_id", name="uq_activity_person"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    member_id: int = Field(foreign_key="member.id")


class Checkin(SQLModel, table=True):
    """A building's weekly 零报告: ``ok`` (无异常) or ``issue`` (有情况), one per week."""

    __tablename__ = "checkin"
    __table_args__ = (UniqueConstraint("building_id", "week", name="uq_checkin_week"),)

    id: int | None = Field(default=None, primary_key=True)
    building_id: int = Field(foreign_key="unit.id", index=True)
    week: str  # ISO week, e.g. 2026-W47
    status: str
    member_id: int | None = Field(default=None, foreign_key="member.id")
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
