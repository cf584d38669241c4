"""Cochran's sample size with finite-population correction, and seeded per-type samples."""

from __future__ import annotations

import math

import pytest

from scoring.sampling import cochran_sample_size, sample_compounds


def test_paper_commercial_compounds_give_91() -> None:
    # 浦东 1,590 商品房小区 at 95% confidence and a 10% margin: the paper samples 91.
    # n0 = 1.95996^2 * 0.25 / 0.01 = 96.036; n = 96.036 / (1 + 95.036 / 1590) = 90.62 -> 91
    assert cochran_sample_size(1590) == 91


@pytest.mark.parametrize(
    ("population", "expected"),
    [
        (0, 0),
        (1, 1),
        (2, 2),
        # n0 / (1 + (n0 - 1)/50) = 96.036 / 2.9007 = 33.1 -> 34
        (50, 34),
        # 96.036 / (1 + 95.036/1200) = 88.99 -> 89 (浦东's 1,200 old compounds)
        (1200, 89),
    ],
)
def test_small_and_other_populations(population: int, expected: int) -> None:
    assert cochran_sample_size(population) == expected


def test_large_population_approaches_n0() -> None:
    assert cochran_sample_size(10**9) == math.ceil(1.959963984540054**2 * 0.25 / 0.01)


def test_sample_is_seeded_and_independent_of_order_and_other_types() -> None:
    ids = [f"c{i:03d}" for i in range(200)]
    first = sample_compounds(ids, housing_type="commercial", size=20, seed=7)
    again = sample_compounds(list(reversed(ids)), housing_type="commercial", size=20, seed=7)
    assert first == again
    assert len(set(first)) == 20
    assert sample_compounds(ids, housing_type="commercial", size=20, seed=8) != first
    assert sample_compounds(ids, housing_type="commercial", size=None, seed=7) == ids
