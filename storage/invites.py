"""Invite links: a code that makes whoever opens it a role holder in a unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from storage.audit import record_audit
from storage.codes import invite_code
from storage.errors import DomainError
from storage.org import get_unit
from storage.permissions import Action, may_invite, resolve_managed_unit
from storage.roster import ensure_member, grant_role
from storage.tables import Invite, InviteUse, Member, Role, RoleGrant

DEFAULT_INVITE_TTL = timedelta(days=7)


def create_invite(
    session: Session,
    *,
    role: Role,
    unit_id: int,
    created_by: int | None,
    now: datetime,
    ttl: timedelta = DEFAULT_INVITE_TTL,
    max_uses: int = 1,
) -> Invite:
    """Create and commit an invite. ``created_by=None`` is the command line's bootstrap path."""
    unit = get_unit(session, unit_id)
    if max_uses < 1:
        raise DomainError("invite.bad_max_uses")
    if created_by is not None and not may_invite(
        session, member_id=created_by, role=role, unit_id=unit_id
    ):
        raise DomainError("invite.not_your_unit", role=role.value, unit=unit.name)
    invite = Invite(
        code=invite_code(),
        role=role,
        unit_id=unit_id,
        created_by_member_id=created_by,
        created_at=now,
        expires_at=now + ttl,
        max_uses=max_uses,
    )
    session.add(invite)
    session.flush()
    record_audit(
        session,
        at=now,
        actor_member_id=created_by,
        action="invite.create",
        entity="invite",
        entity_id=invite.id,
        detail={"role": role.value, "unit": unit_id, "max_uses": max_uses},
    )
    session.commit()
    return invite


def invite_to_unit_named(
    session: Session, *, role: Role, unit_ref: str, created_by: int, now: datetime
) -> Invite:
    """``/invite ROLE UNIT``: the unit is found by name among those the inviter manages."""
    unit = resolve_managed_unit(session, member_id=created_by, action=Action.INVITE, ref=unit_ref)
    return create_invite(session, role=role, unit_id=unit.id or 0, created_by=created_by, now=now)


@dataclass(frozen=True)
class Joined:
    member: Member
    grant: RoleGrant
    already: bool  # the person held this role before (opening the same link twice)


def redeem_invite(
    session: Session, *, code: str, user_id: int, name: str | None, language: str, now: datetime
) -> Joined:
    """Use an invite: the Telegram user becomes a member with the invite's role and unit."""
    invite = session.exec(select(Invite).where(Invite.code == code)).first()
    if invite is None:
        raise DomainError("invite.unknown")
    member = ensure_member(session, user_id=user_id, name=name, language=language, now=now)
    used_before = session.exec(
        select(InviteUse).where(InviteUse.invite_id == invite.id, InviteUse.member_id == member.id)
    ).first()
    if used_before is None:
        if invite.expires_at <= now:
            raise DomainError("invite.expired")
        if invite.uses >= invite.max_uses:
            raise DomainError("invite.used_up")
    grant = grant_role(
        session,
        member_id=member.id or 0,
        role=Role(invite.role),
        unit_id=invite.unit_id,
        granted_by=invite.created_by_member_id,
        now=now,
    )
    if used_before is None:
        invite.uses += 1
        session.add(InviteUse(invite_id=invite.id or 0, member_id=member.id or 0, used_at=now))
    session.commit()
    return Joined(member=member, grant=grant, already=used_before is not None)
