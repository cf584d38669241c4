"""Members and their roles: joining, language, revoking, and /deleteme."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from storage.audit import record_audit
from storage.db import first, new_row, row_reader
from storage.errors import DomainError
from storage.tables import (
    Activity,
    ActivityPerson,
    Issue,
    IssueAttachment,
    IssueReporter,
    Member,
    ProcessedMessage,
    Role,
    RoleGrant,
)

LANGUAGES = ("zh", "en")


def member_by_user(session: Session, user_id: int) -> Member | None:
    return session.exec(select(Member).where(Member.telegram_user_id == user_id)).first()


_MEMBER_COLUMNS = tuple(Member.__table__.columns)  # type: ignore[attr-defined]
_MEMBER_BY_USER = (
    f"SELECT {', '.join(c.name for c in _MEMBER_COLUMNS)} FROM member"
    " WHERE telegram_user_id = :user"
)


def member_snapshot(session: Session, *, user_id: int) -> Member | None:
    """``member_by_user`` for a caller that only reads the row after the session ends (the
    sender of every update): the same detached ``Member``, read with a plain statement
    (``storage.db.first``), a small part of the ORM query's CPU."""
    row = first(session, _MEMBER_BY_USER, {"user": user_id})
    if row is None:
        return None
    read = row_reader(_MEMBER_COLUMNS, session.get_bind().dialect)
    member = new_row(Member, **read(row))
    make_transient_to_detached(member)
    return member


def ensure_member(
    session: Session, *, user_id: int, name: str | None, language: str, now: datetime
) -> Member:
    """The member for a Telegram user, created on first contact (flushed, not committed)."""
    member = member_by_user(session, user_id)
    if member is None:
        member = Member(
            telegram_user_id=user_id,
            name=name,
            language=language if language in LANGUAGES else "zh",
            created_at=now,
        )
        session.add(member)
        session.flush()
    return member


def grant_role(
    session: Session,
    *,
    member_id: int,
    role: Role,
    unit_id: int,
    granted_by: int | None,
    now: datetime,
) -> RoleGrant:
    """Give a role in a unit; holding it already is not an error (the existing grant returns)."""
    existing = session.exec(
        select(RoleGrant).where(
            RoleGrant.member_id == member_id,
            RoleGrant.role == role,
            RoleGrant.unit_id == unit_id,
            RoleGrant.revoked_at == None,  # noqa: E711
        )
    ).first()
    if existing is not None:
        return existing
    grant = RoleGrant(
        member_id=member_id,
        role=role,
        unit_id=unit_id,
        granted_by_member_id=granted_by,
        granted_at=now,
    )
    session.add(grant)
    session.flush()
    record_audit(
        session,
        at=now,
        actor_member_id=granted_by,
        action="role.grant",
        entity="role_grant",
        entity_id=grant.id,
        detail={"member": member_id, "role": role.value, "unit": unit_id},
    )
    return grant


def revoke_role(session: Session, *, grant_id: int, revoked_by: int | None, now: datetime) -> None:
    grant = session.get(RoleGrant, grant_id)
    if grant is None or grant.revoked_at is not None:
        raise DomainError("role.unknown")
    grant.revoked_at = now
    record_audit(
        session,
        at=now,
        actor_member_id=revoked_by,
        action="role.revoke",
        entity="role_grant",
        entity_id=grant_id,
    )
    session.commit()


def set_language(session: Session, *, user_id: int, language: str, now: datetime) -> Member:
    if language not in LANGUAGES:
        raise DomainError("language.unknown", language=language)
    member = ensure_member(session, user_id=user_id, name=None, language=language, now=now)
    member.language = language
    session.commit()
    return member


def delete_personal_data(session: Session, *, user_id: int, now: datetime) -> bool:
    """Wipe a person's name, phone and Telegram link and end their roles (/deleteme).

    Issues, activities and ratings stay, attached to an anonymous member row, so the counts
    that feed the index do not change. Returns False when the bot knows nothing of the user.
    """
    member = member_by_user(session, user_id)
    if member is None:
        return False
    member_id = member.id
    member.name = None
    member.phone = None
    member.telegram_user_id = None
    member.deleted_at = now
    for grant in session.exec(select(RoleGrant).where(RoleGrant.member_id == member_id)):
        if grant.revoked_at is None:
            grant.revoked_at = now
    session.execute(
        update(Issue)
        .where(Issue.reporter_user_id == user_id)  # type: ignore[arg-type]
        .values(reporter_user_id=None, reporter_chat_id=None)
    )
    session.execute(
        update(IssueReporter)
        .where(IssueReporter.user_id == user_id)  # type: ignore[arg-type]
        .values(user_id=None)
    )
    # A private chat's id is the person's Telegram id: records that came from it keep their
    # uniqueness under an id that no Telegram chat has (negative, beyond every supergroup id).
    anonymous_chat = -(10**15 + (member_id or 0))
    for table in (Issue, IssueAttachment, Activity):
        session.execute(
            update(table)
            .where(col(table.source_chat_id) == user_id)
            .values(source_chat_id=anonymous_chat)
        )
    session.execute(delete(ProcessedMessage).where(col(ProcessedMessage.chat_id) == user_id))
    # Named participation is personal; the activity's counts stay as they are.
    for person in session.exec(
        select(ActivityPerson).where(ActivityPerson.member_id == member_id)
    ):
        session.delete(person)
    record_audit(
        session,
        at=now,
        actor_member_id=member_id,
        action="member.deleteme",
        entity="member",
        entity_id=member_id,
    )
    session.commit()
    return True
