"""compute_index_file: files in and out, and bad input rejected before anything is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.cli import compute_index_file
from scoring.errors import ScoringInputError
from scoring.pipeline import OUTPUT_COLUMNS
from tests.scoring.conftest import long_frame

HEADER = "compound_id,housing_type,indicator_id,period,value\n"


def _district(default_catalog: pd.DataFrame, periods: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    inputs = default_catalog.index[default_catalog["source"] != "change"]
    rows = [
        (f"{kind}-{i}", kind, ind, f"2026-W{w:02d}", float(rng.integers(0, 20)))
        for kind, count in (("commercial", 12), ("old_public", 6))
        for i in range(count)
        for w in range(1, periods + 1)
        for ind in inputs
    ]
    return long_frame(rows)


def test_csv_round_trip_scores_latest_period(
    tmp_path: Path, default_catalog: pd.DataFrame
) -> None:
    values = tmp_path / "values.csv"
    _district(default_catalog).to_csv(values, index=False)
    out = tmp_path / "out.csv"
    summary = compute_index_file(values, out, draws=50)
    table = pd.read_csv(out)
    assert list(table.columns) == list(OUTPUT_COLUMNS)
    assert summary.period == "2026-W03"
    assert summary.compounds_by_type == {"commercial": 12, "old_public": 6}
    assert table["total"].between(0, 100).all()
    assert table[["management", "vitality", "satisfaction", "progress"]].le(25).all().all()
    assert (table["rank_low"] <= table["rank_in_type"]).all()
    assert (table["rank_in_type"] <= table["rank_high"]).all()
    assert table.groupby("housing_type")["rank_in_type"].max().to_dict() == {
        "commercial": 12,
        "old_public": 6,
    }


def test_xlsx_in_and_out(tmp_path: Path, default_catalog: pd.DataFrame) -> None:
    values = tmp_path / "values.xlsx"
    _district(default_catalog, periods=1).to_excel(values, index=False)
    out = tmp_path / "out.xlsx"
    summary = compute_index_file(values, out, weights="entropy", draws=20)
    assert summary.compounds == 18
    assert len(pd.read_excel(out)) == 18


@pytest.mark.parametrize(
    ("line", "row", "column", "reason"),
    [
        ("c1,commercial,no_such_leaf,2026-W01,1", 3, "indicator_id", "unknown indicator id"),
        ("c1,villa,drills,2026-W01,1", 3, "housing_type", "unknown housing type 'villa'"),
        ("c1,commercial,drills,2026-W01,many", 3, "value", "'many' is not a number"),
        ("c1,commercial,safe_compound,2026-W01,1", 3, "indicator_id", "duplicate of row 2"),
        (
            "c1,commercial,management_change,2026-W01,1",
            3,
            "indicator_id",
            "computed by the engine",
        ),
        ("c1,old_public,drills,2026-W02,1", 3, "housing_type", "earlier row"),
        ("c1,commercial,drills,,1", 3, "period", "empty cell"),
    ],
)
def test_bad_values_name_file_row_and_column_and_write_nothing(
    tmp_path: Path, line: str, row: int, column: str, reason: str
) -> None:
    values = tmp_path / "values.csv"
    values.write_text(HEADER + "c1,commercial,safe_compound,2026-W01,1\n" + line + "\n")
    out = tmp_path / "out.csv"
    with pytest.raises(ScoringInputError, match=reason) as caught:
        compute_index_file(values, out)
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(values), row, column)
    assert str(values) in str(caught.value)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [values]


def test_missing_column_is_reported(tmp_path: Path) -> None:
    values = tmp_path / "values.csv"
    values.write_text("compound_id,housing_type,indicator_id,value\nc1,commercial,drills,1\n")
    with pytest.raises(ScoringInputError, match="missing") as caught:
        compute_index_file(values, tmp_path / "out.csv")
    assert caught.value.column == "period"


def test_a_file_with_only_the_header_is_reported(tmp_path: Path) -> None:
    values = tmp_path / "values.csv"
    values.write_text(HEADER)
    out = tmp_path / "out.csv"
    with pytest.raises(ScoringInputError, match="has no rows") as caught:
        compute_index_file(values, out)
    assert caught.value.file == str(values)
    assert not out.exists()


def test_bad_catalogue_is_reported_and_nothing_written(tmp_path: Path) -> None:
    values = tmp_path / "values.csv"
    values.write_text(HEADER + "c1,commercial,a,1,1\n")
    catalog = tmp_path / "cat.csv"
    catalog.write_text(
        "id,zh,en,dimension,subindex,direction,source,unit,scaling,window_weeks\n"
        "a,甲,A,management,service_precision,sideways,imported,u,count,0\n"
    )
    out = tmp_path / "out.csv"
    with pytest.raises(ScoringInputError, match="sideways") as caught:
        compute_index_file(values, out, catalog_path=catalog)
    assert (caught.value.row, caught.value.column) == (1, "direction")
    assert not out.exists()


def test_bad_options_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--weights"):
        compute_index_file(tmp_path / "v.csv", tmp_path / "o.csv", weights="ahp")
