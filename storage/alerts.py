"""Alerts (预警): raised once per cause, listed while open, cleared when the cause is gone.

The cause key says what the alert is about, e.g. ``spike:12:2026-W47`` or
``index_drop:12:2026-W47``; the ``alert`` table keeps it unique, so the same cause never alerts
twice, and a new cause (another week, a new silence) alerts again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.tables import Alert

__all__ = ["alert_detail", "clear_alerts", "open_alerts", "raise_alert", "raised_between"]


def raise_alert(
    session: Session,
    *,
    kind: str,
    unit_id: int,
    cause_key: str,
    detail: Mapping[str, Any],
    now: datetime,
) -> Alert | None:
    """Raise and commit an alert; None when this cause was already raised (open or not)."""
    if session.exec(select(Alert.id).where(Alert.cause_key == cause_key)).first() is not None:
        return None
    alert = Alert(
        kind=kind,
        unit_id=unit_id,
        cause_key=cause_key,
        detail=json.dumps(dict(detail), ensure_ascii=False),
        raised_at=now,
    )
    session.add(alert)
    try:
        session.commit()
    except IntegrityError:  # raised meanwhile by another writer
        session.rollback()
        return None
    return alert


def open_alerts(
    session: Session, *, unit_ids: Iterable[int] | None = None, kind: str | None = None
) -> list[Alert]:
    """Alerts not cleared yet, oldest first (of ``unit_ids`` and ``kind`` when given)."""
    query = select(Alert).where(col(Alert.cleared_at).is_(None))
    if unit_ids is not None:
        query = query.where(col(Alert.unit_id).in_(list(unit_ids)))
    if kind is not None:
        query = query.where(Alert.kind == kind)
    return list(session.exec(query.order_by(col(Alert.raised_at), col(Alert.id))).all())


def raised_between(
    session: Session, *, start: datetime, end: datetime, unit_ids: Iterable[int] | None = None
) -> list[Alert]:
    """Alerts raised in [start, end), oldest first."""
    query = select(Alert).where(Alert.raised_at >= start, Alert.raised_at < end)
    if unit_ids is not None:
        query = query.where(col(Alert.unit_id).in_(list(unit_ids)))
    return list(session.exec(query.order_by(col(Alert.raised_at), col(Alert.id))).all())


def clear_alerts(session: Session, *, kind: str, unit_id: int, now: datetime) -> int:
    """Clear the open alerts of ``kind`` on a unit (its cause has gone); return how many."""
    alerts = open_alerts(session, unit_ids=[unit_id], kind=kind)
    for alert in alerts:
        alert.cleared_at = now
        session.add(alert)
    session.commit()
    return len(alerts)


def alert_detail(alert: Alert) -> dict[str, Any]:
    detail: dict[str, Any] = json.loads(alert.detail or "{}")
    return detail
