"""Threshold building: readings, SMA baseline, degenerate cases, versioning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.calibrate import build_thresholds
from scoring.catalog import catalog_from_records
from scoring.thresholds import ThresholdSet
from tests.scoring.conftest import leaf, long_frame


def _set(rows: list, catalog: pd.DataFrame, extension: str = "range") -> ThresholdSet:
    return build_thresholds(long_frame(rows), catalog, sample="all", extension=extension)


def test_range_and_multiplicative_readings(mini_catalog: pd.DataFrame) -> None:
    rows = [("X", "commercial", "a", "1", 10.0), ("Y", "commercial", "a", "1", 30.0)]
    by_range = _set(rows, mini_catalog).for_type("commercial").loc["a"]
    # range 20 -> extend by 2 on each side
    assert (by_range["lower"], by_range["upper"]) == (8.0, 32.0)
    by_factor = (
        _set(rows, mini_catalog, extension="multiplicative").for_type("commercial").loc["a"]
    )
    # 10 * 0.9 and 30 * 1.1
    assert np.isclose(by_factor["lower"], 9.0)
    assert np.isclose(by_factor["upper"], 33.0)


def test_baseline_is_mean_of_last_three_observations(mini_catalog: pd.DataFrame) -> None:
    # X: periods 1..4 = 100, 2, 4, 6 -> last three mean 4; Y: one observation 10 -> 10
    rows = [
        ("X", "commercial", "a", str(p), v)
        for p, v in zip([1, 2, 3, 4], [100.0, 2.0, 4.0, 6.0], strict=True)
    ]
    rows.append(("Y", "commercial", "a", "3", 10.0))
    table = _set(rows, mini_catalog).for_type("commercial").loc["a"]
    assert (table["sample_min"], table["sample_max"]) == (4.0, 10.0)


def test_all_equal_without_natural_bounds_is_a_step(mini_catalog: pd.DataFrame) -> None:
    rows = [(c, "commercial", "a", "1", 5.0) for c in "XYZ"]
    row = _set(rows, mini_catalog).for_type("commercial").loc["a"]
    assert row["rule"] == "step"
    assert row["lower"] == row["upper"] == 5.0


def test_all_equal_with_natural_bounds_uses_them() -> None:
    catalog = catalog_from_records(
        [leaf("flag", "management_effect", scaling="boolean", bounds=[0.0, 1.0])], source="t"
    )
    rows = [(c, "commercial", "flag", "1", 1.0) for c in "XYZ"]
    row = _set(rows, catalog).for_type("commercial").loc["flag"]
    assert row["rule"] == "natural_bounds"
    assert (row["lower"], row["upper"]) == (0.0, 1.0)


def test_one_compound_type_is_degenerate_not_an_error(mini_catalog: pd.DataFrame) -> None:
    rows = [("only", "affordable", "a", "1", 3.0), ("only", "affordable", "b", "1", 2.0)]
    table = _set(rows, mini_catalog).for_type("affordable")
    assert table.loc[["a", "b"], "rule"].tolist() == ["step", "step"]
    assert table.loc[["a", "b"], "n_sample"].tolist() == [1, 1]


def test_indicator_without_data_in_a_type_is_no_data(mini_catalog: pd.DataFrame) -> None:
    rows = [("X", "commercial", "a", "1", 3.0), ("Y", "commercial", "a", "1", 4.0)]
    table = _set(rows, mini_catalog).for_type("commercial")
    assert table.at["d", "rule"] == "no_data"
    assert np.isnan(table.at["d", "lower"])
    # a type that is absent from the history has no rows at all: its compounds score as missing
    assert _set(rows, mini_catalog).for_type("resettlement").empty


def test_auto_sample_uses_cochran_size(mini_catalog: pd.DataFrame) -> None:
    rows = [(f"c{i:04d}", "commercial", "a", "1", float(i)) for i in range(1590)]
    built = build_thresholds(long_frame(rows), mini_catalog, sample="auto", seed=1)
    assert len(built.samples["commercial"]) == 91
    assert built.for_type("commercial").at["a", "n_population"] == 1590


def test_version_is_stable_and_round_trips(mini_catalog: pd.DataFrame) -> None:
    rows = [("X", "commercial", "a", "1", 10.0), ("Y", "commercial", "a", "1", 30.0)]
    first, second = _set(rows, mini_catalog), _set(rows, mini_catalog)
    assert first.version == second.version
    assert first.version.startswith("thr-")
    restored = ThresholdSet.from_json(first.to_json())
    assert restored.version == first.version
    assert restored.params == first.params
    pd.testing.assert_frame_equal(restored.table, first.table)
    changed = _set(rows, mini_catalog, extension="multiplicative")
    assert changed.version != first.version


def test_unknown_options_are_rejected(mini_catalog: pd.DataFrame) -> None:
    rows = [("X", "commercial", "a", "1", 10.0)]
    with pytest.raises(ValueError, match="sample"):
        build_thresholds(long_frame(rows), mini_catalog, sample="some")
    with pytest.raises(ValueError, match="reading"):
        _set(rows, mini_catalog, extension="log")
