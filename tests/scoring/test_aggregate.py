"""Aggregation: missing leaves renormalised within their sub-index, coverage, contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.aggregate import aggregate_scores, effective_points
from scoring.weights import equal_weights


def test_missing_leaf_renormalises_within_its_subindex(mini_catalog: pd.DataFrame) -> None:
    weights = equal_weights(mini_catalog)
    full = pd.DataFrame({"a": [0.2], "b": [0.8], "c": [0.5], "d": [1.0]})
    missing = full.assign(b=np.nan)
    got = aggregate_scores(missing, mini_catalog, weights).iloc[0]
    # service_precision = a alone = 0.2 (b's weight goes to a, not to the other sub-index)
    assert np.isclose(got["service_precision"], 0.2)
    # management = (50/3 * 0.2 + 25/3 * 0.5) / 25 = (0.4 + 0.5) / 3 = 0.3 -> 7.5 points
    assert np.isclose(got["management"], 7.5)
    # coverage = (100/2 - 25/3) / 50 = 5/6 (only two dimensions have leaves here)
    assert np.isclose(got["coverage"], 5 / 6)


def test_whole_subindex_missing_drops_out_of_its_dimension(mini_catalog: pd.DataFrame) -> None:
    weights = equal_weights(mini_catalog)
    z = pd.DataFrame({"a": [np.nan], "b": [np.nan], "c": [0.4], "d": [1.0]})
    got = aggregate_scores(z, mini_catalog, weights).iloc[0]
    assert np.isnan(got["service_precision"])
    assert np.isclose(got["management"], 0.4 * 25)


def test_no_leaf_at_all_gives_missing_total_and_zero_coverage(mini_catalog: pd.DataFrame) -> None:
    z = pd.DataFrame({"a": [np.nan], "b": [np.nan], "c": [np.nan], "d": [np.nan]})
    got = aggregate_scores(z, mini_catalog, equal_weights(mini_catalog)).iloc[0]
    assert np.isnan(got["total"])
    assert got["coverage"] == 0.0


def test_full_default_catalogue_totals_sum_of_dimensions(default_catalog: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    z = pd.DataFrame(rng.random((20, len(default_catalog))), columns=default_catalog.index)
    weights = equal_weights(default_catalog)
    scores = aggregate_scores(z, default_catalog, weights)
    dims = scores[["management", "vitality", "satisfaction", "progress"]].sum(axis=1)
    assert np.allclose(scores["total"], dims)
    # I = sum(Z W) / sum(W) over all leaves, times 100
    assert np.allclose(scores["total"], 100 * (z * weights).sum(axis=1) / weights.sum())
    assert np.allclose(scores["coverage"], 1.0)


def test_contributions_sum_to_total_with_missing_leaves(default_catalog: pd.DataFrame) -> None:
    rng = np.random.default_rng(1)
    z = pd.DataFrame(rng.random((50, len(default_catalog))), columns=default_catalog.index)
    z = z.mask(rng.random(z.shape) < 0.3)
    weights = equal_weights(default_catalog)
    points = effective_points(z, default_catalog, weights)
    scores = aggregate_scores(z, default_catalog, weights)
    assert np.allclose((points * z).sum(axis=1), scores["total"])
