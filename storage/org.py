"""The org tree: creating units, walking up and down, and finding a unit by what people call it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from storage.errors import DomainError
from storage.tables import GridCompound, HousingType, Unit, UnitKind

# Which kind may sit under which: 街镇 → 居委 → 小区 → 楼组, with grids (网格) under a 居委.
PARENT_KIND: dict[UnitKind, UnitKind | None] = {
    UnitKind.TOWN: None,
    UnitKind.COMMITTEE: UnitKind.TOWN,
    UnitKind.COMPOUND: UnitKind.COMMITTEE,
    UnitKind.BUILDING: UnitKind.COMPOUND,
    UnitKind.GRID: UnitKind.COMMITTEE,
}


def create_unit(
    session: Session,
    *,
    kind: UnitKind,
    name: str,
    parent_id: int | None,
    now: datetime,
    housing_type: HousingType | None = None,
    tags: Iterable[str] = (),
    households: int | None = None,
    residents: int | None = None,
) -> Unit:
    """Add a unit under ``parent_id`` (flushed, not committed). Sibling names are unique."""
    name = name.strip()
    if not name:
        raise DomainError("unit.empty_name")
    parent = session.get(Unit, parent_id) if parent_id is not None else None
    expected = PARENT_KIND[kind]
    if (parent.kind if parent else None) != expected:
        raise DomainError("unit.bad_parent", kind=kind.value, name=name)
    if kind is UnitKind.COMPOUND and housing_type is None:
        raise DomainError("unit.housing_type_required", name=name)
    existing = session.exec(
        select(Unit).where(Unit.parent_id == parent_id, Unit.kind == kind, Unit.name == name)
    ).first()
    if existing is not None:
        raise DomainError("unit.duplicate", name=name)
    unit = Unit(
        kind=kind,
        name=name,
        parent_id=parent_id,
        housing_type=housing_type.value if housing_type else None,
        tags=";".join(t.strip() for t in tags if t.strip()),
        households=households,
        residents=residents,
        created_at=now,
    )
    session.add(unit)
    session.flush()
    return unit


def assign_grid(session: Session, *, grid_id: int, compound_id: int) -> None:
    if session.get(GridCompound, (grid_id, compound_id)) is None:
        session.add(GridCompound(grid_id=grid_id, compound_id=compound_id))


def get_unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise DomainError("unit.unknown", ref=str(unit_id))
    return unit


def ancestors(session: Session, unit_id: int) -> list[Unit]:
    """The unit itself, then its parent, up to the town."""
    chain: list[Unit] = []
    current: int | None = unit_id
    while current is not None:
        unit = get_unit(session, current)
        chain.append(unit)
        current = unit.parent_id
    return chain


def descendant_ids(session: Session, unit_id: int) -> set[int]:
    """The unit and every unit below it (one recursive query)."""
    rows = session.connection().execute(
        text(
            "WITH RECURSIVE sub(id) AS (SELECT :root UNION ALL "
            "SELECT unit.id FROM unit JOIN sub ON unit.parent_id = sub.id) SELECT id FROM sub"
        ),
        {"root": unit_id},
    )
    return {int(r[0]) for r in rows}


def grid_compound_ids(session: Session, grid_id: int) -> set[int]:
    rows = session.exec(select(GridCompound.compound_id).where(GridCompound.grid_id == grid_id))
    return set(rows)


def grids_of_compound(session: Session, compound_id: int) -> set[int]:
    rows = session.exec(
        select(GridCompound.grid_id).where(GridCompound.compound_id == compound_id)
    )
    return set(rows)


def compound_of(session: Session, unit_id: int) -> Unit | None:
    """The compound a unit belongs to (itself if it is one), or None above compound level."""
    for unit in ancestors(session, unit_id):
        if unit.kind == UnitKind.COMPOUND:
            return unit
    return None


def unit_path(session: Session, unit_id: int) -> str:
    """A readable path such as ``花木街道/东城居委/阳光小区/3号楼``."""
    return "/".join(u.name for u in reversed(ancestors(session, unit_id)))


def find_units(session: Session, ref: str, *, within: set[int] | None = None) -> list[Unit]:
    """Units whose name (or ``a/b/c`` path suffix) matches ``ref``, optionally within a scope."""
    parts = [p.strip() for p in ref.replace("／", "/").split("/") if p.strip()]
    if not parts:
        return []
    candidates = session.exec(select(Unit).where(Unit.name == parts[-1])).all()
    matches = []
    for unit in candidates:
        if within is not None and unit.id not in within:
            continue
        names = [u.name for u in ancestors(session, unit.id or 0)]
        if names[: len(parts)] == list(reversed(parts)):
            matches.append(unit)
    return matches


def resolve_unit(session: Session, ref: str, *, within: set[int] | None = None) -> Unit:
    """Exactly one unit for ``ref``, or a DomainError saying none or which ones."""
    matches = find_units(session, ref, within=within)
    if not matches:
        raise DomainError("unit.unknown", ref=ref)
    if len(matches) > 1:
        paths = [unit_path(session, u.id or 0) for u in matches]
        raise DomainError("unit.ambiguous", ref=ref, candidates="；".join(paths))
    return matches[0]


def children(session: Session, unit_id: int | None) -> list[Unit]:
    return list(
        session.exec(select(Unit).where(Unit.parent_id == unit_id).order_by(col(Unit.name))).all()
    )


def tree_lines(session: Session) -> list[str]:
    """The whole tree as indented lines, for ``govbot units``."""
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in children(session, parent):
            extra = ""
            if unit.kind == UnitKind.COMPOUND:
                extra = f" [{unit.housing_type}, {unit.households or '?'} households]"
            lines.append(f"{'  ' * depth}{unit.name} ({unit.kind}){extra}")
            walk(unit.id, depth + 1)

    walk(None, 0)
    return lines
