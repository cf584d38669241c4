"""Issues (报事) and their append-only event trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.types import UTCDateTime


class Issue(SQLModel, table=True):
    """One reported problem, carried through report → dispatch → handle → feedback → rating.

    ``(source_chat_id, source_message_id)`` is unique so that a Telegram update delivered twice
    never creates a second issue.
    """

    __tablename__ = "issue"
    __table_args__ = (
        UniqueConstraint("source_chat_id", "source_message_id", name="uq_issue_source"),
        Index("ix_issue_compound_category_reported", "compound_id", "category_id", "reported_at"),
        Index("ix_issue_state_due", "state", "resolve_due_at"),
        # one range each for the weekly index's bounded read (storage/records.py: read_issues)
        Index("ix_issue_reported_at", "reported_at"),
        Index("ix_issue_closed_at", "closed_at"),
        Index("ix_issue_resolved_at", "resolved_at"),
        Index("ix_issue_resolve_due_at", "resolve_due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="unit.id")
    building_id: int | None = Field(default=None, foreign_key="unit.id")
    category_id: str
    text: str = Field(sa_column=Column(Text(), nullable=False))
    state: str = Field(default="reported")
    tier: str = "normal"
    party: str | None = None
    reporter_member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    reporter_user_id: int | None = Field(default=None, sa_type=BigInteger)
    reporter_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    source_chat_id: int = Field(sa_type=BigInteger)
    source_message_id: int = Field(sa_type=BigInteger)
    assignee_member_id: int | None = Field(default=None, foreign_key="member.id")
    latitude: float | None = None
    longitude: float | None = None
    reported_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    dispatched_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    respond_due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    resolve_due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reminded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    overdue_alerted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    escalated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    close_reason: str | None = None
    rejected_to: str | None = None
    duplicate_of_id: int | None = Field(default=None, foreign_key="issue.id")
    reopen_count: int = 0
    rating: int | None = None
    reporters_count: int = 1
    card_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    card_message_id: int | None = Field(default=None, sa_type=BigInteger)


class IssueEvent(SQLModel, table=True):
    """Every transition of an issue: who, when, from, to, note. Append-only."""

    __tablename__ = "issue_event"

    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    action: str
    from_state: str | None = None
    to_state: str | None = None
    note: str | None = Field(default=None, sa_column=Column(Text()))


class IssueAttachment(SQLModel, table=True):
    """A photo or location attached to an issue (before: with the report; after: the fix)."""

    __tablename__ = "issue_attachment"
    __table_args__ = (
        UniqueConstraint("source_chat_id", "source_message_id", name="uq_attachment_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    kind: str  # photo_before | photo_after | location
    file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    source_chat_id: int = Field(sa_type=BigInteger)
    source_message_id: int = Field(sa_type=BigInteger)
    added_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class IssueReporter(SQLModel, table=True):
    """Everyone who reported the same problem (the first reporter and those who joined)."""

    __tablename__ = "issue_reporter"
    __table_args__ = (UniqueConstraint("issue_id", "user_id", name="uq_issue_reporter"),)

    id: int | None = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="issue.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    user_id: int | None = Field(default=None, sa_type=BigInteger)  # None after /deleteme
    joined_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
