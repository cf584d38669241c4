"""Weekly index snapshots and the frozen threshold set they are scored against.

A snapshot row holds one compound's scores for one ISO week, with every leaf's raw value, Z and
points and the engine's explanation in ``detail`` (JSON), so any digest can be explained and
recomputed later. Rows are unique per (period, compound): storing a week again adds only the
compounds it lacked and never changes a stored score (a digest already sent stays true).

The active ``ThresholdSet`` is kept as its JSON; it is reused week after week so scores stay
comparable, and replaced only when someone rebuilds it (or when none exists yet).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import insert, text, update
from sqlmodel import Session, col, select

from scoring import Snapshot, ThresholdSet
from scoring.structure import DIMENSIONS, SUBINDICES
from storage.tables import ScoreSnapshot
from storage.tables import ThresholdSet as ThresholdRow

__all__ = [
    "DELTA_NAMES",
    "active_thresholds",
    "explanation_rows",
    "has_snapshot",
    "latest_period",
    "read_week",
    "save_thresholds",
    "score_history",
    "store_snapshot",
]

_SCORE_NAMES: tuple[str, ...] = ("total", *DIMENSIONS)
DELTA_NAMES = _SCORE_NAMES  # the engine gives a change for each score


# -- Thresholds ------------------------------------------------------------------------------


def active_thresholds(session: Session) -> ThresholdSet | None:
    """The threshold set scores are computed with now (None before the first weekly run)."""
    row = session.exec(
        select(ThresholdRow).where(ThresholdRow.active).order_by(col(ThresholdRow.id).desc())
    ).first()
    return None if row is None else ThresholdSet.from_json(row.data)


def save_thresholds(session: Session, *, thresholds: ThresholdSet, now: datetime) -> None:
    """Make ``thresholds`` the active set (storing it unless its version is already stored)."""
    session.execute(update(ThresholdRow).values(active=False))
    row = session.exec(
        select(ThresholdRow).where(ThresholdRow.version == thresholds.version)
    ).first()
    if row is None:
        row = ThresholdRow(version=thresholds.version, created_at=now, data=thresholds.to_json())
    row.active = True
    session.add(row)
    session.commit()


# -- Storing ---------------------------------------------------------------------------------


def store_snapshot(
    session: Session,
    *,
    snapshot: Snapshot,
    now: datetime,
    intervals: pd.DataFrame | None = None,
) -> int:
    """Store every compound of ``snapshot`` not yet stored for its period; return how many.

    ``intervals`` (rank_low, rank_high per compound, from ``scoring.rank_intervals``) is
    optional; without it the interval is the nominal rank.
    """
    stored = {
        str(cid)
        for cid in session.exec(
            select(ScoreSnapshot.compound_id).where(ScoreSnapshot.period == snapshot.period)
        ).all()
    }
    # Plain Python rows and dicts: 3,179 compounds with 40 leaves each are 130,000 leaf rows,
    # and pandas row access per compound cost more than the scoring (13 s at Pudong scale).
    leaves = _leaf_details(snapshot.leaves)
    explanation = _explanation_details(snapshot.explanation)
    ranges = {} if intervals is None else intervals.to_dict("index")
    rows = []
    for compound_id, scores in zip(
        snapshot.scores.index, snapshot.scores.to_dict("records"), strict=True
    ):
        if str(compound_id) in stored or _missing(scores["total"]):
            continue
        rank = _int(scores.get("rank_in_type"))
        low, high = rank, rank
        if compound_id in ranges:
            low = _int(ranges[compound_id]["rank_low"]) or rank
            high = _int(ranges[compound_id]["rank_high"]) or rank
            if rank is not None:
                low, high = min(low or rank, rank), max(high or rank, rank)
        detail = {
            "weighting": snapshot.weighting,
            "previous_period": snapshot.previous_period,
            "delta": {name: _num(scores.get(f"delta_{name}")) for name in DELTA_NAMES},
            "subindices": {name: _num(scores.get(name)) for name in SUBINDICES},
            "leaves": leaves.get(str(compound_id), {}),
            "explanation": explanation.get(str(compound_id), []),
        }
        rows.append(
            {
                "period": snapshot.period,
                "compound_id": int(compound_id),
                "housing_type": str(scores["housing_type"]),
                "total": float(scores["total"]),
                **{name: _num(scores[name]) or 0.0 for name in (*DIMENSIONS, "coverage")},
                "rank_in_type": rank,
                "rank_low": low,
                "rank_high": high,
                "threshold_version": snapshot.thresholds_version,
                "detail": json.dumps(detail, ensure_ascii=False),
                "computed_at": now,
            }
        )
    if rows:
        session.execute(insert(ScoreSnapshot), rows)
    session.commit()
    return len(rows)


def _leaf_details(frame: pd.DataFrame) -> dict[str, dict[str, dict[str, float | None]]]:
    """Each compound's leaves, in the frame's order: indicator → value, z and points."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    ids = _lists(frame, ("compound_id", "indicator_id"))
    numbers = [[] if frame.empty else frame[c].to_numpy(dtype=float).tolist()
               for c in ("value", "z", "points")]  # fmt: skip
    for cid, indicator, value, z, points in zip(*ids, *numbers, strict=True):
        out.setdefault(str(cid), {})[str(indicator)] = {
            "value": _rounded(value),
            "z": _rounded(z),
            "points": _rounded(points),
        }
    return out


