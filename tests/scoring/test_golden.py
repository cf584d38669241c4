"""A small case computed by hand, end to end, matched to 1e-9."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.pipeline import IndexResult, compute_index
from tests.scoring.conftest import long_frame

C = "commercial"
P = "2024"
VALUES = long_frame(
    [
        # a (positive): 10, 20, 30 -> min 10, max 30, range 20 -> thresholds 8 and 32 (width 24)
        ("X", C, "a", P, 10),
        ("Y", C, "a", P, 20),
        ("Z", C, "a", P, 30),
        # b (negative): X 1, Y 5, Z missing -> min 1, max 5, range 4 -> 0.6 and 5.4 (width 4.8)
        ("X", C, "b", P, 1),
        ("Y", C, "b", P, 5),
        # c (positive): all 0 -> no spread, no natural bounds -> "step": Z = 0.5 for everyone
        ("X", C, "c", P, 0),
        ("Y", C, "c", P, 0),
        ("Z", C, "c", P, 0),
        # d (positive): 2, 4, 3.5 -> min 2, max 4, range 2 -> 1.8 and 4.2 (width 2.4)
        ("X", C, "d", P, 2),
        ("Y", C, "d", P, 4),
        ("Z", C, "d", P, 3.5),
    ]
)

# Z values
#   a: X (10-8)/24 = 1/12      Y (20-8)/24 = 1/2      Z (30-8)/24 = 11/12
#   b: X (5.4-1)/4.8 = 11/12   Y (5.4-5)/4.8 = 1/12   Z missing
#   c: 1/2 for all (step rule)
#   d: X (2-1.8)/2.4 = 1/12    Y (4-1.8)/2.4 = 11/12  Z (3.5-1.8)/2.4 = 17/24
# Weights (paper): 管理精细 has 3 leaves -> 25/3 each; 社群活力 has 1 leaf (d) -> 25.
#   service_precision (a, b) weighs 50/3, management_effect (c) 25/3.
# service_precision: X (1/12 + 11/12)/2 = 1/2; Y (1/2 + 1/12)/2 = 7/24;
#                    Z only a is present, renormalised: 11/12
# management I = (50/3 * sp + 25/3 * 1/2) / 25 = (2 sp + 1/2) / 3
#   X (1 + 1/2)/3 = 1/2 -> 12.5 points;  Y (7/12 + 1/2)/3 = 13/36 -> 325/36 points;
#   Z (22/12 + 1/2)/3 = 7/9 -> 175/9 points
# vitality I = d:  X 1/12 -> 25/12;  Y 11/12 -> 275/12;  Z 17/24 -> 425/24 points
# total = 100 * (25 I_m + 25 I_v) / 50 (satisfaction and progress have no leaves: they drop out)
#   X 50 (1/2 + 1/12) = 175/6;  Y 50 (13/36 + 33/36) = 575/9;  Z 50 (56/72 + 51/72) = 2675/36
# coverage: X, Y 1; Z misses b (25/3 of 50) -> 5/6
EXPECTED = pd.DataFrame(
    {
        "total": [175 / 6, 575 / 9, 2675 / 36],
        "management": [12.5, 325 / 36, 175 / 9],
        "vitality": [25 / 12, 275 / 12, 425 / 24],
        "service_precision": [1 / 2, 7 / 24, 11 / 12],
        "management_effect": [0.5, 0.5, 0.5],
        "party_leadership": [1 / 12, 11 / 12, 17 / 24],
        "coverage": [1.0, 1.0, 5 / 6],
    },
    index=pd.Index(["X", "Y", "Z"], name="compound_id"),
)


@pytest.fixture(scope="module")
def result(mini_catalog: pd.DataFrame) -> IndexResult:
    return compute_index(VALUES, mini_catalog, sample="all", draws=0)


def test_scores_match_hand_computation(result: IndexResult) -> None:
    got = result.table.set_index("compound_id").loc[:, list(EXPECTED.columns)]
    pd.testing.assert_frame_equal(got, EXPECTED, check_exact=False, rtol=0, atol=1e-9)


def test_dimensions_without_leaves_are_missing_not_zero(result: IndexResult) -> None:
    table = result.table
    assert table["satisfaction"].isna().all()
    assert table["progress"].isna().all()


def test_ranks_within_type(result: IndexResult) -> None:
    ranks = result.table.set_index("compound_id")["rank_in_type"]
    assert ranks.to_dict() == {"X": 3, "Y": 2, "Z": 1}


def test_thresholds_match_hand_computation(result: IndexResult) -> None:
    table = result.thresholds.for_type(C)
    assert np.allclose(table.loc[["a", "b", "d"], "lower"], [8.0, 0.6, 1.8], atol=1e-12)
    assert np.allclose(table.loc[["a", "b", "d"], "upper"], [32.0, 5.4, 4.2], atol=1e-12)
    assert table.at["c", "rule"] == "step"
    assert table.at["c", "lower"] == table.at["c", "upper"] == 0.0
    assert list(table["n_sample"].unique()) == [3]


def test_explanation_against_type_median(result: IndexResult) -> None:
    # Medians of Z: a 1/2, b 1/2 (of 11/12 and 1/12), c 1/2, d 17/24.
    # Only two of the four dimensions have leaves, so the total is renormalised over 50 points
    # and one unit of a leaf's Z is worth 100/50 = 2 times its weight.
    # X: a 2 * 25/3 (1/12 - 1/2) = -125/18; b 2 * 25/3 (11/12 - 1/2) = +125/18; c 0;
    #    d 2 * 25 (1/12 - 17/24) = -31.25.
    rows = result.snapshot.explanation.set_index("compound_id").loc[["X"]]
    drag = rows[rows["kind"] == "drag"]
    lift = rows[rows["kind"] == "lift"]
    assert list(drag["indicator_id"]) == ["d", "a"]
    assert np.allclose(drag["points"], [-31.25, -125 / 18], atol=1e-12)
    assert list(lift["indicator_id"]) == ["b"]
    assert np.allclose(lift["points"], [125 / 18], atol=1e-12)


def test_leaf_contributions_sum_to_total(result: IndexResult) -> None:
    snap = result.snapshot
    sums = snap.leaves.groupby("compound_id")["points"].sum()
    assert np.allclose(sums, snap.scores["total"].loc[sums.index], atol=1e-12)
