"""The append-only audit log: who changed what, when."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage.db import new_row
from storage.tables import AuditEvent


def record_audit(
    session: Session,
    *,
    at: datetime,
    actor_member_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit row to the session; it commits with the change it describes."""
    session.add(
        audit_row(
            at=at,
            actor_member_id=actor_member_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail=detail,
        )
    )


def audit_row(
    *,
    at: datetime,
    actor_member_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """The audit row itself, for a caller that writes it with ``storage.db.insert_row``."""
    return new_row(
        AuditEvent,
        at=at,
        actor_member_id=actor_member_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=json.dumps(detail or {}, ensure_ascii=False, default=str),
    )
