"""Importing the org tree from a spreadsheet: all rows or none, with a row-by-row report.

Columns (Chinese or English headers; one row per 楼组, or per 小区 when ``building`` is blank):

========== ============ ==========================================================
canonical  Chinese      meaning
========== ============ ==========================================================
town       街镇         required
committee  居委          required (居委会 / 居民区 also accepted)
compound   小区          required
housing    房屋类型      required: 老旧公房 / 商品房 / 动迁房 / 保障性住房, or the codes
households 户数          whole number
residents  人口          whole number (常住人口 also accepted)
tags       标签          separated by ; ， 、 or spaces (e.g. inner_city;school_district)
building   楼组          optional (e.g. 3号楼)
grid       网格          optional: the grid (under the 居委) the compound belongs to
========== ============ ==========================================================

Units that already exist are reused, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from storage.db import whole_number
from storage.errors import DomainError
from storage.importing import ImportReport, apply_rows, open_sheet
from storage.org import assign_grid, create_unit, find_units
from storage.spreadsheet import SheetRow
from storage.tables import HousingType, Unit, UnitKind

COLUMN_ALIASES = {
    "town": "town",
    "街镇": "town",
    "街道": "town",
    "镇": "town",
    "committee": "committee",
    "居委": "committee",
    "居委会": "committee",
    "居民区": "committee",
    "compound": "compound",
    "小区": "compound",
    "housing_type": "housing",
    "housing": "housing",
    "房屋类型": "housing",
    "类型": "housing",
    "households": "households",
    "户数": "households",
    "residents": "residents",
    "人口": "residents",
    "常住人口": "residents",
    "tags": "tags",
    "标签": "tags",
    "building": "building",
    "楼组": "building",
    "楼栋": "building",
    "grid": "grid",
    "网格": "grid",
}
REQUIRED = ("town", "committee", "compound", "housing")

HOUSING_NAMES = {
    "老旧公房": HousingType.OLD_PUBLIC,
    "老公房": HousingType.OLD_PUBLIC,
    "售后公房": HousingType.OLD_PUBLIC,
    "商品房": HousingType.COMMERCIAL,
    "动迁房": HousingType.RESETTLEMENT,
    "动迁安置房": HousingType.RESETTLEMENT,
    "保障性住房": HousingType.AFFORDABLE,
    "保障房": HousingType.AFFORDABLE,
    **{h.value: h for h in HousingType},
}


def import_roster_file(
    session: Session,
    *,
    path: Path,
    now: datetime,
    actor_member_id: int | None = None,
    within: set[int] | None = None,
) -> ImportReport:
    """Import an org-tree spreadsheet. Commits only if every row is good.

    With ``within`` (a committee member importing from chat), every row's 居委 must already
    exist and be one of those units: they may add compounds and buildings, not towns.
    """
    report = ImportReport(file=path.name)
    sheet = open_sheet(path, COLUMN_ALIASES, report, lambda _: REQUIRED)
    if sheet is None:
        return report
    return apply_rows(
        session,
        sheet,
        report,
        lambda row: _import_row(session, row, now, report, within),
        now=now,
        actor_member_id=actor_member_id,
        action="import.roster",
        entity="unit",
        detail={"file": path.name},
    )


def _import_row(
    session: Session, row: SheetRow, now: datetime, report: ImportReport, within: set[int] | None
) -> None:
    v = row.values
    for column in REQUIRED:
        if not v.get(column):
            raise DomainError("import.missing_value", column=column)
    housing = HOUSING_NAMES.get(v["housing"].strip())
    if housing is None:
        raise DomainError("import.bad_housing", value=v["housing"])
    households = _whole_number(v.get("households", ""), "households")
    residents = _whole_number(v.get("residents", ""), "residents")
    tags = [t for t in re.split(r"[;；,，、\s]+", v.get("tags", "")) if t]
    key = tuple(v.get(c, "").strip() for c in ("town", "committee", "compound", "building"))
    if key in report.seen:
        raise DomainError("import.duplicate_row", first_line=report.seen[key])
    report.seen[key] = row.line

    if within is not None:
        _require_managed_committee(session, v["town"], v["committee"], within)
    town = _reuse_or_create(session, report, UnitKind.TOWN, v["town"], None, now)
    committee = _reuse_or_create(session, report, UnitKind.COMMITTEE, v["committee"], town.id, now)
    compound = _reuse_or_create(
        session,
        report,
        UnitKind.COMPOUND,
        v["compound"],
        committee.id,
        now,
        housing_type=housing,
        tags=tags,
        households=households,
        residents=residents,
    )
    if compound.housing_type != housing.value:
        raise DomainError("import.conflicting_housing", compound=compound.name)
    if v.get("building"):
        _reuse_or_create(session, report, UnitKind.BUILDING, v["building"], compound.id, now)
    if v.get("grid"):
        grid = _reuse_or_create(session, report, UnitKind.GRID, v["grid"], committee.id, now)
        assign_grid(session, grid_id=grid.id or 0, compound_id=compound.id or 0)


def _require_managed_committee(
    session: Session, town: str, committee: str, within: set[int]
) -> None:
    path = f"{town.strip()}/{committee.strip()}"
    matches = [u for u in find_units(session, path) if u.kind == UnitKind.COMMITTEE]
    if not matches or matches[0].id not in within:
        raise DomainError("unit.not_managed", unit=path)


def _whole_number(text: str, column: str) -> int | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    value = whole_number(text)
    if value is None:
        raise DomainError("import.bad_number", column=column, value=text)
    return value


def _reuse_or_create(
    session: Session,
    report: ImportReport,
    kind: UnitKind,
    name: str,
    parent_id: int | None,
    now: datetime,
    **attributes: object,
) -> Unit:
    existing = session.exec(
        select(Unit).where(
            Unit.kind == kind, Unit.name == name.strip(), Unit.parent_id == parent_id
        )
    ).first()
    if existing is not None:
        return existing
    unit = create_unit(session, kind=kind, name=name, parent_id=parent_id, now=now, **attributes)  # type: ignore[arg-type]
    report.created[kind.value] = report.created.get(kind.value, 0) + 1
    return unit
