"""Weekly snapshots: stored once per (period, compound), frozen thresholds, history for trends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.digest.compute import score_week
from storage.db import Database
from storage.snapshots import (
    active_thresholds,
    explanation_rows,
    latest_period,
    read_week,
    score_history,
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
