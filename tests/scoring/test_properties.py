"""Properties: raising a positive indicator never lowers a score; types are isolated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.calibrate import build_thresholds
from scoring.pipeline import compute_index
from scoring.snapshot import score_snapshot
from scoring.structure import DIMENSIONS
from tests.scoring.conftest import long_frame


def _values(
    catalog: pd.DataFrame, counts: dict[str, int], seed: int, periods: int = 3
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    inputs = catalog.index[catalog["source"] != "change"]
    rows = [
        (f"{kind}-{seed}-{i}", kind, ind, str(2020 + p), float(rng.integers(0, 10)))
        for kind, count in counts.items()
        for i in range(count)
        for p in range(periods)
        for ind in inputs
    ]
    return long_frame(rows)


@pytest.fixture(scope="module")
def district(default_catalog: pd.DataFrame) -> tuple[pd.DataFrame, object, pd.DataFrame]:
    values = _values(default_catalog, {"commercial": 8, "old_public": 4}, seed=11)
    history = values[values["period"] != "2022"]
    thresholds = build_thresholds(history, default_catalog, sample="all")
    return values, thresholds, score_snapshot(values, thresholds, default_catalog).scores


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_improving_an_indicator_never_lowers_any_score(
    default_catalog: pd.DataFrame, district: tuple, data: st.DataObject
) -> None:
    values, thresholds, scores = district
    inputs = default_catalog.index[default_catalog["source"] != "change"]
    indicator = data.draw(st.sampled_from(list(inputs)))
    compound = data.draw(st.sampled_from(sorted(values["compound_id"].unique())))
    step = data.draw(st.floats(min_value=0.01, max_value=50))
    better = step if default_catalog.at[indicator, "direction"] == "positive" else -step
    row = (
        (values["compound_id"] == compound)
        & (values["indicator_id"] == indicator)
        & (values["period"] == "2022")
    )
    improved = values.assign(value=values["value"].where(~row, values["value"] + better))
    before = scores.loc[compound]
    after = score_snapshot(improved, thresholds, default_catalog).scores.loc[compound]
    for column in ("total", *DIMENSIONS):
        assert after[column] >= before[column] - 1e-12, column


ISOLATION_OPTIONS = {"sample": "auto", "seed": 4, "draws": 60, "weights": "entropy"}


@pytest.fixture(scope="module")
def two_types(default_catalog: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    base = _values(default_catalog, {"commercial": 6, "old_public": 5}, seed=3)
    return base, compute_index(base, default_catalog, **ISOLATION_OPTIONS).table  # type: ignore[arg-type]


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(extra=st.integers(min_value=1, max_value=40), seed=st.integers(min_value=0, max_value=99))
def test_adding_compounds_of_one_type_never_changes_another(
    default_catalog: pd.DataFrame,
    two_types: tuple[pd.DataFrame, pd.DataFrame],
    extra: int,
    seed: int,
) -> None:
    base, alone = two_types
    more = pd.concat([base, _values(default_catalog, {"old_public": extra}, seed=100 + seed)])
    grown = compute_index(more, default_catalog, **ISOLATION_OPTIONS).table  # type: ignore[arg-type]
    ours = alone[alone["housing_type"] == "commercial"].reset_index(drop=True)
    theirs = grown[grown["housing_type"] == "commercial"].reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, theirs)
