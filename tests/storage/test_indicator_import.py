"""Importing static indicators: wide and long sheets, every bad cell reported, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from handlers.imports import indicator_specs
from storage.db import Database
from storage.errors import DomainError
from storage.indicator_import import import_indicator_file, normalise_period, parse_value
from storage.roster_import import import_roster_file
from storage.tables import ImportedIndicator

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "docs/examples"


@pytest.fixture
def roster(database: Database) -> Database:
    with database.session() as session:
        assert import_roster_file(session, path=EXAMPLES / "roster.csv", now=NOW).ok
    return database


def _values(database: Database) -> dict[tuple[str, str], float]:
    with database.session() as session:
        rows = session.exec(select(ImportedIndicator)).all()
    return {(r.indicator_id, r.period): r.value for r in rows if r.compound_id}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "indicators.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_wide_sheet_imports(roster: Database) -> None:
    with roster.session() as session:
        report = import_indicator_file(
            session, path=EXAMPLES / "indicators.csv", indicators=indicator_specs(), now=NOW
        )
    assert report.ok, report.problems
    assert report.created == {"value": 24}
    with roster.session() as session:
        rows = session.exec(select(ImportedIndicator)).all()
    fee = {r.compound_id: r.value for r in rows if r.indicator_id == "property_fee_collection"}
    assert sorted(fee.values()) == [0.78, 0.81, 0.85, 0.92]
    civilised = sorted(r.value for r in rows if r.indicator_id == "civilised_compound")
    assert civilised == [0.0, 0.0, 1.0, 1.0]
    assert {r.period for r in rows} == {"2026-W01"}


def test_long_sheet_and_reimport_replaces(roster: Database, tmp_path: Path) -> None:
    text = "小区,指标,周期,数值\n阳光小区,property_fee_collection,2026-11-16,0.9\n"
    with roster.session() as session:
        assert import_indicator_file(
            session, path=_write(tmp_path, text), indicators=indicator_specs(), now=NOW
        ).ok
    text = text.replace("0.9", "95%")
    with roster.session() as session:
        assert import_indicator_file(
            session, path=_write(tmp_path, text), indicators=indicator_specs(), now=NOW
        ).ok
    assert _values(roster) == {("property_fee_collection", "2026-W47"): 0.95}


def test_bad_cells_are_reported_by_line_and_nothing_is_saved(
    roster: Database, tmp_path: Path
) -> None:
    text = (
        "小区,周期,物业费收缴率,是否文明小区\n"
        "阳光小区,2026,92%,是\n"  # line 2: good
        "梅园新村,2026,120%,是\n"  # line 3: a share above 100%
        "西城花苑,明年,0.8,否\n"  # line 4: period not understood
        "安居苑,2026,0.8,也许\n"  # line 5: not yes or no
        "不存在小区,2026,0.8,是\n"  # line 6: no such compound
        "1号楼,2026,0.8,是\n"  # line 7: ambiguous (several 1号楼)
    )
    with roster.session() as session:
        report = import_indicator_file(
            session, path=_write(tmp_path, text), indicators=indicator_specs(), now=NOW
        )
    assert [(p.line, p.code) for p in report.problems] == [
        (3, "import.bad_share"),
        (4, "import.bad_period"),
        (5, "import.bad_boolean"),
        (6, "unit.unknown"),
        (7, "unit.ambiguous"),
    ]
    assert _values(roster) == {}


def test_missing_columns_and_unknown_indicators(roster: Database, tmp_path: Path) -> None:
    with roster.session() as session:
        wide = import_indicator_file(
            session, path=_write(tmp_path, "小区,周期,幸福指数\n阳光小区,2026,3\n"),
            indicators=indicator_specs(), now=NOW,
        )  # fmt: skip
        long = import_indicator_file(
            session, path=_write(tmp_path, "小区,指标,周期,数值\n阳光小区,幸福指数,2026,3\n"),
            indicators=indicator_specs(), now=NOW,
        )  # fmt: skip
    assert [p.code for p in wide.problems] == ["import.missing_columns"]
    assert [p.code for p in long.problems] == ["import.unknown_indicator"]


@pytest.mark.parametrize(
    ("text", "week"),
    [
        ("2026-W47", "2026-W47"), ("2026w5", "2026-W05"), ("2026-11-16", "2026-W47"),
        ("2026/11/16", "2026-W47"), ("2026年11月16日", "2026-W47"), ("20261116", "2026-W47"),
        ("2026-11", "2026-W44"), ("2026年", "2026-W01"), ("2021-01-01", "2020-W53"),
    ],
)  # fmt: skip
def test_periods(text: str, week: str) -> None:
    assert normalise_period(text) == week


@pytest.mark.parametrize("text", ["", "明年", "2026-W60", "2026-13", "2026-02-30"])
def test_bad_periods(text: str) -> None:
    with pytest.raises(DomainError):
        normalise_period(text)


def test_values_by_scale() -> None:
    assert parse_value("是", "boolean") == 1.0
    assert parse_value("N", "boolean") == 0.0
    assert parse_value("87.5%", "share") == pytest.approx(0.875)
    assert parse_value("1,234", "count") == 1234.0
    with pytest.raises(DomainError):
        parse_value("-3", "count")
