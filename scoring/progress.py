"""能力进步 / 自我成长: change leaves computed from two consecutive periods.

A change leaf's value at period t is (quantity at t) - (quantity at the period before t in the
data's period order), for one compound; it is missing when either is missing. The quantity is
named by the catalogue's ``change_of``:

- ``dimension:<id>``: the dimension score (points of 25) of management, vitality or satisfaction;
- ``subindex:<id>``: a sub-index value (0-1), e.g. 主观满意 for 群众满意度变化;
- ``indicator:<id>``: a leaf's raw value (e.g. 12345 complaints per 1,000 households).

Dimension and sub-index scores for changes are always computed with the paper's equal weights on
the non-change leaves, so the change values, and the thresholds built from them, do not depend on
the weighting option chosen for the final score. The change values are then normalised against
their own thresholds like any other leaf.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scoring.aggregate import aggregate_scores
from scoring.normalise import normalise_by_type
from scoring.thresholds import ThresholdSet
from scoring.weights import equal_weights


def change_leaves(catalog: pd.DataFrame) -> pd.Index:
    """Return the ids of the engine-computed change leaves."""
    return catalog.index[catalog["source"] == "change"]


def base_scores(
    raw: pd.DataFrame,
    housing_types: pd.Series,
    thresholds: ThresholdSet,
    catalog: pd.DataFrame,
) -> pd.DataFrame:
    """Score every row on the non-change leaves with equal weights (for change quantities)."""
    base = raw.reindex(columns=catalog.index)
    base.loc[:, change_leaves(catalog)] = np.nan
    z = normalise_by_type(base, housing_types, thresholds, catalog)
    return aggregate_scores(z, catalog, equal_weights(catalog))


def change_values(
    raw: pd.DataFrame, base: pd.DataFrame, catalog: pd.DataFrame, periods: Sequence[str]
) -> pd.DataFrame:
    """Return change leaves for (period, compound_id) rows of ``raw``, from the 2nd period on.

    ``raw`` and ``base`` are indexed by (period, compound_id); ``periods`` is the time order.
    """
    leaves = change_leaves(catalog)
    quantities = pd.DataFrame(index=raw.index)
    for leaf in leaves:
        kind, _, name = str(catalog.at[leaf, "change_of"]).partition(":")
        source = raw if kind == "indicator" else base
        quantities[leaf] = source[name] if name in source.columns else np.nan
    previous = dict(zip(periods[1:], periods[:-1], strict=True))
    current = quantities[quantities.index.get_level_values("period").isin(list(previous))]
    prev_index = pd.MultiIndex.from_arrays(
        [
            [previous[p] for p in current.index.get_level_values("period")],
            current.index.get_level_values("compound_id"),
        ],
        names=["period", "compound_id"],
    )
    before = quantities.reindex(prev_index).to_numpy(dtype=float)
    diff = current.to_numpy(dtype=float) - before
    return pd.DataFrame(diff, index=current.index, columns=leaves)
