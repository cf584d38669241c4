"""Weekly snapshots: stored once per (period, compound), frozen thresholds, history for trends."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlmodel import select

from bot.digest.compute import score_week
from scoring import Snapshot
from storage.db import Database
from storage.snapshots import (
    active_thresholds,
    explanation_rows,
    latest_period,
    read_week,
    score_history,
    store_snapshot,
)
from storage.tables import ScoreSnapshot, ThresholdSet
from tests.digest_seed import add_compounds, seed_records
from tests.district import District

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def seeded(database: Database, district: District) -> list[int]:
    with database.session() as session:
        extra = add_compounds(session, district, now=NOW)
        compounds = [district.units[k] for k in ("sunshine", "plum", "west")] + extra
        seed_records(
            session,
            district,
            compounds=compounds,
            buildings={district.units["sunshine"]: [district.units["sunshine_3"]]},
            last_week_monday=date(2026, 11, 9),
        )
    return compounds


def test_a_week_is_stored_once_with_every_leaf_and_its_explanation(
    database: Database, seeded: list[int]
) -> None:
    assert score_week(database, week="2026-W46", now=NOW, tz=TZ) == len(seeded)
    assert score_week(database, week="2026-W46", now=NOW, tz=TZ) == 0
    with database.read_session() as session:
        rows = session.exec(select(ScoreSnapshot)).all()
        week = read_week(session, period="2026-W46")
        explained = explanation_rows(session, period="2026-W46", compound_ids=week.index)
    assert len(rows) == len(seeded)
    detail = rows[0].detail
    assert '"leaves"' in detail
    assert '"z"' in detail
    for row in rows:
        total = row.management + row.vitality + row.satisfaction + row.progress
        assert total == pytest.approx(row.total, abs=1e-4)
        assert row.rank_low is not None
        assert row.rank_high is not None
        assert row.rank_low <= (row.rank_in_type or 0) <= row.rank_high
    assert set(week["n_in_type"]) == {5, 3, 2}
    assert any(e["kind"] == "drag" for entries in explained.values() for e in entries)


def test_thresholds_are_frozen_across_weeks(database: Database, seeded: list[int]) -> None:
    del seeded
    score_week(database, week="2026-W45", now=NOW, tz=TZ)
    with database.read_session() as session:
        first = active_thresholds(session)
    score_week(database, week="2026-W46", now=NOW, tz=TZ)
    with database.read_session() as session:
        second = active_thresholds(session)
        sets = session.exec(select(ThresholdSet)).all()
        history = score_history(session, until="2026-W46", weeks=12)
        latest = latest_period(session)
    assert first is not None
    assert second is not None
    assert first.version == second.version
    assert len(sets) == 1
    assert sorted(history["period"].unique()) == ["2026-W45", "2026-W46"]
    assert latest == "2026-W46"


def test_a_rebuild_makes_a_new_active_set(database: Database, seeded: list[int]) -> None:
    del seeded
    score_week(database, week="2026-W45", now=NOW, tz=TZ)
    score_week(database, week="2026-W46", now=NOW, tz=TZ, rebuild_thresholds=True)
    with database.read_session() as session:
        sets = session.exec(select(ThresholdSet)).all()
    assert len(sets) == 2
    assert [s.active for s in sets].count(True) == 1


def _snapshot(sunshine: int, plum: int) -> Snapshot:
    nan = float("nan")
    ids = [str(sunshine), str(plum)]
    scores = pd.DataFrame(
        {
            "housing_type": ["commercial", "old_public"],
            "period": ["2026-W46", "2026-W46"],
            "total": [61.23456789, nan],  # plum has no score this week
            "management": [20.0, nan],
            "vitality": [15.5, nan],
            "satisfaction": [12.0, nan],
            "progress": [13.73456789, nan],
            "service_precision": [0.8, nan],
            "coverage": [0.9, nan],
            "rank_in_type": [2.0, nan],
            "delta_total": [nan, nan],
            "delta_management": [1.0000004, nan],
        },
        index=pd.Index(ids, name="compound_id"),
    )
    leaves = pd.DataFrame(
        {
            "compound_id": [ids[0], ids[0]],
            "housing_type": ["commercial", "commercial"],
            "indicator_id": ["drills", "three_meetings"],
            "value": [3.0, 1 / 3],
            "z": [0.5, nan],
            "points": [1.25, 0.0],
        }
    )
    explanation = pd.DataFrame(
        {
            "compound_id": [ids[0]],
            "kind": ["drag"],
            "position": [1],
            "indicator_id": ["drills"],
            "z": [0.5],
            "type_median_z": [0.75],
            "points": [-0.625],
        }
    )
    return Snapshot(
        period="2026-W46",
        previous_period="2026-W45",
        thresholds_version="thr-test",
        weighting="equal",
        scores=scores,
        leaves=leaves,
        explanation=explanation,
        weights=pd.DataFrame(),
        z=pd.DataFrame(),
    )


def test_a_stored_row_holds_the_scores_leaves_and_explanation(
    database: Database, district: District
) -> None:
    sunshine, plum = district.units["sunshine"], district.units["plum"]
    # the draws' range (3-4) is widened to hold the nominal rank 2
    intervals = pd.DataFrame(
        {"rank_low": [3.0], "rank_high": [4.0]}, index=pd.Index([str(sunshine)])
    )
    with database.session() as session:
        added = store_snapshot(
            session, snapshot=_snapshot(sunshine, plum), now=NOW, intervals=intervals
        )
    with database.session() as session:
        again = store_snapshot(session, snapshot=_snapshot(sunshine, plum), now=NOW)
        rows = session.exec(select(ScoreSnapshot)).all()
    assert (added, again) == (1, 0)
    [row] = rows
    assert (row.compound_id, row.housing_type, row.total) == (sunshine, "commercial", 61.23456789)
    assert (row.progress, row.coverage, row.threshold_version) == (13.734568, 0.9, "thr-test")
    assert (row.rank_in_type, row.rank_low, row.rank_high) == (2, 2, 4)
    assert row.computed_at == NOW
    detail = json.loads(row.detail)
    assert detail["weighting"] == "equal"
    assert detail["previous_period"] == "2026-W45"
    assert detail["delta"] == {
        "total": None, "management": 1.0, "vitality": None, "satisfaction": None,
        "progress": None,
    }  # fmt: skip
    assert detail["subindices"]["service_precision"] == 0.8
    assert detail["subindices"]["resilience"] is None
    assert detail["leaves"] == {
        "drills": {"value": 3.0, "z": 0.5, "points": 1.25},
        "three_meetings": {"value": 0.333333, "z": None, "points": 0.0},
    }
    assert detail["explanation"] == [
        {"kind": "drag", "position": 1, "indicator_id": "drills", "z": 0.5,
         "type_median_z": 0.75, "points": -0.625},
    ]  # fmt: skip
