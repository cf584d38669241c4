"""Weights: the paper's equal split, and hand-worked entropy and CRITIC examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from scoring.weights import critic_weights, entropy_weights, equal_weights, leaf_weights


def test_equal_weights_give_25_per_dimension(default_catalog: pd.DataFrame) -> None:
    weights = equal_weights(default_catalog)
    per_dimension = weights.groupby(default_catalog["dimension"]).sum()
    assert np.allclose(per_dimension, 25.0)
    # every leaf of a dimension has the same weight
    assert (weights.groupby(default_catalog["dimension"]).nunique() == 1).all()


def test_entropy_weights_worked_example() -> None:
    # Column p: [1, 1, 2] -> shares [1/4, 1/4, 1/2];
    #   e = -(2 * 1/4 ln 1/4 + 1/2 ln 1/2) / ln 3 = (ln 2 + ln 2 / 2) / ln 3 = 1.5 ln 2 / ln 3
    # Column q: [1, 0, 1] -> shares [1/2, 0, 1/2] (0 ln 0 = 0); e = ln 2 / ln 3
    # Column r: [1, 1, 1] -> uniform; e = 1 -> d = 0 (no information)
    matrix = pd.DataFrame({"p": [1.0, 1.0, 2.0], "q": [1.0, 0.0, 1.0], "r": [1.0, 1.0, 1.0]})
    d_p = 1 - 1.5 * math.log(2) / math.log(3)  # 0.05361
    d_q = 1 - math.log(2) / math.log(3)  # 0.36907
    expected = pd.Series({"p": d_p / (d_p + d_q), "q": d_q / (d_p + d_q), "r": 0.0})
    pd.testing.assert_series_equal(
        entropy_weights(matrix), expected, check_names=False, atol=1e-12
    )


def test_critic_weights_worked_example() -> None:
    # a = [0, 1/2, 1], b = [1, 1/2, 0], c = [0, 1, 0]
    # r_ab = -1; r_ac = 0 (deviations [-1/2, 0, 1/2] . [-1/3, 2/3, -1/3] = 0); r_bc = 0
    # population s: s_a = s_b = sqrt((1/4 + 0 + 1/4)/3) = sqrt(1/6); s_c = sqrt((1/9+4/9+1/9)/3)
    #   = sqrt(2/9)
    # C_a = s_a * ((1-1) + (1+1) + (1-0)) = 3 sqrt(1/6); C_b = 3 sqrt(1/6);
    # C_c = s_c * ((1-0) + (1-0) + 0) = 2 sqrt(2/9)
    matrix = pd.DataFrame({"a": [0.0, 0.5, 1.0], "b": [1.0, 0.5, 0.0], "c": [0.0, 1.0, 0.0]})
    c_ab = 3 * math.sqrt(1 / 6)
    c_c = 2 * math.sqrt(2 / 9)
    total = 2 * c_ab + c_c
    expected = pd.Series({"a": c_ab / total, "b": c_ab / total, "c": c_c / total})
    pd.testing.assert_series_equal(critic_weights(matrix), expected, check_names=False, atol=1e-12)


def test_uninformative_matrix_falls_back_to_equal() -> None:
    flat = pd.DataFrame({"a": [1.0, 1.0], "b": [0.5, 0.5]})
    assert np.allclose(entropy_weights(flat), 0.5)
    assert np.allclose(critic_weights(flat), 0.5)


def test_objective_weights_keep_25_points_per_dimension(default_catalog: pd.DataFrame) -> None:
    rng = np.random.default_rng(3)
    z = pd.DataFrame(rng.random((30, len(default_catalog))), columns=default_catalog.index)
    for scheme in ("entropy", "critic"):
        weights = leaf_weights(default_catalog, scheme, z)
        assert np.allclose(weights.groupby(default_catalog["dimension"]).sum(), 25.0)
        assert (weights >= 0).all()
