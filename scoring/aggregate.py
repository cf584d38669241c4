"""Weighted aggregation I = sum(Z W) / sum(W) at every level, with missing leaves renormalised.

Leaf -> sub-index: weighted mean of the present leaves (a missing leaf drops out and its weight is
shared among the present leaves of its sub-index). Sub-index -> dimension and dimension -> total:
weighted mean with each sub-index (dimension) weighted by the sum of all its leaves' weights, over
those that have at least one present leaf. Dimension scores are reported on 0-25, the total on
0-100, sub-indices on 0-1; ``coverage`` is the share of the total leaf weight that was present.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.structure import (
    DIMENSION_POINTS,
    DIMENSIONS,
    SUBINDEX_DIMENSION,
    SUBINDICES,
    TOTAL_POINTS,
)


@dataclass(frozen=True)
class LeafLayout:
    """Positions of each sub-index's and dimension's leaves among the catalogue's columns."""

    leaves: pd.Index
    subindex_leaves: tuple[np.ndarray, ...]
    dimension_subindices: tuple[tuple[int, ...], ...]

    @classmethod
    def from_catalog(cls, catalog: pd.DataFrame) -> LeafLayout:
        sub = catalog["subindex"].to_numpy()
        subindex_leaves = tuple(np.flatnonzero(sub == name) for name in SUBINDICES)
        dimension_subindices = tuple(
            tuple(i for i, name in enumerate(SUBINDICES) if SUBINDEX_DIMENSION[name] == dim)
            for dim in DIMENSIONS
        )
        return cls(catalog.index, subindex_leaves, dimension_subindices)


@dataclass(frozen=True)
class Aggregates:
    """Index values for n entities under D weight vectors (arrays shaped n x D)."""

    total: np.ndarray
    coverage: np.ndarray
    dimensions: tuple[np.ndarray, ...]
    subindices: tuple[np.ndarray, ...]


def aggregate_arrays(z: np.ndarray, weights: np.ndarray, layout: LeafLayout) -> Aggregates:
    """Aggregate Z (n x L, NaN = missing) under weights (D x L); all results are 0-1, n x D."""
    present = ~np.isnan(z)
    z0 = np.where(present, z, 0.0)
    presence = present.astype(float)
    subs: list[np.ndarray] = []
    sub_weights: list[np.ndarray] = []
    for idx in layout.subindex_leaves:
        w = weights[:, idx].T
        subs.append(_ratio(z0[:, idx] @ w, presence[:, idx] @ w))
        sub_weights.append(w.sum(axis=0))
    dims: list[np.ndarray] = []
    dim_weights: list[np.ndarray] = []
    for members in layout.dimension_subindices:
        dims.append(_weighted_mean([subs[i] for i in members], [sub_weights[i] for i in members]))
        dim_weights.append(np.sum([sub_weights[i] for i in members], axis=0))
    total = _weighted_mean(dims, dim_weights)
    all_weights = weights.sum(axis=1)
    coverage = (presence @ weights.T) / np.where(all_weights > 0, all_weights, 1.0)
    return Aggregates(total, coverage, tuple(dims), tuple(subs))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _weighted_mean(parts: list[np.ndarray], part_weights: list[np.ndarray]) -> np.ndarray:
    """Mean of ``parts`` (each n x D, NaN = absent) weighted by per-draw weights (each D)."""
    num = np.zeros_like(parts[0])
    den = np.zeros_like(parts[0])
    for part, w in zip(parts, part_weights, strict=True):
        ok = ~np.isnan(part) & (w > 0)
        num += np.where(ok, part, 0.0) * w
        den += ok * w
    return _ratio(num, den)


def aggregate_scores(z: pd.DataFrame, catalog: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """Return total (0-100), dimensions (0-25), sub-indices (0-1) and coverage per entity."""
    layout = LeafLayout.from_catalog(catalog)
    zz = z.reindex(columns=layout.leaves).to_numpy(dtype=float)
    w = weights.reindex(layout.leaves).to_numpy(dtype=float)[None, :]
    agg = aggregate_arrays(zz, w, layout)
    out = {"total": agg.total[:, 0] * TOTAL_POINTS}
    for name, values in zip(DIMENSIONS, agg.dimensions, strict=True):
        out[name] = values[:, 0] * DIMENSION_POINTS
    for name, values in zip(SUBINDICES, agg.subindices, strict=True):
        out[name] = values[:, 0]
    out["coverage"] = agg.coverage[:, 0]
    return pd.DataFrame(out, index=z.index)


def effective_points(z: pd.DataFrame, catalog: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """Return, per entity and leaf, the points of the total that one unit of Z is worth.

    With every leaf present and the paper's weights this is the leaf weight itself; a missing
    leaf's weight is shared out as the aggregation does, so sum(points * Z) == total exactly.
    Missing leaves get 0.
    """
    layout = LeafLayout.from_catalog(catalog)
    zz = z.reindex(columns=layout.leaves).to_numpy(dtype=float)
    w = weights.reindex(layout.leaves).to_numpy(dtype=float)
    present = ~np.isnan(zz)
    n = zz.shape[0]
    leaf_share = np.zeros_like(zz)
    sub_present = np.zeros((n, len(SUBINDICES)), dtype=bool)
    sub_weight = np.array([w[idx].sum() for idx in layout.subindex_leaves])
    for s, idx in enumerate(layout.subindex_leaves):
        den = present[:, idx] @ w[idx]
        leaf_share[:, idx] = np.where(
            present[:, idx], w[idx] / np.where(den > 0, den, 1.0)[:, None], 0.0
        )
        sub_present[:, s] = (den > 0) & (sub_weight[s] > 0)
    sub_share = np.zeros((n, len(SUBINDICES)))
    dim_present = np.zeros((n, len(DIMENSIONS)), dtype=bool)
    dim_weight = np.array([sub_weight[list(m)].sum() for m in layout.dimension_subindices])
    for d, members in enumerate(layout.dimension_subindices):
        cols = list(members)
        den = sub_present[:, cols] @ sub_weight[cols]
        sub_share[:, cols] = np.where(
            sub_present[:, cols], sub_weight[cols] / np.where(den > 0, den, 1.0)[:, None], 0.0
        )
        dim_present[:, d] = den > 0
    total_den = dim_present @ dim_weight
    dim_share = np.where(
        dim_present, dim_weight / np.where(total_den > 0, total_den, 1.0)[:, None], 0.0
    )
    sub_of_leaf = np.empty(len(layout.leaves), dtype=int)
    for s, idx in enumerate(layout.subindex_leaves):
        sub_of_leaf[idx] = s
    dim_of_sub = np.empty(len(SUBINDICES), dtype=int)
    for d, members in enumerate(layout.dimension_subindices):
        dim_of_sub[list(members)] = d
    points = (
        TOTAL_POINTS
        * leaf_share
        * sub_share[:, sub_of_leaf]
        * dim_share[:, dim_of_sub[sub_of_leaf]]
    )
    return pd.DataFrame(points, index=z.index, columns=layout.leaves)


def rank_within_type(scores: pd.DataFrame) -> pd.Series:
    """Rank by total within housing type (1 = best; ties share the best rank; NaN stays NA)."""
    ranks = scores.groupby("housing_type", sort=False)["total"].rank(ascending=False, method="min")
    return ranks.astype("Int64").rename("rank_in_type")
