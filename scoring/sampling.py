"""Sample sizes (Cochran with finite-population correction) and seeded, per-type samples."""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable
from statistics import NormalDist

import numpy as np


def cochran_sample_size(
    population: int, *, confidence: float = 0.95, margin: float = 0.10, proportion: float = 0.5
) -> int:
    """Return the sample size for estimating a proportion in a finite population.

    n0 = z^2 p (1 - p) / e^2 and n = n0 / (1 + (n0 - 1) / N), rounded up; the paper's 1,590
    商品房 compounds at 95% confidence and a 10% margin give 91. Never more than N; 0 for N = 0.
    """
    if population < 0:
        raise ValueError("population must be >= 0")
    if not 0 < confidence < 1 or not 0 < margin < 1 or not 0 < proportion < 1:
        raise ValueError("confidence, margin and proportion must lie strictly between 0 and 1")
    if population == 0:
        return 0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    n0 = z * z * proportion * (1 - proportion) / (margin * margin)
    n = n0 / (1 + (n0 - 1) / population)
    return min(population, math.ceil(n))


def sample_compounds(
    compound_ids: Iterable[str], *, housing_type: str, size: int | None, seed: int
) -> list[str]:
    """Draw ``size`` compounds without replacement (all of them if ``size`` is None).

    The generator is seeded from (seed, housing type) and the ids are sorted first, so a type's
    sample depends only on its own compounds and the seed: adding compounds of another type, or
    shuffling the input, never changes it.
    """
    ids = sorted(set(compound_ids))
    if size is None or size >= len(ids):
        return ids
    rng = np.random.default_rng([seed, zlib.crc32(housing_type.encode())])
    chosen = rng.choice(len(ids), size=size, replace=False)
    return [ids[i] for i in sorted(chosen)]
