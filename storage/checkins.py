"""The weekly check-in (零报告) and the silent-building alert (DESIGN §3.2, §3.4).

Every week each building leader says 无异常 (``ok``) or 有情况 (``issue``) for their building:
one row per building and ISO week, a second answer in the same week replaces the first. A
building whose leader has said nothing and where nothing was logged for two full weeks raises
one alert per cause: the cause is "silent since <last sign of life>", so the alert is not
repeated week after week, and a new one comes only after the building spoke and fell silent
again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from storage.audit import record_audit
from storage.errors import DomainError
from storage.org import get_unit
from storage.permissions import Action, is_allowed
from storage.processed import CHECKIN, note_message, processed_message
from storage.roster import member_by_user
from storage.tables import (
    Activity,
    Alert,
    Checkin,
    JobRun,
    Member,
    Role,
    RoleGrant,
    Unit,
    UnitKind,
)

OK, ISSUE = "ok", "issue"
SILENT_BUILDING = "silent_building"
SILENT_WEEKS = 2


def iso_week(day: date) -> str:
    """``2026-W47`` for any day of that ISO week."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class LedBuilding:
    building_id: int
    building: str
    compound: str


@dataclass(frozen=True)
class CheckinRequest:
    """One question to send: this leader, about this building."""

    user_id: int
    language: str
    building_id: int
    building: str
    compound: str


@dataclass(frozen=True)
class SilentBuilding:
    """A new silent-building alert to post in the committee chat."""

    alert_id: int
    building_id: int
    building: str
    compound: str
    committee_id: int | None
    last_seen: date | None


def _leader_grants(session: Session) -> list[tuple[RoleGrant, Unit]]:
    rows = session.exec(
        select(RoleGrant, Unit)
        .join(Unit, col(Unit.id) == col(RoleGrant.unit_id))
        .where(
            RoleGrant.role == Role.BUILDING_LEADER,
            RoleGrant.revoked_at == None,  # noqa: E711  (SQL IS NULL)
            Unit.kind == UnitKind.BUILDING,
        )
    ).all()
    return [(grant, unit) for grant, unit in rows]


def _compound_name(session: Session, building: Unit) -> str:
    return get_unit(session, building.parent_id).name if building.parent_id else ""


def led_buildings(session: Session, *, user_id: int) -> list[LedBuilding]:
    """The buildings a person is building leader of (what /checkin asks about)."""
    member = member_by_user(session, user_id)
    if member is None:
        return []
    found = {
        unit.id: LedBuilding(unit.id or 0, unit.name, _compound_name(session, unit))
        for grant, unit in _leader_grants(session)
        if grant.member_id == member.id
    }
    return sorted(found.values(), key=lambda b: (b.compound, b.building))


def record_checkin(
    session: Session,
    *,
    user_id: int,
    building_id: int,
    status: str,
    now: datetime,
    today: date,
) -> Checkin:
    """Record this week's answer for a building (the latest answer wins); commit."""
    checkin = _record(session, user_id, building_id, status, now, today)
    session.commit()
    return checkin


def record_checkin_message(
    session: Session,
    *,
    chat_id: int,
    message_id: int,
    user_id: int,
    building_id: int,
    status: str,
    now: datetime,
    today: date,
) -> bool:
    """Record a check-in written as a message, once per message; commit.

    Returns whether the message is still owed an answer: True when it is new, or a replay of
    one whose reply never went out; False for a replay that was answered. A replay changes
    nothing, so an old 无异常 replayed after a newer 有情况 does not win.
    """
    note = processed_message(session, chat_id=chat_id, message_id=message_id, kind=CHECKIN)
    if note is not None:
        return note.answered_at is None
    _record(session, user_id, building_id, status, now, today)
    note_message(session, chat_id=chat_id, message_id=message_id, kind=CHECKIN, now=now)
    session.commit()
    return True


def _record(
    session: Session, user_id: int, building_id: int, status: str, now: datetime, today: date
) -> Checkin:
    if status not in (OK, ISSUE):
        raise DomainError("checkin.bad_status")
    member = member_by_user(session, user_id)
    if member is None or not is_allowed(
        session, member_id=member.id, action=Action.CHECKIN, unit_id=building_id
    ):
        raise DomainError("permission.denied", action=Action.CHECKIN.value)
    if get_unit(session, building_id).kind != UnitKind.BUILDING:
        raise DomainError("checkin.not_building")
    week = iso_week(today)
    checkin = session.exec(
        select(Checkin).where(Checkin.building_id == building_id, Checkin.week == week)
    ).first()
    if checkin is None:
        checkin = Checkin(building_id=building_id, week=week, status=status, at=now)
    checkin.status = status
    checkin.member_id = member.id
    checkin.at = now
    session.add(checkin)
    session.flush()
    record_audit(
        session,
        at=now,
        actor_member_id=member.id,
        action="checkin.record",
        entity="checkin",
        entity_id=checkin.id,
        detail={"building": building_id, "week": week, "status": status},
    )
    return checkin


