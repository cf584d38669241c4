"""An in-memory snapshot of the org tree, so walking it costs dict lookups, not queries.

Every permission check walks the tree (is this unit under one where the person holds a role?),
and so does finding a unit by name. Units and grid links are only ever added (never renamed,
moved or deleted), so the largest unit id and the newest grid link's rowid (their count on
other databases) are a complete version: one cheap query per transaction tells whether the
snapshot is still true, and the tree is reloaded only after an import. (Not ``count(*)``: SQLite
counts by reading the whole table, 69,000 units at Pudong scale, in every transaction.)
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from storage.db import first
from storage.tables import GridCompound, Unit


@dataclass(frozen=True)
class UnitNode:
    """What the tree knows of a unit (the same attribute names as the ``Unit`` table)."""

    id: int
    kind: str
    name: str
    parent_id: int | None
    housing_type: str | None
    tags: str
    households: int | None
    residents: int | None


@dataclass
class OrgTree:
    version: tuple[int, ...]
    nodes: dict[int, UnitNode] = field(default_factory=dict)
    children: dict[int | None, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_name: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    grid_compounds: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    compound_grids: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))

    def ancestors(self, unit_id: int) -> list[UnitNode]:
        chain = []
        current: int | None = unit_id
        while current is not None:
            node = self.nodes[current]
            chain.append(node)
            current = node.parent_id
        return chain

    def descendant_ids(self, unit_id: int) -> set[int]:
        found, stack = set(), [unit_id]
        while stack:
            current = stack.pop()
            found.add(current)
            stack.extend(self.children.get(current, ()))
        return found


_VERSION_SQL = "SELECT (SELECT max(id) FROM unit), (SELECT count(*) FROM grid_compound)"
# SQLite: the newest grid link's rowid, found at the b-tree's edge like max(id), not by counting.
_VERSION_SQLITE = "SELECT (SELECT max(id) FROM unit), (SELECT max(rowid) FROM grid_compound)"
_cache: dict[str, OrgTree] = {}
_lock = threading.Lock()


def org_tree(session: Session) -> OrgTree:
    """The current tree for this session's database (reloaded only when units were added).

    One storage call walks the tree many times; the version is checked once per transaction
    and again after a flush that wrote units, not on every walk.
    """
    memo: OrgTree | None = session.info.get(_MEMO)
    if memo is not None:
        return memo
    sqlite = session.get_bind().dialect.name == "sqlite"
    row = first(session, _VERSION_SQLITE if sqlite else _VERSION_SQL, {})
    version = tuple(int(v or 0) for v in row or ())
    key = str(session.get_bind().engine.url)
    tree = _cache.get(key)
    if tree is None or tree.version != version:
        with _lock:
            tree = _load(session, version)
            _cache[key] = tree
    session.info[_MEMO] = tree
    return tree


_MEMO = "govbot_org_tree"


@event.listens_for(OrmSession, "after_commit")
@event.listens_for(OrmSession, "after_rollback")
def _forget_tree(session: OrmSession, *_: Any) -> None:
    """Another transaction may have committed a unit."""
    session.info.pop(_MEMO, None)


@event.listens_for(OrmSession, "after_flush")
def _forget_tree_if_units(session: OrmSession, *_: Any) -> None:
    """A flush that wrote units or grid links changes the tree (``new``, ``dirty`` and
    ``deleted`` still list what was flushed); one that wrote a report or an activity not."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(row, Unit | GridCompound) for row in changed):
        session.info.pop(_MEMO, None)


def _load(session: Session, version: tuple[int, ...]) -> OrgTree:
    tree = OrgTree(version=version)
    for unit in session.exec(select(Unit)):
        node = UnitNode(
            id=unit.id or 0, kind=unit.kind, name=unit.name, parent_id=unit.parent_id,
            housing_type=unit.housing_type, tags=unit.tags, households=unit.households,
            residents=unit.residents,
        )  # fmt: skip
        tree.nodes[node.id] = node
        tree.children[node.parent_id].append(node.id)
        tree.by_name[node.name].append(node.id)
    for link in session.exec(select(GridCompound)):
        tree.grid_compounds[link.grid_id].add(link.compound_id)
        tree.compound_grids[link.compound_id].add(link.grid_id)
    return tree
