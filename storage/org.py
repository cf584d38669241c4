"""The org tree: creating units, walking up and down, and finding a unit by what people call it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, select

from storage.errors import DomainError
from storage.org_tree import UnitNode, org_tree
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


def ancestors(session: Session, unit_id: int) -> list[UnitNode]:
    """The unit itself, then its parent, up to the town."""
    tree = org_tree(session)
    if unit_id not in tree.nodes:
        raise DomainError("unit.unknown", ref=str(unit_id))
    return tree.ancestors(unit_id)


def descendant_ids(session: Session, unit_id: int) -> set[int]:
    """The unit and every unit below it."""
    return org_tree(session).descendant_ids(unit_id)


def grid_compound_ids(session: Session, grid_id: int) -> set[int]:
    return set(org_tree(session).grid_compounds.get(grid_id, ()))


def grids_of_compound(session: Session, compound_id: int) -> set[int]:
    return set(org_tree(session).compound_grids.get(compound_id, ()))


def compound_of(session: Session, unit_id: int) -> UnitNode | None:
    """The compound a unit belongs to (itself if it is one), or None above compound level."""
    for unit in ancestors(session, unit_id):
        if unit.kind == UnitKind.COMPOUND:
            return unit
    return None


def unit_path(session: Session, unit_id: int) -> str:
    """A readable path such as ``花木街道/东城居委/阳光小区/3号楼``."""
    return "/".join(u.name for u in reversed(ancestors(session, unit_id)))


def find_units(session: Session, ref: str, *, within: set[int] | None = None) -> list[UnitNode]:
    """Units whose name (or ``a/b/c`` path suffix) matches ``ref``, optionally within a scope."""
    parts = [p.strip() for p in ref.replace("／", "/").split("/") if p.strip()]
    if not parts:
        return []
    tree = org_tree(session)
    named = tree.by_name.get(parts[-1], [])
    if within is not None and len(within) < len(named):
        # "3号楼" names a building in nearly every compound: look only within the scope.
        named = sorted(u for u in within if u in tree.nodes and tree.nodes[u].name == parts[-1])
    matches = []
    for unit_id in named:
        if within is not None and unit_id not in within:
            continue
        names = [u.name for u in tree.ancestors(unit_id)]
        if names[: len(parts)] == list(reversed(parts)):
            matches.append(tree.nodes[unit_id])
    return matches


def resolve_unit(session: Session, ref: str, *, within: set[int] | None = None) -> UnitNode:
    """Exactly one unit for ``ref``, or a DomainError saying none or which ones."""
    matches = find_units(session, ref, within=within)
    if not matches:
        raise DomainError("unit.unknown", ref=ref)
    if len(matches) > 1:
        paths = [unit_path(session, u.id) for u in matches]
        raise DomainError("unit.ambiguous", ref=ref, candidates="；".join(paths))
    return matches[0]


def tree_lines(session: Session) -> list[str]:
    """The whole tree as indented lines, for ``govbot units``."""
    tree = org_tree(session)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in sorted((tree.nodes[i] for i in tree.children.get(parent, ())), key=_by_name):
            extra = ""
            if unit.kind == UnitKind.COMPOUND:
                extra = f" [{unit.housing_type}, {unit.households or '?'} households]"
            lines.append(f"{'  ' * depth}{unit.name} ({unit.kind}){extra}")
            walk(unit.id, depth + 1)

    walk(None, 0)
    return lines


def _by_name(unit: UnitNode) -> str:
    return unit.name