def _explanation_details(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Each compound's drags and lifts, in the frame's order."""
    out: dict[str, list[dict[str, Any]]] = {}
    columns = ("compound_id", "kind", "position", "indicator_id", "z", "type_median_z", "points")
    for cid, kind, position, indicator, z, median_z, points in zip(
        *_lists(frame, columns), strict=True
    ):
        out.setdefault(str(cid), []).append(
            {
                "kind": str(kind),
                "position": int(position),
                "indicator_id": str(indicator),
                "z": _num(z),
                "type_median_z": _num(median_z),
                "points": _num(points),
            }
        )
    return out


def _lists(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[list[Any]]:
    if frame.empty:
        return [[] for _ in columns]
    return [frame[column].tolist() for column in columns]


# -- Reading ---------------------------------------------------------------------------------


def has_snapshot(session: Session, *, period: str) -> bool:
    query = select(ScoreSnapshot.id).where(ScoreSnapshot.period == period).limit(1)
    return session.exec(query).first() is not None


def latest_period(session: Session, *, until: str | None = None) -> str | None:
    """The latest week with a stored snapshot (not after ``until``)."""
    query = select(ScoreSnapshot.period)
    if until is not None:
        query = query.where(ScoreSnapshot.period <= until)
    return session.exec(query.order_by(col(ScoreSnapshot.period).desc()).limit(1)).first()


def read_week(session: Session, *, period: str) -> pd.DataFrame:
    """One week's stored scores, indexed by compound_id (int).

    Columns: housing_type, total, the four dimensions, coverage, rank_in_type, rank_low,
    rank_high, n_in_type (compounds of the type scored that week), delta_total and
    delta_<dimension> (the engine's change since the previous week, same thresholds).
    """
    rows = session.exec(select(ScoreSnapshot).where(ScoreSnapshot.period == period)).all()
    records = []
    for row in rows:
        detail = json.loads(row.detail)
        record: dict[str, Any] = {
            "compound_id": row.compound_id,
            "housing_type": row.housing_type,
            **{name: getattr(row, name) for name in _SCORE_NAMES},
            "coverage": row.coverage,
            "rank_in_type": row.rank_in_type,
            "rank_low": row.rank_low,
            "rank_high": row.rank_high,
        }
        for name in DELTA_NAMES:
            value = detail.get("delta", {}).get(name)
            record[f"delta_{name}"] = math.nan if value is None else float(value)
        records.append(record)
    columns = [
        "compound_id",
        "housing_type",
        *_SCORE_NAMES,
        "coverage",
        "rank_in_type",
        "rank_low",
        "rank_high",
        *(f"delta_{name}" for name in DELTA_NAMES),
    ]
    frame = pd.DataFrame(records, columns=columns).set_index("compound_id")
    frame["n_in_type"] = frame.groupby("housing_type")["total"].transform("size")
    return frame


def explanation_rows(
    session: Session, *, period: str, compound_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """The stored explanation (drags and lifts) of each compound for ``period``."""
    ids = [int(cid) for cid in compound_ids]
    if not ids:
        return {}
    rows = session.exec(
        select(ScoreSnapshot.compound_id, ScoreSnapshot.detail).where(
            ScoreSnapshot.period == period, col(ScoreSnapshot.compound_id).in_(ids)
        )
    ).all()
    return {cid: json.loads(detail).get("explanation", []) for cid, detail in rows}


def score_history(
    session: Session,
    *,
    until: str,
    weeks: int = 12,
    compound_ids: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Stored scores of the last ``weeks`` stored weeks up to ``until`` (long format).

    Columns: period, compound_id, housing_type, total and the four dimensions; sorted by period.
    """
    periods = session.connection().execute(
        text(
            "SELECT DISTINCT period FROM score_snapshot WHERE period <= :until "
            "ORDER BY period DESC LIMIT :weeks"
        ),
        {"until": until, "weeks": weeks},
    )
    chosen = [row[0] for row in periods]
    columns = ["period", "compound_id", "housing_type", *_SCORE_NAMES]
    if not chosen:
        return pd.DataFrame(columns=columns)
    placeholders = ", ".join(f":p{i}" for i in range(len(chosen)))
    sql = (
        f"SELECT period, compound_id, housing_type, {', '.join(_SCORE_NAMES)} "
        f"FROM score_snapshot WHERE period IN ({placeholders})"
    )
    params: dict[str, Any] = {f"p{i}": period for i, period in enumerate(chosen)}
    frame = pd.read_sql(text(sql), session.connection(), params=params)
    if compound_ids is not None:
        frame = frame[frame["compound_id"].isin([int(c) for c in compound_ids])]
    return frame.sort_values(["period", "compound_id"], ignore_index=True)


# -- Small helpers -----------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if isinstance(value, float):  # the usual case first: numpy floats are floats too
        return math.isnan(value)
    return value is None or bool(pd.isna(value))


def _num(value: Any) -> float | None:
    if _missing(value):
        return None
    return round(float(value), 6)


def _rounded(value: float) -> float | None:
    """``_num`` of a Python float (130,000 leaves x 3 at Pudong scale: the short way)."""
    return None if value != value else round(value, 6)


def _int(value: Any) -> int | None:
    if _missing(value):
        return None
    return int(value)
