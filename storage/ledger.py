"""The ledger (台账): issues with their event history, activities and index snapshots, as frames.

Columns are codes and raw values; the handlers' ledger module names them for people. Report
texts pass through :func:`mask_personal_numbers`: the ledger travels by chat and e-mail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import text
from sqlmodel import Session

from storage.masking import mask_personal_numbers
from storage.org import descendant_ids, unit_path


@dataclass(frozen=True)
class Ledger:
    issues: pd.DataFrame
    events: pd.DataFrame
    activities: pd.DataFrame
    scores: pd.DataFrame
    indicators: pd.DataFrame

    @property
    def empty(self) -> bool:
        return all(frame.empty for frame in (self.issues, self.activities, self.scores))


def read_ledger(session: Session, *, unit_id: int | None) -> Ledger:
    """Everything recorded under ``unit_id`` (or everywhere when None)."""
    scope = sorted(descendant_ids(session, unit_id)) if unit_id is not None else None
    issues = _frame(
        session,
        "SELECT i.id, i.compound_id, i.building_id, i.category_id, i.state, i.tier, i.party,"
        " i.reported_at, i.accepted_at, i.dispatched_at, i.resolved_at, i.closed_at,"
        " i.resolve_due_at, i.reporters_count, i.reopen_count, i.rating, i.close_reason,"
        " i.rejected_to, i.duplicate_of_id, i.text, m.name AS reporter"
        " FROM issue i LEFT JOIN member m ON m.id = i.reporter_member_id",
        "i.compound_id",
        scope,
    )
    issues["text"] = issues["text"].map(mask_personal_numbers)
    events = _frame(
        session,
        "SELECT e.issue_id, e.at, m.name AS actor, e.action, e.from_state, e.to_state, e.note"
        " FROM issue_event e JOIN issue i ON i.id = e.issue_id"
        " LEFT JOIN member m ON m.id = e.actor_member_id",
        "i.compound_id",
        scope,
        order="e.issue_id, e.at, e.id",
    )
    # pandas may hand a NULL note back as NaN (a float), which is truthy.
    events["note"] = events["note"].map(
        lambda v: mask_personal_numbers(v) if isinstance(v, str) and v else v
    )
    activities = _frame(
        session,
        "SELECT a.id, a.compound_id, a.building_id, a.activity_type, a.meeting_type,"
        " a.occurred_on, a.participants, a.party_members, a.hours, a.person_hours,"
        " a.households, a.topic, a.decision, a.status, m.name AS recorder, a.raw_text"
        " FROM activity a LEFT JOIN member m ON m.id = a.member_id",
        "a.compound_id",
        scope,
    )
    activities["raw_text"] = activities["raw_text"].map(mask_personal_numbers)
    scores = _frame(
        session,
        "SELECT s.period, s.compound_id, s.housing_type, s.total, s.management, s.vitality,"
        " s.satisfaction, s.progress, s.coverage, s.rank_in_type, s.rank_low, s.rank_high,"
        " s.detail FROM score_snapshot s",
        "s.compound_id",
        scope,
        order="s.period, s.compound_id",
    )
    indicators = _indicator_rows(scores)
    for frame in (issues, activities, scores, indicators):
        _add_places(session, frame)
    return Ledger(issues, events, activities, scores.drop(columns="detail"), indicators)


def _frame(
    session: Session, sql: str, scope_column: str, scope: list[int] | None, order: str = ""
) -> pd.DataFrame:
    params: dict[str, object] = {}
    if scope is not None:
        names = [f"u{i}" for i in range(len(scope))]
        sql += f" WHERE {scope_column} IN ({', '.join(':' + n for n in names)})"
        params = dict(zip(names, scope, strict=True))
    sql += f" ORDER BY {order or scope_column.split('.')[0] + '.id'}"
    return pd.read_sql(text(sql), session.connection(), params=params)


def _indicator_rows(scores: pd.DataFrame) -> pd.DataFrame:
    """Every leaf of every snapshot: the raw value and its Z, so a score can be explained."""
    rows = []
    for period, compound_id, detail in scores[["period", "compound_id", "detail"]].itertuples(
        index=False
    ):
        for indicator_id, leaf in json.loads(detail).get("leaves", {}).items():
            rows.append(
                {
                    "period": period,
                    "compound_id": compound_id,
                    "indicator_id": indicator_id,
                    "raw": leaf.get("value"),
                    "z": leaf.get("z"),
                    "points": leaf.get("points"),
                }
            )
    columns = ["period", "compound_id", "indicator_id", "raw", "z", "points"]
    return pd.DataFrame(rows, columns=columns)


def _add_places(session: Session, frame: pd.DataFrame) -> None:
    """Replace unit ids by readable paths (小区, and 楼组 where there is one)."""
    if "compound_id" in frame:
        frame["compound_id"] = [
            unit_path(session, int(u)) if pd.notna(u) else "" for u in frame["compound_id"]
        ]
    if "building_id" in frame:
        frame["building_id"] = [
            unit_path(session, int(u)).rsplit("/", 1)[-1] if pd.notna(u) else ""
            for u in frame["building_id"]
        ]
