"""Everything the week's digests show, read once from the database (in a read session).

One ``DigestWeek`` serves every chat of the fan-out: the stored scores and their history, the
engine's explanations, the week's facts and the alerts. Rendering then only formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from bot.digest.facts import MONTH_WEEKS, WeekFacts, week_facts
from bot.digest.weeks import week_bounds
from storage.alerts import alert_detail, open_alerts, raised_between
from storage.categories import load_catalog as load_categories
from storage.db import Database
from storage.org_tree import UnitNode, org_tree
from storage.records import read_activities, read_issues
from storage.snapshots import explanation_rows, read_week, score_history
from storage.tables import Alert, UnitKind

TREND_WEEKS = 12


@dataclass(frozen=True)
class AlertView:
    """An alert as the digests show it."""

    kind: str
    unit_id: int
    compound_id: int | None
    detail: dict[str, Any]
    raised_at: datetime


@dataclass(frozen=True)
class DigestWeek:
    week: str
    now: datetime
    tz: ZoneInfo
    units: dict[int, UnitNode]
    children: dict[int, list[int]]
    scores: pd.DataFrame  # storage.snapshots.read_week, index compound_id
    history: pd.DataFrame  # storage.snapshots.score_history (last 12 stored weeks)
    explanations: dict[int, list[dict[str, Any]]]
    facts: WeekFacts
    open_alerts: list[AlertView] = field(default_factory=list)
    new_alerts: list[AlertView] = field(default_factory=list)  # raised since the week began

    @cached_property
    def periods(self) -> list[str]:
        """The weeks of ``history``, oldest first: every trend chart's axis, so each line has
        a value (or a gap) for every week even where its compounds have no score."""
        return sorted(self.history["period"].unique())

    def compounds_under(self, unit_id: int) -> list[int]:
        """Compounds at or below a unit (for a grid: its assigned compounds), by name."""
        node = self.units.get(unit_id)
        if node is None:
            return []
        if node.kind == UnitKind.COMPOUND:
            return [unit_id]
        found, stack = [], [unit_id]
        while stack:
            current = stack.pop()
            for child in self.children.get(current, []):
                kind = self.units[child].kind
                if kind == UnitKind.COMPOUND:
                    found.append(child)
                elif kind != UnitKind.GRID:  # a grid overlays compounds already counted
                    stack.append(child)
        return sorted(found, key=lambda cid: self.units[cid].name)

    def name(self, unit_id: int) -> str:
        node = self.units.get(unit_id)
        return node.name if node else "?"


def gather_week(database: Database, *, week: str, now: datetime, tz: ZoneInfo) -> DigestWeek:
    """Read the week's digest material. Blocking: call it in a worker thread."""
    start, _ = week_bounds(week, tz)
    since = start - timedelta(weeks=MONTH_WEEKS)
    with database.read_session() as session:
        tree = org_tree(session)
        scores = read_week(session, period=week)
        history = score_history(session, until=week, weeks=TREND_WEEKS)
        explanations = explanation_rows(session, period=week, compound_ids=scores.index)
        issues = read_issues(session, since=since)
        activities = read_activities(session, since=since.date())
        grids = {gid: set(cids) for gid, cids in tree.grid_compounds.items()}
        units = dict(tree.nodes)
        children = {k: list(v) for k, v in tree.children.items() if k is not None}
        for grid_id, compound_ids in grids.items():
            children[grid_id] = sorted(compound_ids)
        alerts_open = [alert_view(units, a) for a in open_alerts(session)]
        alerts_new = [alert_view(units, a) for a in raised_between(session, start=start, end=now)]
    sensitive = {c.id for c in load_categories().all() if c.sensitive}
    facts = week_facts(
        issues=issues, activities=activities, week=week, now=now, tz=tz, sensitive=sensitive
    )
    return DigestWeek(
        week=week,
        now=now,
        tz=tz,
        units=units,
        children=children,
        scores=scores,
        history=history,
        explanations=explanations,
        facts=facts,
        open_alerts=alerts_open,
        new_alerts=alerts_new,
    )


def alert_view(units: dict[int, UnitNode], alert: Alert) -> AlertView:
    """An alert row with the compound it concerns (a building's alert concerns its compound)."""
    compound_id = None
    current: int | None = alert.unit_id
    while current is not None and current in units:
        if units[current].kind == UnitKind.COMPOUND:
            compound_id = current
            break
        current = units[current].parent_id
    return AlertView(
        kind=alert.kind,
        unit_id=alert.unit_id,
        compound_id=compound_id,
        detail=alert_detail(alert),
        raised_at=alert.raised_at,
    )
