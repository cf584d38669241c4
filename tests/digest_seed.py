"""Weeks of realistic records for digest tests and the committed demo charts.

Rows go straight into the tables (issues, activities, check-ins), the way the issue loop and
activity logging store them, so the digest is tested on what those features write. Issue texts
and activity topics carry names, phone numbers and room numbers on purpose: the privacy tests
check that none of it reaches a resident chat.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.org import create_unit
from storage.tables import Activity, Checkin, HousingType, Issue, UnitKind
from tests.district import District

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Seeded personal data that must never reach a resident chat.
PERSONAL = ("王秀英", "13812345678", "502室", "陈建国", "13998765432")
CATEGORIES = [
    "parking", "corridor_clutter", "waste_sorting", "noise", "water_leak", "group_rental",
    "neighbour_dispute", "street_light", "civilised_pets", "property_service_dispute",
]  # fmt: skip
SENSITIVE = ("group_rental", "neighbour_dispute")
MEETINGS = ("review", "hearing", "coordination", "deliberation", "building")

_message_ids = iter(range(500_000, 10_000_000))


@dataclass
class Seeded:
    compounds: list[int] = field(default_factory=list)
    issues: int = 0
    activities: int = 0


def add_compounds(session: Session, district: District, *, now: datetime) -> list[int]:
    """More compounds per housing type, so rankings and thresholds have a spread."""
    extra = [
        ("committee_a", "金杨花苑", HousingType.COMMERCIAL, 900, 2500),
        ("committee_a", "春江名邸", HousingType.COMMERCIAL, 1500, 4100),
        ("committee_b", "翠竹公寓", HousingType.COMMERCIAL, 700, 1900),
        ("committee_b", "玉兰苑", HousingType.COMMERCIAL, 1100, 3000),
        ("committee_a", "海桐新村", HousingType.OLD_PUBLIC, 650, 1700),
        ("committee_b", "香樟坊", HousingType.OLD_PUBLIC, 720, 1800),
        ("committee_b", "银杏家园", HousingType.RESETTLEMENT, 1300, 3600),
    ]
    ids = []
    for parent, name, housing, households, residents in extra:
        unit = create_unit(
            session,
            kind=UnitKind.COMPOUND,
            name=name,
            parent_id=district.units[parent],
            housing_type=housing,
            households=households,
            residents=residents,
            now=now,
        )
        building = create_unit(
            session, kind=UnitKind.BUILDING, name="1号楼", parent_id=unit.id, now=now
        )
        district.units[name] = unit.id or 0
        district.units[f"{name}_1"] = building.id or 0
        ids.append(unit.id or 0)
    session.commit()
    return ids


def seed_records(
    session: Session,
    district: District,
    *,
    compounds: list[int],
    buildings: dict[int, list[int]],
    last_week_monday: date,
    weeks: int = 14,
    seed: int = 7,
) -> Seeded:
    """``weeks`` weeks of issues, activities and check-ins ending with the given week."""
    rng = random.Random(seed)
    out = Seeded(compounds=list(compounds))
    first = last_week_monday - timedelta(weeks=weeks - 1)
    for position, compound_id in enumerate(compounds):
        vigour = 0.6 + 0.8 * rng.random()  # some compounds are busier than others
        trend = (position % 3 - 1) * 0.04  # improving, level or slipping
        for week in range(weeks):
            monday = first + timedelta(weeks=week)
            factor = max(0.2, vigour * (1 + trend * week))
            recent = week >= weeks - 2
            out.issues += _issues(session, rng, compound_id, monday, factor, recent=recent)
            out.activities += _activities(session, rng, compound_id, monday, factor)
            for building_id in buildings.get(compound_id, []):
                if rng.random() < min(0.95, 0.5 * factor + 0.3):
                    session.add(_checkin(building_id, monday, rng))
    session.commit()
    return out


def _issues(
    session: Session,
    rng: random.Random,
    compound_id: int,
    monday: date,
    factor: float,
    *,
    recent: bool,
) -> int:
    count = rng.randint(1, 4) + int(3 * factor)
    for _ in range(count):
        reported = _moment(monday, rng)
        category = rng.choice(CATEGORIES)
        due = reported + timedelta(days=7)
        done = reported + timedelta(hours=rng.uniform(4, 240) / factor)
        closed = done + timedelta(days=1) if rng.random() < 0.8 else None
        resolved: datetime | None = done
        state = "closed" if closed else "resolved"
        if rng.random() < (0.4 if recent else 0.02):  # still being handled
            state, resolved, closed = "dispatched", None, None
        name, phone = rng.choice(PERSONAL[:1] + PERSONAL[3:4]), rng.choice(PERSONAL[1::3])
        session.add(
            Issue(
                compound_id=compound_id,
                category_id=category,
                text=f"{name}反映3号楼502室门口有问题，电话{phone}",
                state=state,
                source_chat_id=-100900,
                source_message_id=next(_message_ids),
                reported_at=reported,
                resolved_at=resolved,
                closed_at=closed,
                respond_due_at=reported + timedelta(hours=24),
                resolve_due_at=due,
                rating=rng.randint(3, 5) if resolved and rng.random() < 0.6 else None,
                reopen_count=1 if resolved and rng.random() < 0.08 else 0,
            )
        )
    return count


def _activities(
    session: Session, rng: random.Random, compound_id: int, monday: date, factor: float
) -> int:
    made = 0
    plans = [
        ("volunteer", None, 0.9),
        ("meeting", rng.choice(MEETINGS), 0.45 * factor),
        ("visit", None, 0.7),
        ("drill", None, 0.15 * factor),
        ("training", None, 0.2),
        ("party", "party", 0.25),
        ("service", None, 0.6),
    ]
    for activity_type, meeting_type, chance in plans:
        if rng.random() >= min(chance, 0.98):
            continue
        people = rng.randint(4, 30)
        hours = rng.choice([1.0, 1.5, 2.0, 3.0])
        day = monday + timedelta(days=rng.randint(0, 6))
        session.add(
            Activity(
                compound_id=compound_id,
                activity_type=activity_type,
                meeting_type=meeting_type,
                occurred_on=day,
                participants=people,
                party_members=rng.randint(0, people // 3),
                hours=hours,
                person_hours=people * hours,
                households=rng.randint(3, 20) if activity_type == "visit" else None,
                topic="陈建国家门口停车问题",
                raw_text=f"#志愿 王秀英带队 {people}人 电话13812345678",
                status="confirmed",
                source_chat_id=-100901,
                source_message_id=next(_message_ids),
                created_at=_moment(day, rng),
                updated_at=_moment(day, rng),
            )
        )
        made += 1
    return made


def _checkin(building_id: int, monday: date, rng: random.Random) -> Checkin:
    year, week, _ = monday.isocalendar()
    return Checkin(
        building_id=building_id,
        week=f"{year}-W{week:02d}",
        status="ok" if rng.random() < 0.85 else "issue",
        at=_moment(monday + timedelta(days=4), rng),
    )


def _moment(day: date, rng: random.Random) -> datetime:
    local = datetime.combine(day, time(8), tzinfo=SHANGHAI) + timedelta(
        minutes=rng.randint(0, 12 * 60)
    )
    return local.astimezone(UTC)


def add_spike(session: Session, *, compound_id: int, week_monday: date, count: int = 25) -> None:
    """A burst of parking complaints in one week, far above any compound's usual few."""
    rng = random.Random(99)
    for _ in range(count):
        reported = _moment(week_monday, rng)
        session.add(
            Issue(
                compound_id=compound_id,
                category_id="parking",
                text="消防通道又被堵了，陈建国 13998765432",
                state="reported",
                source_chat_id=-100902,
                source_message_id=next(_message_ids),
                reported_at=reported,
                respond_due_at=reported + timedelta(hours=24),
                resolve_due_at=reported + timedelta(days=7),
            )
        )
    session.commit()