def checkin_requests(session: Session, *, today: date) -> list[CheckinRequest]:
    """Who to ask this week: every building leader, for each building not yet answered."""
    answered = set(
        session.exec(select(Checkin.building_id).where(Checkin.week == iso_week(today))).all()
    )
    requests: dict[tuple[int, int], CheckinRequest] = {}
    for grant, unit in _leader_grants(session):
        if unit.id in answered:
            continue
        member = session.get(Member, grant.member_id)
        if member is None or member.telegram_user_id is None:
            continue
        requests[(member.telegram_user_id, unit.id or 0)] = CheckinRequest(
            user_id=member.telegram_user_id,
            language=member.language,
            building_id=unit.id or 0,
            building=unit.name,
            compound=_compound_name(session, unit),
        )
    return list(requests.values())


def claim_run(session: Session, *, key: str, now: datetime) -> bool:
    """Claim a keyed periodic run (``checkin:2026-W47``); False if it already ran. Commits."""
    if session.get(JobRun, key) is not None:
        return False
    session.add(JobRun(key=key, started_at=now, finished_at=now))
    session.commit()
    return True


def scan_silent_buildings(
    session: Session, *, today: date, now: datetime, weeks: int = SILENT_WEEKS
) -> list[SilentBuilding]:
    """Raise (and return) alerts for buildings silent for ``weeks`` full weeks; commit.

    Silent: no check-in and no logged activity (not discarded) since the Monday ``weeks``
    weeks before this one. Only buildings whose leader held the role for that whole time
    count (a building nobody leads is never asked). An alert already raised for the same
    cause is not raised again; alerts of buildings that spoke since are cleared.
    """
    this_monday = today - timedelta(days=today.weekday())
    window_start = this_monday - timedelta(weeks=weeks)
    since = datetime.combine(window_start, datetime.min.time(), tzinfo=now.tzinfo)
    watched: dict[int, Unit] = {}
    for grant, unit in _leader_grants(session):
        if grant.granted_at <= since and unit.id is not None:
            watched[unit.id] = unit
    last_seen_by_building = _last_signs_of_life(session)
    open_alerts: dict[int, list[Alert]] = {}
    causes: set[str] = set()
    for alert in session.exec(select(Alert).where(Alert.kind == SILENT_BUILDING)).all():
        causes.add(alert.cause_key)
        if alert.cleared_at is None:
            open_alerts.setdefault(alert.unit_id, []).append(alert)
    raised: list[SilentBuilding] = []
    for building_id, unit in sorted(watched.items()):
        last_seen = last_seen_by_building.get(building_id)
        if last_seen is not None and last_seen >= window_start:
            for alert in open_alerts.get(building_id, []):
                alert.cleared_at = now
                session.add(alert)
            continue
        cause = (
            f"{SILENT_BUILDING}:{building_id}:{last_seen.isoformat() if last_seen else 'never'}"
        )
        if cause in causes:
            continue
        alert = Alert(
            kind=SILENT_BUILDING,
            unit_id=building_id,
            cause_key=cause,
            detail=json.dumps({"last_seen": last_seen.isoformat() if last_seen else None}),
            raised_at=now,
        )
        session.add(alert)
        session.flush()
        compound = get_unit(session, unit.parent_id) if unit.parent_id else None
        raised.append(
            SilentBuilding(
                alert_id=alert.id or 0,
                building_id=building_id,
                building=unit.name,
                compound=compound.name if compound else "",
                committee_id=compound.parent_id if compound else None,
                last_seen=last_seen,
            )
        )
    session.commit()
    return raised


def _last_signs_of_life(session: Session) -> dict[int, date]:
    """Per building, the latest day it checked in or had an activity logged (not discarded):
    two grouped queries for every building at once, not two per building (a district has
    tens of thousands, and the scan runs daily)."""
    last: dict[int, date] = {}
    checkins = session.exec(
        select(Checkin.building_id, func.max(Checkin.at)).group_by(col(Checkin.building_id))
    ).all()
    activities = session.exec(
        select(Activity.building_id, func.max(Activity.occurred_on))
        .where(col(Activity.building_id).is_not(None), Activity.status != "discarded")
        .group_by(col(Activity.building_id))
    ).all()
    for building_id, at in checkins:
        if at is not None:
            last[building_id] = at.date()
    for building, day in activities:
        if building is not None and day is not None:
            last[building] = max(day, last.get(building, day))
    return last
