"""Monte Carlo rank intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.pipeline import compute_index
from scoring.uncertainty import _ranks, rank_intervals
from tests.scoring.conftest import long_frame


def test_ranks_share_the_best_rank_on_ties_and_keep_nan() -> None:
    totals = np.array([[50.0, 1.0], [70.0, 1.0], [50.0, np.nan], [10.0, 3.0]])
    ranks = _ranks(totals)
    assert ranks[:, 0].tolist() == [2.0, 1.0, 2.0, 4.0]
    assert ranks[[0, 1, 3], 1].tolist() == [2.0, 2.0, 1.0]
    assert np.isnan(ranks[2, 1])


def _values() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = [
        (f"c{i}", "commercial", leaf, "1", float(rng.random() * 10))
        for i in range(12)
        for leaf in "abcd"
    ]
    return long_frame(rows)


def test_without_any_uncertainty_the_interval_is_the_rank(mini_catalog: pd.DataFrame) -> None:
    result = compute_index(_values(), mini_catalog, sample="all", draws=0)
    intervals = rank_intervals(
        [result.snapshot], mini_catalog, draws=50, schemes=("equal",), perturbation=0.0
    )
    nominal = result.snapshot.scores["rank_in_type"].astype(float)
    assert (intervals["rank_low"] == nominal).all()
    assert (intervals["rank_high"] == nominal).all()


def test_intervals_are_seeded_and_contain_the_published_rank(mini_catalog: pd.DataFrame) -> None:
    first = compute_index(_values(), mini_catalog, sample="all", draws=300, seed=9).table
    again = compute_index(_values(), mini_catalog, sample="all", draws=300, seed=9).table
    pd.testing.assert_frame_equal(first, again)
    assert (first["rank_low"] <= first["rank_in_type"]).all()
    assert (first["rank_high"] >= first["rank_in_type"]).all()
    assert (first["rank_high"] - first["rank_low"]).max() > 0
