"""Rank uncertainty: Monte Carlo over the modelling choices (OECD/JRC Handbook on Constructing
Composite Indicators, 2008, §1.7 "uncertainty and sensitivity analysis").

Each draw picks, independently and uniformly:

- the threshold reading: one of the snapshots given (normally the ``range`` and
  ``multiplicative`` readings of the same data);
- the weighting scheme: equal (the paper's), entropy or CRITIC, computed per housing type;
- a perturbation: every leaf weight multiplied by an independent U(1 - a, 1 + a) factor
  (a = 0.25 by default).

The compound's total is recomputed under the draw and ranked within its housing type (1 = best,
ties share the best rank). The published interval is the central ``interval`` share of the
draws' ranks (5th to 95th percentile by default), widened if needed to contain the nominal rank.
Change leaves keep the values of their snapshot (they are computed with equal weights anyway, see
``progress``). The draws depend only on the seed and the catalogue, never on the compounds, so
adding compounds of one type leaves the other types' intervals unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scoring.aggregate import LeafLayout, aggregate_arrays
from scoring.snapshot import Snapshot
from scoring.weights import WEIGHT_SCHEMES, leaf_weights


def rank_intervals(
    snapshots: Sequence[Snapshot],
    catalog: pd.DataFrame,
    *,
    draws: int = 1000,
    seed: int = 0,
    schemes: Sequence[str] = WEIGHT_SCHEMES,
    perturbation: float = 0.25,
    interval: float = 0.90,
) -> pd.DataFrame:
    """Return rank_low, rank_high and rank_median per compound (indexed like the scores)."""
    if not snapshots:
        raise ValueError("rank_intervals needs at least one snapshot")
    if not 0 <= perturbation < 1 or not 0 < interval <= 1 or draws < 1:
        raise ValueError("need draws >= 1, 0 <= perturbation < 1 and 0 < interval <= 1")
    layout = LeafLayout.from_catalog(catalog)
    rng = np.random.default_rng(seed)
    reading = rng.integers(len(snapshots), size=draws)
    scheme = rng.integers(len(schemes), size=draws)
    noise = rng.uniform(1 - perturbation, 1 + perturbation, size=(draws, len(layout.leaves)))
    types = snapshots[0].scores["housing_type"]
    parts = []
    for housing_type in pd.unique(types):
        members = types.index[types == housing_type]
        totals = np.full((len(members), draws), np.nan)
        for r, snap in enumerate(snapshots):
            chosen = reading == r
            if not chosen.any():
                continue
            z = snap.z.reindex(index=members, columns=layout.leaves)
            base = np.vstack([leaf_weights(catalog, name, z).to_numpy() for name in schemes])
            w = base[scheme[chosen]] * noise[chosen]
            totals[:, chosen] = aggregate_arrays(z.to_numpy(dtype=float), w, layout).total
        parts.append(_summarise(members, _ranks(totals), interval))
    return pd.concat(parts).reindex(types.index)


def _ranks(totals: np.ndarray) -> np.ndarray:
    """Rank each column descending (1 = best, ties share the best rank); NaN stays NaN."""
    n = totals.shape[0]
    order = np.argsort(-totals, axis=0, kind="stable")
    ordered = np.take_along_axis(totals, order, axis=0)
    new_run = np.ones_like(ordered, dtype=bool)
    new_run[1:] = ordered[1:] != ordered[:-1]
    positions = np.where(new_run, np.arange(n)[:, None], 0)
    run_rank = np.maximum.accumulate(positions, axis=0) + 1.0
    ranks = np.empty_like(totals)
    np.put_along_axis(ranks, order, run_rank, axis=0)
    return np.where(np.isnan(totals), np.nan, ranks)


def _summarise(members: pd.Index, ranks: np.ndarray, interval: float) -> pd.DataFrame:
    scored = ~np.isnan(ranks).any(axis=1)
    out = pd.DataFrame(
        index=members, columns=["rank_low", "rank_high", "rank_median"], dtype=float
    )
    if scored.any():
        tail = (1 - interval) / 2
        low, median, high = np.quantile(ranks[scored], [tail, 0.5, 1 - tail], axis=1)
        out.loc[scored, "rank_low"] = np.floor(low)
        out.loc[scored, "rank_high"] = np.ceil(high)
        out.loc[scored, "rank_median"] = median
    return out
