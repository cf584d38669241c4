"""A Pudong-scale district for the benchmarks, written straight into SQLite.

36 街镇, 1,358 居村, 3,179 小区 in the four housing types (商品房 1,590 as in the paper), about
62,000 楼组 (DESIGN §2: ~63,000), two grids per 居委, and the people who work there: a town
officer per 街镇, two committee members per 居委, a grid worker per grid, a property manager and
two volunteers per 小区 and a building leader per 楼组. Every 小区 has a bound residents chat,
every 居委 a committee chat and every 街镇 a town chat.

The schema comes from the Alembic migrations; the rows are bulk-inserted with ``sqlite3``
(building this through the ORM would take minutes and measure nothing we care about). Records
(issues, activities) can be added the same way with :func:`add_records`.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from storage.schema import upgrade_database

TOWNS, COMMITTEES = 36, 1358
HOUSING = {"commercial": 1590, "old_public": 1000, "resettlement": 400, "affordable": 189}
BUILDINGS_PER_COMPOUND = (10, 29)  # uniform: 19.5 on average, about 62,000 楼组 in all
FIRST_USER_ID = 10_000_001
BULK_MESSAGE_IDS = 50_000_000  # stored records' message ids start here (never reused live)
SQL_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's DateTime stores a value in SQLite


def sql_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(SQL_TIME)


@dataclass(frozen=True)
class Building:
    id: int
    name: str
    leader_user_id: int
    leader_member_id: int


@dataclass(frozen=True)
class Compound:
    id: int
    housing: str
    committee_id: int
    chat_id: int  # its residents chat
    households: int
    buildings: tuple[Building, ...]


@dataclass
class District:
    url: str
    path: Path
    towns: list[int] = field(default_factory=list)
    committees: list[int] = field(default_factory=list)
    compounds: list[Compound] = field(default_factory=list)
    committee_chats: dict[int, int] = field(default_factory=dict)  # committee id → chat id
    members: int = 0

    @property
    def buildings(self) -> int:
        return sum(len(c.buildings) for c in self.compounds)

    def counts(self) -> dict[str, int]:
        return {
            "towns": len(self.towns),
            "committees": len(self.committees),
            "compounds": len(self.compounds),
            "buildings": self.buildings,
            "members": self.members,
            "bound_chats": len(self.compounds) + len(self.committees) + len(self.towns),
        }


class _Ids:
    def __init__(self) -> None:
        self.next = 1

    def take(self) -> int:
        self.next += 1
        return self.next - 1


def build_district(path: Path, *, now: datetime, seed: int = 8) -> District:
    """Create the migrated database at ``path`` and fill in the district; return its shape."""
    url = f"sqlite:///{path}"
    upgrade_database(url)
    rng = random.Random(seed)
    district = District(url=url, path=path)
    stamp = sql_time(now)
    units: list[tuple[object, ...]] = []
    grids: list[tuple[int, int]] = []
    members: list[tuple[object, ...]] = []
    grants: list[tuple[object, ...]] = []
    chats: list[tuple[object, ...]] = []
    unit_ids, member_ids = _Ids(), _Ids()
    user_ids = iter(range(FIRST_USER_ID, FIRST_USER_ID + 10_000_000))
    chat_ids = iter(range(-1_001_000_000_001, -1_009_000_000_000, -1))

    def person(role: str, unit_id: int) -> tuple[int, int]:
        member_id, user_id = member_ids.take(), next(user_ids)
        members.append((member_id, user_id, f"成员{member_id}", "zh", 0, stamp))
        grants.append((member_id, role, unit_id, stamp))
        return member_id, user_id

    def bind(unit_id: int, audience: str) -> int:
        chat_id = next(chat_ids)
        chats.append((chat_id, f"{audience}-{unit_id}", unit_id, audience, 1, stamp))
        return chat_id

    for t in range(TOWNS):
        town = unit_ids.take()
        units.append((town, "town", f"浦东{t + 1:02d}街道", None, None, None, None))
        district.towns.append(town)
        person("town", town)
        bind(town, "town")
    grid_of: dict[int, list[int]] = {}
    for c in range(COMMITTEES):
        committee = unit_ids.take()
        units.append(
            (committee, "committee", f"第{c + 1:04d}居委", district.towns[c % TOWNS], None, None,
             None)
        )  # fmt: skip
        district.committees.append(committee)
        district.committee_chats[committee] = bind(committee, "committee")
        for _ in range(2):
            person("committee", committee)
        grid_of[committee] = []
        for g in range(2):
            grid = unit_ids.take()
            units.append((grid, "grid", f"第{g + 1}网格", committee, None, None, None))
            grid_of[committee].append(grid)
            person("grid_worker", grid)
    for index, housing in enumerate(_housing_sequence(rng)):
        committee = district.committees[index % COMMITTEES]
        compound = unit_ids.take()
        households = rng.randrange(300, 3000, 10)
        units.append(
            (compound, "compound", f"{index + 1:04d}小区", committee, housing, households,
             int(households * 2.6))
        )  # fmt: skip
        grids.append((grid_of[committee][index // COMMITTEES % 2], compound))
        person("property", compound)
        for _ in range(2):
            person("volunteer", compound)
        buildings = []
        for n in range(1, rng.randint(*BUILDINGS_PER_COMPOUND) + 1):
            building = unit_ids.take()
            units.append((building, "building", f"{n}号楼", compound, None, None, None))
            member_id, user_id = person("building_leader", building)
            buildings.append(Building(building, f"{n}号楼", user_id, member_id))
        chat_id = bind(compound, "residents")
        district.compounds.append(
            Compound(compound, housing, committee, chat_id, households, tuple(buildings))
        )
    district.members = len(members)
    with _connect(path) as db:
        db.executemany(
            "INSERT INTO unit (id, kind, name, parent_id, housing_type, households, residents,"
            " tags, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?)",
            [(*u, stamp) for u in units],
        )
        db.executemany("INSERT INTO grid_compound (grid_id, compound_id) VALUES (?, ?)", grids)
        db.executemany(
            "INSERT INTO member (id, telegram_user_id, name, language, show_name_publicly,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            members,
        )
        db.executemany(
            "INSERT INTO role_grant (member_id, role, unit_id, granted_at) VALUES (?, ?, ?, ?)",
            grants,
        )
        db.executemany(
            "INSERT INTO chat_binding (chat_id, title, unit_id, audience, active, bound_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            chats,
        )
    return district


def _housing_sequence(rng: random.Random) -> list[str]:
    kinds = [kind for kind, n in HOUSING.items() for _ in range(n)]
    rng.shuffle(kinds)
    return kinds


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    return db


# -- records ---------------------------------------------------------------------------------

ISSUE_CATEGORIES = (
    "corridor_clutter", "parking", "noise", "waste_sorting", "water_leak", "road_damage",
    "stray_animals", "illegal_ads", "green_damage", "property_service_dispute",
)  # fmt: skip
ISSUE_STATES = ("reported", "accepted", "dispatched", "in_progress", "resolved", "closed")
ACTIVITY_TYPES = ("volunteer", "meeting", "visit", "patrol", "drill", "training", "party")


def add_records(
    district: District,
    *,
    issues: int,
    activities: int,
    end: datetime,
    weeks: int = 13,
    seed: int = 13,
    batch: int = 50_000,
) -> dict[str, float]:
    """Bulk-insert ``issues`` issues (with their report event and reporter) and ``activities``
    activities (with their audit row), spread over the ``weeks`` weeks before ``end``.

    Returns the seconds each part took.
    """
    rng = random.Random(seed)
    span = weeks * 7 * 86_400
    timings: dict[str, float] = {}
    with _connect(district.path) as db:
        first_issue = _next_id(db, "issue")
        started = datetime.now(UTC)
        for chunk in _chunks(range(issues), batch):
            issue_rows, events, reporters = [], [], []
            for k in chunk:
                issue_id = first_issue + k
                compound = rng.choice(district.compounds)
                building = rng.choice(compound.buildings)
                at = end - timedelta(seconds=rng.randrange(span))
                state = rng.choice(ISSUE_STATES)
                issue_rows.append(
                    (issue_id, compound.id, building.id, rng.choice(ISSUE_CATEGORIES),
                     "楼道里堆了很多杂物，请处理", state, "normal", "property",
                     building.leader_member_id, building.leader_user_id,
                     building.leader_user_id, compound.chat_id, BULK_MESSAGE_IDS + issue_id,
                     sql_time(at), sql_time(at + timedelta(hours=24)),
                     sql_time(at + timedelta(days=7)),
                     sql_time(at + timedelta(days=2)) if state == "closed" else None,
                     "confirmed" if state == "closed" else None)
                )  # fmt: skip
                events.append((issue_id, sql_time(at), building.leader_member_id))
                reporters.append((issue_id, building.leader_member_id, building.leader_user_id,
                                  sql_time(at)))  # fmt: skip
            db.executemany(
                "INSERT INTO issue (id, compound_id, building_id, category_id, text, state, tier,"
                " party, reporter_member_id, reporter_user_id, reporter_chat_id, source_chat_id,"
                " source_message_id, reported_at, respond_due_at, resolve_due_at, closed_at,"
                " close_reason, reopen_count, reporters_count)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 1)",
                issue_rows,
            )
            db.executemany(
                "INSERT INTO issue_event (issue_id, at, actor_member_id, action, to_state)"
                " VALUES (?, ?, ?, 'report', 'reported')",
                events,
            )
            db.executemany(
                "INSERT INTO issue_reporter (issue_id, member_id, user_id, joined_at)"
                " VALUES (?, ?, ?, ?)",
                reporters,
            )
        db.commit()
        timings["issues"] = (datetime.now(UTC) - started).total_seconds()
        started = datetime.now(UTC)
        first_activity = _next_id(db, "activity")
        for chunk in _chunks(range(activities), batch):
            rows, audits = [], []
            for k in chunk:
                activity_id = first_activity + k
                compound = rng.choice(district.compounds)
                building = rng.choice(compound.buildings)
                at = end - timedelta(seconds=rng.randrange(span))
                kind = rng.choice(ACTIVITY_TYPES)
                people = rng.randint(3, 40)
                hours = rng.choice((1.0, 1.5, 2.0, 3.0))
                rows.append(
                    (activity_id, compound.id, building.id, building.leader_member_id, kind,
                     "review" if kind == "meeting" else None, _day(at), people,
                     rng.randint(0, people // 3), hours, people * hours,
                     rng.randint(0, 12) if kind == "visit" else None, "清理楼道",
                     f"#志愿 组织{people}名志愿者清理{building.name}楼道，共{hours:g}小时",
                     "confirmed" if rng.random() < 0.8 else "unconfirmed", compound.chat_id,
                     BULK_MESSAGE_IDS + activity_id, sql_time(at), sql_time(at))
                )  # fmt: skip
                audits.append((sql_time(at), building.leader_member_id, activity_id,
                               f'{{"chat": {compound.chat_id}}}'))  # fmt: skip
            db.executemany(
                "INSERT INTO activity (id, compound_id, building_id, member_id, activity_type,"
                " meeting_type, occurred_on, participants, party_members, hours, person_hours,"
                " households, topic, raw_text, unparsed, status, source_chat_id,"
                " source_message_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?, ?)",
                rows,
            )
            db.executemany(
                "INSERT INTO audit_event (at, actor_member_id, action, entity, entity_id, detail)"
                " VALUES (?, ?, 'activity.log', 'activity', ?, ?)",
                audits,
            )
        db.commit()
        timings["activities"] = (datetime.now(UTC) - started).total_seconds()
    return timings


def _day(moment: datetime) -> str:
    local: date = (moment + timedelta(hours=8)).date()  # Asia/Shanghai has no DST
    return local.isoformat()


def _next_id(db: sqlite3.Connection, table: str) -> int:
    (current,) = db.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()  # noqa: S608
    return int(current) + 1


def _chunks(items: range, size: int) -> Iterator[range]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def add_scoring_records(
    district: District,
    *,
    issues: int,
    activities: int,
    end: datetime,
    weeks: int = 13,
    checkin_weeks: tuple[str, ...] = (),
    seed: int = 46,
) -> None:
    """Bulk-insert what the index derives from (issues, activities, check-ins), vectorised,
    without the event and audit trail rows (the scoring never reads them)."""
    rng = np.random.default_rng(seed)
    compound_ids = np.array([c.id for c in district.compounds])
    chat_ids = np.array([c.chat_id for c in district.compounds])
    span = weeks * 7 * 86_400
    base = end.astimezone(UTC).replace(tzinfo=None)
    with _connect(district.path) as db:
        first = _next_id(db, "issue")
        for chunk in _chunks(range(issues), 100_000):
            n = len(chunk)
            which = rng.integers(0, len(compound_ids), n)
            before = rng.integers(0, span, n)
            at = _times(base, before)
            due = _times(base, before - 7 * 86_400)
            closed = rng.random(n) < 0.7
            done = _times(base, before - rng.integers(3_600, 5 * 86_400, n))
            states = np.where(closed, "closed", rng.choice(ISSUE_STATES[:5], n))
            ids = np.arange(first + chunk.start, first + chunk.start + n)
            rows = zip(
                ids.tolist(), compound_ids[which].tolist(),
                rng.choice(ISSUE_CATEGORIES, n).tolist(), states.tolist(),
                chat_ids[which].tolist(), (ids + BULK_MESSAGE_IDS).tolist(), at, at, due,
                _only(closed, done), _only(closed, done),
                _only(closed, rng.integers(1, 6, n).tolist()),
                strict=True,
            )  # fmt: skip
            db.executemany(
                "INSERT INTO issue (id, compound_id, category_id, text, state, tier, party,"
                " source_chat_id, source_message_id, reported_at, respond_due_at, resolve_due_at,"
                " closed_at, resolved_at, rating, reopen_count, reporters_count)"
                " VALUES (?, ?, ?, '楼道堆物', ?, 'normal', 'property', ?, ?, ?, ?, ?, ?, ?, ?,"
                " 0, 1)",
                rows,
            )
        first = _next_id(db, "activity")
        for chunk in _chunks(range(activities), 100_000):
            n = len(chunk)
            which = rng.integers(0, len(compound_ids), n)
            kinds = rng.choice(ACTIVITY_TYPES, n)
            people = rng.integers(3, 41, n)
            hours = rng.choice([1.0, 1.5, 2.0, 3.0], n)
            days = [
                (base + timedelta(hours=8) - timedelta(seconds=int(s))).date().isoformat()
                for s in rng.integers(0, span, n)
            ]
            ids = np.arange(first + chunk.start, first + chunk.start + n)
            stamp = sql_time(end)
            rows = zip(
                ids.tolist(), compound_ids[which].tolist(), kinds.tolist(),
                _only(kinds == "meeting",
                      rng.choice(["review", "hearing", "coordination"], n).tolist()),
                days, people.tolist(), (people // 4).tolist(), hours.tolist(),
                (people * hours).tolist(),
                _only(kinds == "visit", rng.integers(1, 12, n).tolist()),
                np.where(rng.random(n) < 0.85, "confirmed", "unconfirmed").tolist(),
                chat_ids[which].tolist(), (ids + BULK_MESSAGE_IDS).tolist(),
                strict=True,
            )  # fmt: skip
            db.executemany(
                "INSERT INTO activity (id, compound_id, activity_type, meeting_type, occurred_on,"
                " participants, party_members, hours, person_hours, households, status,"
                " source_chat_id, source_message_id, raw_text, unparsed, created_at, updated_at)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '#志愿', '[]', '{stamp}',"
                f" '{stamp}')",
                rows,
            )
        buildings = [b.id for c in district.compounds for b in c.buildings]
        stamp = sql_time(end)
        for week in checkin_weeks:
            answered = rng.random(len(buildings)) < 0.7
            ok = rng.random(len(buildings)) < 0.9
            db.executemany(
                "INSERT INTO checkin (building_id, week, status, at) VALUES (?, ?, ?, ?)",
                (
                    (b, week, "ok" if k else "issue", stamp)
                    for b, a, k in zip(buildings, answered, ok, strict=True)
                    if a
                ),
            )
        db.commit()


def _only(mask: np.ndarray, values: list[Any]) -> list[Any]:
    """``values`` where ``mask`` holds, else None (SQL NULL)."""
    return [v if m else None for m, v in zip(mask.tolist(), values, strict=True)]


def _times(base: datetime, seconds_before: np.ndarray) -> list[str]:
    """``base`` minus each number of seconds, as SQLite time strings."""
    stamps = np.datetime64(base, "us") - seconds_before.astype("timedelta64[s]")
    return [s.replace("T", " ") for s in np.datetime_as_string(stamps, unit="us").tolist()]
