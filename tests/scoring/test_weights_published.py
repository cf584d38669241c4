"""Golden tests: entropy and CRITIC weights against values printed in peer-reviewed papers.

Every matrix and every expected weight below is copied from a cited source, at the precision the
source printed, and compared with a tolerance of half a unit in the last printed place. None of
the numbers was recomputed here. The papers themselves were not available to the author of these
tests: each case was transcribed from the test suite of an MCDA library that states the paper it
copied from (repository, path and commit are given). Table numbers were therefore not checked
against the papers.

Entropy method (Shannon entropy weights; Hwang & Yoon 1981, Zeleny 1982), on the raw matrix as
printed (every entry positive, no orientation needed):
    p_ij = x_ij / sum_i x_ij;  e_j = -(1 / ln m) sum_i p_ij ln p_ij;  w_j = (1 - e_j) / sum(1 - e)

CRITIC (Diakoulaki, Mavrotas & Papayannakis 1995, Computers & Operations Research 22(7),
763-770):
    r_ij = (x_ij - min_i x_ij) / (max_i x_ij - min_i x_ij);  s_j = std of column j of r;
    C_j = s_j * sum_k (1 - corr(r_j, r_k)) (Pearson);  w_j = C_j / sum C
Whether s_j is the population or the sample standard deviation does not matter: it multiplies
every C_j by the same factor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.weights import critic_weights, entropy_weights

CRISPYN = "energyinpython/crispyn tests/test_weighting_methods.py @ 0464efd8"
PYMCDM = "kotbaton/pymcdm test/test_weights.py @ 2daa0b60"


def _tolerance(decimals: int) -> float:
    """Half a unit in the last printed place (a value printed to 4 decimals is exact to 5e-5)."""
    return 0.5 * 10.0**-decimals


# --- entropy ---------------------------------------------------------------------------------

ENTROPY_CASES = [
    pytest.param(
        # Xu, X. (2004). A note on the subjective and objective integrated approach to determine
        # attribute weights. European Journal of Operational Research 156(2), 530-532.
        # Transcribed from CRISPYN (Test_Entropy.test_Entropy). The near-constant last column
        # carries (almost) no information: its weight prints as 0.0000.
        [
            [30, 30, 38, 29],
            [19, 54, 86, 29],
            [19, 15, 85, 28.9],
            [68, 70, 60, 29],
        ],
        [0.4630, 0.3992, 0.1378, 0.0000],
        4,
        id="Xu2004-EJOR",
    ),
    pytest.param(
        # Zavadskas, E. K. & Podvezko, V. (2016). Integrated determination of objective criteria
        # weights in MCDM. International Journal of Information Technology & Decision Making
        # 15(2), 267-283. Transcribed from CRISPYN (Test_Entropy.test_Entropy2); the same matrix
        # is in PYMCDM's CILOS and IDOCRIW tests, citing the same paper.
        [
            [3.0, 100, 10, 7],
            [2.5, 80, 8, 5],
            [1.8, 50, 20, 11],
            [2.2, 70, 12, 9],
        ],
        [0.1146, 0.1981, 0.4185, 0.2689],
        4,
        id="ZavadskasPodvezko2016-IJITDM",
    ),
    pytest.param(
        # Lee, H. C. & Chang, C. T. (2018). Comparative analysis of MCDM methods for ranking
        # renewable energy sources in Taiwan. Renewable and Sustainable Energy Reviews 92,
        # 883-896. Transcribed from CRISPYN (Test_Entropy.test_Entropy4). Five energy sources,
        # ten criteria of mixed direction; the entropy method ignores direction.
        [
            [4550, 30, 6.74, 20, 15, 5, 85, 150, 0.87, 4.76],
            [3005, 60.86, 2.4, 35, 27, 4, 26, 200, 0.17, 4.51],
            [2040, 14.85, 1.7, 90, 25, 5, 26, 500, 0.27, 4.19],
            [3370, 99.4, 3.25, 25.3, 54, 3, 45, 222, 0.21, 3.78],
            [3920, 112.6, 4.93, 11.4, 71.7, 2, 50, 100, 0.25, 4.11],
        ],
        [0.026, 0.154, 0.089, 0.199, 0.115, 0.040, 0.080, 0.123, 0.172, 0.002],
        3,
        id="LeeChang2018-RSER",
    ),
    pytest.param(
        # Elsayed, E. A., Dawood, A. S. & Karthikeyan, R. (2017). Evaluating alternatives through
        # the application of TOPSIS method with entropy weight. International Journal of
        # Engineering Trends and Technology 46(2), 60-66. Transcribed from PYMCDM
        # (TestEntropyWeights), a second library, independent of crispyn; weights printed to 6
        # decimals. The last cell (0.104800) is as transcribed.
        [
            [7, 312, 1891, 6613, 163],
            [72, 88, 728, 941804, 1078],
            [10, 252, 2594, 3466, 117471],
            [10, 145, 980, 2371, 86329],
            [65, 54, 350, 501, 29897],
            [29, 48, 380, 912, 34051],
            [7, 476, 3300, 78470, 2212],
            [70, 87, 650, 733, 819000],
            [4, 86, 591, 3015, 103],
            [12, 79, 579, 3240, 96098],
            [21, 45, 261, 1253, 453],
            [1, 72, 530, 4333, 0.104800],
        ],
        [0.104991, 0.069124, 0.071373, 0.449937, 0.304575],
        6,
        id="Elsayed2017-IJETT",
    ),
]


@pytest.mark.parametrize(("matrix", "published", "decimals"), ENTROPY_CASES)
def test_entropy_weights_match_published_values(
    matrix: list[list[float]], published: list[float], decimals: int
) -> None:
    weights = entropy_weights(pd.DataFrame(np.array(matrix, dtype=float)))
    assert weights.to_list() == pytest.approx(published, abs=_tolerance(decimals))


# --- CRITIC ----------------------------------------------------------------------------------

# Tuş, A. & Aytaç Adalı, E. (2019). The new combination with CRITIC and WASPAS methods for the
# time and attendance software selection problem. OPSEARCH 56(2), 528-538.
# doi:10.1007/s12597-019-00371-6. Five software packages, six criteria, the first a price.
# Transcribed identically by PYMCDM (TestCRITICWeights) and CRISPYN (Test_CRITIC); weights
# printed to 3 decimals.
TUS_ADALI_2019 = [
    [5000, 3, 3, 4, 3, 2],
    [680, 5, 3, 2, 2, 1],
    [2000, 3, 2, 3, 4, 3],
    [600, 4, 3, 1, 2, 2],
    [800, 2, 4, 3, 3, 4],
]
TUS_ADALI_2019_WEIGHTS = [0.157, 0.249, 0.168, 0.121, 0.154, 0.151]


def test_critic_weights_match_tus_adali_2019() -> None:
    """The published weights, from the matrix as printed.

    The price column enters as printed, rescaled like the others by (x - min)/(max - min); that
    is how the paper's weights were obtained (both transcribing libraries' CRITIC ignores the
    criterion direction and reproduces them). Inverting it would leave its s_j unchanged but flip
    the sign of its correlations, and so change every weight. ``critic_weights`` takes
    benefit-oriented columns, so passing the matrix as printed is the paper's computation.
    """
    weights = critic_weights(pd.DataFrame(np.array(TUS_ADALI_2019, dtype=float)))
    assert weights.to_list() == pytest.approx(TUS_ADALI_2019_WEIGHTS, abs=_tolerance(3))


def test_critic_rescales_each_criterion_over_the_entities_first() -> None:
    """The paper's first step makes the weights blind to each column's unit and offset.

    Feeding the kernel a positively rescaled copy of the published matrix (as Z is: values on a
    threshold range rather than on the entities' own range) must give the published weights.
    """
    x = np.array(TUS_ADALI_2019, dtype=float)
    scale = np.array([1e-4, 0.5, 3.0, 0.1, 7.0, 0.02])
    offset = np.array([0.2, -1.0, 10.0, 0.0, 0.3, 5.0])
    weights = critic_weights(pd.DataFrame(x * scale + offset))
    assert weights.to_list() == pytest.approx(TUS_ADALI_2019_WEIGHTS, abs=_tolerance(3))
