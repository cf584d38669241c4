"""Chat bindings: a group chat bound to one unit and one audience."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlmodel import Session, col, select

from storage.audit import record_audit
from storage.codes import bind_code
from storage.db import first
from storage.errors import DomainError
from storage.org import descendant_ids, get_unit
from storage.permissions import Action, require, resolve_managed_unit
from storage.tables import Audience, BindCode, ChatBinding

DEFAULT_BIND_TTL = timedelta(days=2)


def create_bind_code(
    session: Session,
    *,
    unit_id: int,
    audience: Audience,
    created_by: int | None,
    now: datetime,
    ttl: timedelta = DEFAULT_BIND_TTL,
) -> BindCode:
    """Create and commit a one-time binding code. ``created_by=None`` is the CLI bootstrap."""
    get_unit(session, unit_id)
    if created_by is not None:
        require(session, member_id=created_by, action=Action.BIND, unit_id=unit_id)
    code = BindCode(
        code=bind_code(),
        unit_id=unit_id,
        audience=audience,
        created_by_member_id=created_by,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(code)
    session.commit()
    return code


def bind_code_for_unit_named(
    session: Session, *, unit_ref: str, audience: Audience, created_by: int, now: datetime
) -> BindCode:
    """``/bind UNIT AUDIENCE`` in a private chat: a code for a unit the member manages."""
    unit = resolve_managed_unit(session, member_id=created_by, action=Action.BIND, ref=unit_ref)
    return create_bind_code(
        session, unit_id=unit.id or 0, audience=audience, created_by=created_by, now=now
    )


def bind_chat(
    session: Session,
    *,
    code: str,
    chat_id: int,
    title: str | None,
    member_id: int | None,
    now: datetime,
) -> ChatBinding:
    """Bind a chat with a code; a chat already bound is rebound to the code's unit/audience."""
    bind = session.exec(select(BindCode).where(BindCode.code == code.strip().upper())).first()
    if bind is None:
        raise DomainError("bind.unknown")
    if bind.used_at is not None:
        current = binding_for_chat(session, chat_id=chat_id)
        if current is not None and current.unit_id == bind.unit_id and current.active:
            return current  # the same /bind delivered twice
        raise DomainError("bind.used")
    if bind.expires_at <= now:
        raise DomainError("bind.expired")
    binding = session.exec(select(ChatBinding).where(ChatBinding.chat_id == chat_id)).first()
    if binding is None:
        binding = ChatBinding(
            chat_id=chat_id, unit_id=bind.unit_id, audience=bind.audience, bound_at=now
        )
    binding.unit_id = bind.unit_id
    binding.audience = bind.audience
    binding.title = title
    binding.active = True
    binding.inactive_reason = None
    binding.bound_by_member_id = member_id or bind.created_by_member_id
    binding.bound_at = now
    bind.used_at = now
    session.add(binding)
    session.flush()
    record_audit(
        session,
        at=now,
        actor_member_id=member_id,
        action="chat.bind",
        entity="chat_binding",
        entity_id=binding.id,
        detail={"chat": chat_id, "unit": bind.unit_id, "audience": bind.audience},
    )
    session.commit()
    return binding


def binding_for_chat(session: Session, *, chat_id: int) -> ChatBinding | None:
    return session.exec(select(ChatBinding).where(ChatBinding.chat_id == chat_id)).first()


def active_binding(session: Session, *, chat_id: int) -> ChatBinding | None:
    binding = binding_for_chat(session, chat_id=chat_id)
    return binding if binding is not None and binding.active else None


class BoundUnit(NamedTuple):
    unit_id: int
    audience: str


# Every message in a group asks this: plain SQL on the driver (storage.db.first), not an ORM load.
_BOUND_UNIT = "SELECT unit_id, audience FROM chat_binding WHERE chat_id = :chat AND active"


def bound_unit(session: Session, *, chat_id: int) -> BoundUnit | None:
    """The unit and audience of the chat's active binding (``active_binding`` without the
    row object)."""
    row = first(session, _BOUND_UNIT, {"chat": chat_id})
    return BoundUnit(row[0], row[1]) if row is not None else None


def unbind_chat(session: Session, *, chat_id: int, member_id: int | None, now: datetime) -> None:
    """Unbind at a committee member's request (they must manage the bound unit)."""
    binding = active_binding(session, chat_id=chat_id)
    if binding is None:
        raise DomainError("bind.not_bound")
    require(session, member_id=member_id, action=Action.BIND, unit_id=binding.unit_id)
    _deactivate(session, binding, reason="unbound", actor=member_id, now=now)


def deactivate_chat(session: Session, *, chat_id: int, reason: str, now: datetime) -> bool:
    """The bot was removed from the chat (or Telegram says Forbidden): stop sending there."""
    binding = active_binding(session, chat_id=chat_id)
    if binding is None:
        return False
    _deactivate(session, binding, reason=reason, actor=None, now=now)
    return True


def _deactivate(
    session: Session, binding: ChatBinding, *, reason: str, actor: int | None, now: datetime
) -> None:
    binding.active = False
    binding.inactive_reason = reason
    record_audit(
        session,
        at=now,
        actor_member_id=actor,
        action="chat.unbind",
        entity="chat_binding",
        entity_id=binding.id,
        detail={"chat": binding.chat_id, "reason": reason},
    )
    session.commit()


def migrate_chat(session: Session, *, old_chat_id: int, new_chat_id: int, now: datetime) -> bool:
    """A group became a supergroup: the binding follows the new chat id."""
    binding = binding_for_chat(session, chat_id=old_chat_id)
    if binding is None or binding_for_chat(session, chat_id=new_chat_id) is not None:
        return False
    binding.chat_id = new_chat_id
    record_audit(
        session,
        at=now,
        actor_member_id=None,
        action="chat.migrate",
        entity="chat_binding",
        entity_id=binding.id,
        detail={"from": old_chat_id, "to": new_chat_id},
    )
    session.commit()
    return True


def bindings_under(
    session: Session, *, unit_id: int, audience: Audience | None = None
) -> list[ChatBinding]:
    """Active bindings on the unit or any unit below it."""
    units = descendant_ids(session, unit_id)
    query = select(ChatBinding).where(col(ChatBinding.unit_id).in_(units), ChatBinding.active)
    if audience is not None:
        query = query.where(ChatBinding.audience == audience)
    return list(session.exec(query).all())
