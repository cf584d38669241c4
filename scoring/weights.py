"""Leaf weights: the paper's equal split, and the objective entropy and CRITIC options.

Kernels take a benefit-oriented matrix (entities x criteria, higher is better, e.g. Z) and return
a Series on the criteria summing to 1. ``leaf_weights`` places them in the paper's structure:
every dimension keeps its 25 points; only the split among a dimension's leaves changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.structure import DIMENSION_POINTS

WEIGHT_SCHEMES: tuple[str, ...] = ("equal", "entropy", "critic")


def equal_weights(catalog: pd.DataFrame) -> pd.Series:
    """Return the paper's weights: 25 points per dimension, split equally among its leaves."""
    per_dimension = catalog.groupby("dimension", sort=False)["dimension"].transform("size")
    return (DIMENSION_POINTS / per_dimension).astype(float).rename("weight")


def entropy_weights(matrix: pd.DataFrame) -> pd.Series:
    """Return Shannon-entropy weights (more dispersion across entities, more weight).

    p_ij = x_ij / sum_i x_ij; e_j = -sum_i p_ij ln p_ij / ln m (0 ln 0 = 0); d_j = 1 - e_j;
    w_j = d_j / sum d. Missing cells are left out of their column (m counts the present ones);
    a column that is constant, all zero, or has fewer than two values carries no information
    (d_j = 0). If no column carries any, the weights are equal.
    """
    x = matrix.to_numpy(dtype=float)
    if (x < 0).any():
        raise ValueError("entropy weights need non-negative values (normalise first)")
    present = ~np.isnan(x)
    m = present.sum(axis=0)
    x0 = np.where(present, x, 0.0)
    totals = x0.sum(axis=0)
    safe_totals = np.where(totals > 0, totals, 1.0)
    p = x0 / safe_totals
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    safe_log_m = np.where(m > 1, np.log(np.maximum(m, 2)), 1.0)
    entropy = np.where((m > 1) & (totals > 0), -plogp.sum(axis=0) / safe_log_m, 1.0)
    return _normalised(np.clip(1.0 - entropy, 0.0, None), matrix.columns)


def critic_weights(matrix: pd.DataFrame) -> pd.Series:
    """Return CRITIC weights (Diakoulaki, Mavrotas & Papayannakis 1995).

    As in the paper, each criterion is first rescaled over the entities to
    r_ij = (x_ij - min_i x_ij) / (max_i x_ij - min_i x_ij), so the input must be benefit-oriented
    (Z is; a raw criterion to minimise must be inverted first). Then C_j = s_j * sum_k (1 - r_jk),
    with s_j the standard deviation of the rescaled criterion j and r the Pearson correlation;
    w_j = C_j / sum C. The weights do not depend on the ddof of s (it scales every C_j alike);
    population s is used. Rows with a missing cell are dropped; a constant column has s = 0 (and
    correlation 0 with the rest), so C_j = 0. If every C_j is 0 the weights are equal.
    """
    complete = matrix.dropna(axis=0, how="any")
    x = _min_max(complete.to_numpy(dtype=float))
    if x.shape[0] < 2:
        return _normalised(np.zeros(x.shape[1]), matrix.columns)
    centred = x - x.mean(axis=0)
    std = np.sqrt((centred**2).mean(axis=0))
    safe_std = np.where(std > 0, std, 1.0)
    standardised = np.where(std > 0, centred / safe_std, 0.0)
    corr = standardised.T @ standardised / x.shape[0]
    conflict = (1.0 - corr).sum(axis=0)
    return _normalised(std * conflict, matrix.columns)


def _min_max(x: np.ndarray) -> np.ndarray:
    """Rescale each column to [0, 1] by its own min and max; a constant column becomes 0."""
    if x.shape[0] == 0:
        return x
    low = x.min(axis=0)
    span = x.max(axis=0) - low
    return np.where(span > 0, (x - low) / np.where(span > 0, span, 1.0), 0.0)


def _normalised(raw: np.ndarray, columns: pd.Index) -> pd.Series:
    total = raw.sum()
    if not np.isfinite(total) or total <= 0:
        raw = np.ones(len(columns))
        total = raw.sum()
    return pd.Series(raw / total, index=columns, name="weight")


def leaf_weights(
    catalog: pd.DataFrame, scheme: str = "equal", z: pd.DataFrame | None = None
) -> pd.Series:
    """Return leaf weights in points (summing to 25 per dimension) for a weighting scheme.

    ``equal`` is the paper's. ``entropy``/``critic`` compute objective weights on ``z`` (the
    normalised values of one housing type: weights are per type, so types stay independent), then
    rescale them inside each dimension to 25. A dimension whose objective weights are all zero
    keeps the equal split.
    """
    if scheme not in WEIGHT_SCHEMES:
        raise ValueError(f"unknown weighting scheme '{scheme}' (use {', '.join(WEIGHT_SCHEMES)})")
    equal = equal_weights(catalog)
    if scheme == "equal":
        return equal
    if z is None:
        raise ValueError(f"{scheme} weights need the normalised values z")
    kernel = entropy_weights if scheme == "entropy" else critic_weights
    objective = kernel(z.reindex(columns=catalog.index))
    return _within_dimensions(objective, catalog, equal)


def _within_dimensions(objective: pd.Series, catalog: pd.DataFrame, equal: pd.Series) -> pd.Series:
    share = objective.reindex(catalog.index).fillna(0.0)
    per_dimension = share.groupby(catalog["dimension"]).transform("sum")
    scaled = DIMENSION_POINTS * share / per_dimension.where(per_dimension > 0)
    return scaled.fillna(equal).rename("weight")
