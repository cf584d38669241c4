"""People, their scoped roles, invites, chat bindings and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.types import UTCDateTime


class Member(SQLModel, table=True):
    """A person known to the bot. Name and phone are personal data, wiped by /deleteme."""

    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int | None = Field(default=None, unique=True, index=True, sa_type=BigInteger)
    name: str | None = None
    phone: str | None = None
    language: str = "zh"
    show_name_publicly: bool = False
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class RoleGrant(SQLModel, table=True):
    """A role held in one unit (and, by inheritance, everything below it)."""

    __tablename__ = "role_grant"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    role: str
    unit_id: int = Field(foreign_key="unit.id", index=True)
    granted_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    granted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Invite(SQLModel, table=True):
    """A one-time (or few-times) code that makes whoever opens it a role holder in a unit."""

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    role: str
    unit_id: int = Field(foreign_key="unit.id")
    created_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    max_uses: int = 1
    uses: int = 0


class InviteUse(SQLModel, table=True):
    __tablename__ = "invite_use"
    __table_args__ = (UniqueConstraint("invite_id", "member_id", name="uq_invite_use_member"),)

    id: int | None = Field(default=None, primary_key=True)
    invite_id: int = Field(foreign_key="invite.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    used_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class BindCode(SQLModel, table=True):
    """A one-time code that binds the group chat it is sent in to a unit and audience."""

    __tablename__ = "bind_code"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True)
    unit_id: int = Field(foreign_key="unit.id")
    audience: str
    created_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class ChatBinding(SQLModel, table=True):
    """A group chat bound to one unit and one audience. One row per chat id."""

    __tablename__ = "chat_binding"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(unique=True, index=True, sa_type=BigInteger)
    title: str | None = None
    unit_id: int = Field(foreign_key="unit.id", index=True)
    audience: str
    active: bool = True
    bound_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    bound_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    inactive_reason: str | None = None


class AuditEvent(SQLModel, table=True):
    """Append-only: who changed what. Never updated, never deleted."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    action: str = Field(index=True)
    entity: str
    entity_id: int | None = None
    detail: str = Field(default="{}", sa_column=Column(Text(), nullable=False))
