"""A small district for tests: one town, two committees, three compounds, people in roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from storage.org import assign_grid, create_unit
from storage.roster import ensure_member, grant_role
from storage.tables import HousingType, Role, UnitKind

# Telegram user ids of the people in the district.
ADMIN, TOWN_OFFICER = 1001, 1002
COMMITTEE_A, COMMITTEE_B = 1101, 1102
LEADER_A3, LEADER_B1 = 1201, 1202
GRID_A = 1301
PROPERTY_A = 1401
OWNERS_A = 1501
VOLUNTEER_A, PARTY_A = 1601, 1602
RESIDENT_A = 1701
STRANGER = 9999


@dataclass
class District:
    units: dict[str, int] = field(default_factory=dict)  # short name → unit id
    members: dict[int, int] = field(default_factory=dict)  # telegram user id → member id


def build_district(session: Session, *, now: datetime) -> District:
    d = District()

    def unit(key: str, kind: UnitKind, name: str, parent: str | None, **kw: object) -> None:
        parent_id = d.units[parent] if parent else None
        created = create_unit(session, kind=kind, name=name, parent_id=parent_id, now=now, **kw)  # type: ignore[arg-type]
        d.units[key] = created.id or 0

    unit("town", UnitKind.TOWN, "花木街道", None)
    unit("committee_a", UnitKind.COMMITTEE, "东城居委", "town")
    unit("committee_b", UnitKind.COMMITTEE, "西城居委", "town")
    unit("sunshine", UnitKind.COMPOUND, "阳光小区", "committee_a",
         housing_type=HousingType.COMMERCIAL, households=1200, residents=3400)  # fmt: skip
    unit("plum", UnitKind.COMPOUND, "梅园新村", "committee_a",
         housing_type=HousingType.OLD_PUBLIC, households=800, residents=2100)  # fmt: skip
    unit("west", UnitKind.COMPOUND, "西城花苑", "committee_b",
         housing_type=HousingType.RESETTLEMENT, households=950, residents=2600)  # fmt: skip
    unit("sunshine_1", UnitKind.BUILDING, "1号楼", "sunshine")
    unit("sunshine_3", UnitKind.BUILDING, "3号楼", "sunshine")
    unit("plum_12", UnitKind.BUILDING, "12号楼", "plum")
    unit("west_1", UnitKind.BUILDING, "1号楼", "west")
    unit("grid_a", UnitKind.GRID, "东城一网格", "committee_a")
    assign_grid(session, grid_id=d.units["grid_a"], compound_id=d.units["sunshine"])

    people = [
        (ADMIN, "管理员老王", Role.ADMIN, "town"),
        (TOWN_OFFICER, "街道小李", Role.TOWN, "town"),
        (COMMITTEE_A, "张书记", Role.COMMITTEE, "committee_a"),
        (COMMITTEE_B, "赵社工", Role.COMMITTEE, "committee_b"),
        (LEADER_A3, "李阿姨", Role.BUILDING_LEADER, "sunshine_3"),
        (LEADER_B1, "钱师傅", Role.BUILDING_LEADER, "west_1"),
        (GRID_A, "周网格", Role.GRID_WORKER, "grid_a"),
        (PROPERTY_A, "阳光物业孙经理", Role.PROPERTY, "sunshine"),
        (OWNERS_A, "业委会吴主任", Role.OWNERS_COMMITTEE, "sunshine"),
        (VOLUNTEER_A, "志愿者小陈", Role.VOLUNTEER, "sunshine"),
        (PARTY_A, "党员老刘", Role.PARTY_MEMBER, "sunshine"),
        (RESIDENT_A, "居民小杨", Role.RESIDENT, "sunshine_3"),
    ]
    for user_id, name, role, unit_key in people:
        member = ensure_member(session, user_id=user_id, name=name, language="zh", now=now)
        grant_role(
            session,
            member_id=member.id or 0,
            role=role,
            unit_id=d.units[unit_key],
            granted_by=None,
            now=now,
        )
        d.members[user_id] = member.id or 0
    session.commit()
    return d
