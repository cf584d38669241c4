"""Score one period against a frozen threshold set: the weekly snapshot.

``score_snapshot`` is what the weekly job and digests call. It needs the period being scored and,
for the change leaves and the "change since last period" columns, up to two periods before it
in the same long-format values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.aggregate import aggregate_scores, effective_points, rank_within_type
from scoring.catalog import load_catalog
from scoring.explain import explain_against_median
from scoring.normalise import normalise_by_type
from scoring.progress import base_scores, change_leaves, change_values
from scoring.structure import DIMENSIONS, SCORE_COLUMNS
from scoring.thresholds import ThresholdSet
from scoring.values import housing_types_of, sort_periods, validate_values, wide_values
from scoring.weights import leaf_weights

DELTA_COLUMNS: tuple[str, ...] = tuple(f"delta_{name}" for name in ("total", *DIMENSIONS))
LEAF_COLUMNS: tuple[str, ...] = (
    "compound_id",
    "housing_type",
    "indicator_id",
    "value",
    "z",
    "points",
)


@dataclass(frozen=True)
class Snapshot:
    """One period's index for every compound that has data in that period.

    - ``scores``: indexed by compound_id; housing_type, period, total (0-100), the four
      dimensions (0-25), the eight sub-indices (0-1), coverage (0-1), rank_in_type, and
      delta_total / delta_<dimension>: change since the previous period, scored with the same
      thresholds and weights (NaN when the compound has no score for the previous period).
    - ``leaves``: long; compound_id, housing_type, indicator_id, value (raw, or the change for
      change leaves), z, points (the leaf's contribution to the total; they sum to it).
    - ``explanation``: long; compound_id, kind (drag|lift), position (1-3), indicator_id, z,
      type_median_z, points (gain or loss against the type's median).
    - ``weights``: housing_type x indicator, in points (25 per dimension).
    - ``z``: compound_id x indicator, the normalised values (for rank uncertainty).
    """

    period: str
    previous_period: str | None
    thresholds_version: str
    weighting: str
    scores: pd.DataFrame
    leaves: pd.DataFrame
    explanation: pd.DataFrame
    weights: pd.DataFrame
    z: pd.DataFrame


def score_snapshot(
    values: pd.DataFrame,
    thresholds: ThresholdSet,
    catalog: pd.DataFrame | None = None,
    *,
    period: str | None = None,
    weights: str = "equal",
) -> Snapshot:
    """Score ``period`` (default: the latest in ``values``) against frozen thresholds.

    ``values`` is long format (compound_id, housing_type, indicator_id, period, value); it is
    validated here and never modified. ``weights`` is equal (the paper's), entropy or critic;
    objective weights are computed per housing type on that period's Z.
    """
    catalog = load_catalog() if catalog is None else catalog
    values = validate_values(values, catalog, source="<values frame>")
    return score_validated(values, thresholds, catalog, period=period, weights=weights)


def score_validated(
    values: pd.DataFrame,
    thresholds: ThresholdSet,
    catalog: pd.DataFrame,
    *,
    period: str | None = None,
    weights: str = "equal",
) -> Snapshot:
    """``score_snapshot`` for values that ``validate_values`` has already checked."""
    periods = sort_periods(values["period"])
    if not periods:
        raise ValueError("no values to score")
    period = periods[-1] if period is None else str(period)
    if period not in periods:
        raise ValueError(f"period '{period}' is not in the values")
    at = periods.index(period)
    needed = periods[max(0, at - 2) : at + 1]
    previous = needed[-2] if len(needed) > 1 else None
    types = housing_types_of(values)
    z_all, raw_all = _normalised_periods(values, needed, types, thresholds, catalog)
    z_now = z_all.xs(period, level="period")
    type_weights = {
        str(kind): leaf_weights(catalog, weights, z_now[types.reindex(z_now.index) == kind])
        for kind in pd.unique(types.reindex(z_now.index))
    }
    scores = _scores(z_now, types, type_weights, catalog).assign(period=period)
    scores["rank_in_type"] = rank_within_type(scores)
    scores = _with_deltas(scores, z_all, previous, types, type_weights, catalog)
    points_per_z = _points_per_z(z_now, types, type_weights, catalog)
    return Snapshot(
        period=period,
        previous_period=previous,
        thresholds_version=thresholds.version,
        weighting=weights,
        scores=scores,
        leaves=_leaves(raw_all.xs(period, level="period"), z_now, points_per_z, types),
        explanation=explain_against_median(z_now, points_per_z, types),
        weights=pd.DataFrame(type_weights).T.rename_axis("housing_type"),
        z=z_now,
    )


def _normalised_periods(
    values: pd.DataFrame,
    periods: list[str],
    types: pd.Series,
    thresholds: ThresholdSet,
    catalog: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return Z and raw values (with change leaves filled in) for (period, compound) rows."""
    raw = wide_values(values, periods, catalog.index)
    base = base_scores(raw, types, thresholds, catalog)
    changes = change_values(raw, base, catalog, periods).reindex(raw.index)
    raw = raw.assign(**{leaf: changes[leaf] for leaf in change_leaves(catalog)})
    return normalise_by_type(raw, types, thresholds, catalog), raw


def _scores(
    z: pd.DataFrame, types: pd.Series, type_weights: dict[str, pd.Series], catalog: pd.DataFrame
) -> pd.DataFrame:
    row_types = types.reindex(z.index)
    parts = [
        aggregate_scores(z[row_types == kind], catalog, w).assign(housing_type=kind)
        for kind, w in type_weights.items()
    ]
    scores = pd.concat(parts).reindex(z.index) if parts else pd.DataFrame(index=z.index)
    return scores.loc[:, ["housing_type", *SCORE_COLUMNS]].rename_axis("compound_id")


def _with_deltas(
    scores: pd.DataFrame,
    z_all: pd.DataFrame,
    previous: str | None,
    types: pd.Series,
    type_weights: dict[str, pd.Series],
    catalog: pd.DataFrame,
) -> pd.DataFrame:
    """Add delta_total and delta_<dimension>: change since the previous period."""
    scores = scores.loc[:, ["housing_type", "period", *SCORE_COLUMNS, "rank_in_type"]]
    if previous is None:
        return scores.assign(**dict.fromkeys(DELTA_COLUMNS, np.nan))
    z_prev = z_all.xs(previous, level="period")
    z_prev = z_prev[types.reindex(z_prev.index).isin(list(type_weights))]
    before = _scores(z_prev, types, type_weights, catalog).reindex(scores.index)
    for name in ("total", *DIMENSIONS):
        scores[f"delta_{name}"] = scores[name] - before[name]
    return scores


def _points_per_z(
    z: pd.DataFrame, types: pd.Series, type_weights: dict[str, pd.Series], catalog: pd.DataFrame
) -> pd.DataFrame:
    row_types = types.reindex(z.index)
    parts = [
        effective_points(z[row_types == kind], catalog, w) for kind, w in type_weights.items()
    ]
    return pd.concat(parts).reindex(z.index) if parts else z * 0.0


def _leaves(
    raw: pd.DataFrame, z: pd.DataFrame, points_per_z: pd.DataFrame, types: pd.Series
) -> pd.DataFrame:
    raw = raw.reindex(index=z.index, columns=z.columns)
    long = pd.DataFrame(
        {
            "compound_id": np.repeat(z.index.to_numpy(), z.shape[1]),
            "housing_type": np.repeat(types.reindex(z.index).to_numpy(), z.shape[1]),
            "indicator_id": np.tile(z.columns.to_numpy(), z.shape[0]),
            "value": raw.to_numpy(dtype=float).ravel(),
            "z": z.to_numpy(dtype=float).ravel(),
            "points": (z * points_per_z).to_numpy(dtype=float).ravel(),
        }
    )
    return long[long["value"].notna()].reset_index(drop=True)
