"""Build a threshold set from history: sample each type, average, take extended min and max.

For each housing type (independently: a type's thresholds never depend on another type's
compounds):

1. Sample: ``sample="auto"`` draws ``cochran_sample_size(N)`` of the type's N compounds with a
   generator seeded by (seed, type); ``sample="all"`` takes every compound.
2. Baseline: each sampled compound's value of each indicator is the simple moving average of its
   last three observations in the history (fewer if it has fewer).
3. Bounds: the sample's min and max of the baselines, extended outward (see ``thresholds``).

Change leaves (能力进步 / 自我成长) are calibrated the same way in a second pass: the history is
first scored with the non-change thresholds to get dimension and sub-index scores for every
period, their period-to-period changes are computed, and those changes are sampled, averaged and
bounded like the raw indicators (with the same sample of compounds).
"""

from __future__ import annotations

import pandas as pd

from scoring.progress import base_scores, change_leaves, change_values
from scoring.sampling import cochran_sample_size, sample_compounds
from scoring.thresholds import TABLE_COLUMNS, ThresholdSet, threshold_bounds
from scoring.values import housing_types_of, sort_periods, wide_values

SAMPLE_MODES: tuple[str, ...] = ("auto", "all")


def build_thresholds(
    values: pd.DataFrame,
    catalog: pd.DataFrame,
    *,
    sample: str = "auto",
    seed: int = 0,
    extension: str = "range",
    extend: float = 0.10,
    sma_periods: int = 3,
    confidence: float = 0.95,
    margin: float = 0.10,
) -> ThresholdSet:
    """Return thresholds for every housing type and leaf from validated long-format history."""
    if sample not in SAMPLE_MODES:
        raise ValueError(f"unknown sample mode '{sample}' (use {', '.join(SAMPLE_MODES)})")
    types = housing_types_of(values)
    samples: dict[str, tuple[str, ...]] = {}
    population: dict[str, int] = {}
    for housing_type, members in types.groupby(types, sort=True):
        population[str(housing_type)] = len(members)
        size = cochran_sample_size(len(members), confidence=confidence, margin=margin)
        samples[str(housing_type)] = tuple(
            sample_compounds(
                members.index,
                housing_type=str(housing_type),
                size=size if sample == "auto" else None,
                seed=seed,
            )
        )
    params = {
        "sample": sample,
        "seed": seed,
        "extension": extension,
        "extend": extend,
        "sma_periods": sma_periods,
        "confidence": confidence,
        "margin": margin,
        "periods": sort_periods(values["period"]),
        "indicators": list(catalog.index),
    }
    sampled = [c for ids in samples.values() for c in ids]
    history = values[values["compound_id"].isin(sampled)]
    base = _table(
        _baseline(history, sma_periods), types, samples, population, catalog, extension, extend
    )
    base_set = ThresholdSet.create(base, params, samples)
    changes = _change_history(history, types, base_set, catalog)
    change_table = _table(
        _baseline(changes, sma_periods), types, samples, population, catalog, extension, extend
    )
    # Both tables list every type x every leaf in the same order: take the change leaves' rows
    # from the second pass and all other rows from the first.
    is_change = base["indicator_id"].isin(change_leaves(catalog)).to_numpy()
    table = base.copy()
    table.loc[is_change] = change_table.loc[is_change]
    return ThresholdSet.create(table, params, samples)


def _baseline(history: pd.DataFrame, sma_periods: int) -> pd.DataFrame:
    """Return each (compound, indicator)'s mean of its last ``sma_periods`` observations."""
    if history.empty:
        return pd.DataFrame(columns=["compound_id", "indicator_id", "value"])
    order = {p: i for i, p in enumerate(sort_periods(history["period"]))}
    ordered = history.assign(_order=history["period"].map(order)).sort_values("_order")
    recent = ordered.groupby(["compound_id", "indicator_id"], sort=False).tail(sma_periods)
    return recent.groupby(["compound_id", "indicator_id"], as_index=False)["value"].mean()


def _table(
    baseline: pd.DataFrame,
    types: pd.Series,
    samples: dict[str, tuple[str, ...]],
    population: dict[str, int],
    catalog: pd.DataFrame,
    extension: str,
    extend: float,
) -> pd.DataFrame:
    """Return the threshold rows (every type x every leaf) from the sample baselines."""
    with_type = baseline.assign(housing_type=baseline["compound_id"].map(types))
    stats = with_type.groupby(["housing_type", "indicator_id"])["value"].agg(
        ["min", "max", "count"]
    )
    parts = []
    for housing_type, members in samples.items():
        frame = pd.DataFrame(index=catalog.index)
        if housing_type in stats.index.get_level_values(0):
            frame = frame.join(stats.loc[housing_type])
        else:
            frame = frame.assign(min=float("nan"), max=float("nan"), count=0)
        bounds = threshold_bounds(
            frame["min"], frame["max"], catalog["bounds"], extension=extension, extend=extend
        )
        parts.append(
            pd.DataFrame(
                {
                    "housing_type": housing_type,
                    "indicator_id": catalog.index,
                    "lower": bounds["lower"].to_numpy(),
                    "upper": bounds["upper"].to_numpy(),
                    "sample_min": frame["min"].to_numpy(dtype=float),
                    "sample_max": frame["max"].to_numpy(dtype=float),
                    "n_population": population[housing_type],
                    "n_sample": len(members),
                    "n_observed": frame["count"].fillna(0).to_numpy(dtype=int),
                    "rule": bounds["rule"].to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True).loc[:, list(TABLE_COLUMNS)]


def _change_history(
    history: pd.DataFrame, types: pd.Series, base_set: ThresholdSet, catalog: pd.DataFrame
) -> pd.DataFrame:
    """Return the sampled compounds' change values (long format), from the 2nd period on."""
    periods = sort_periods(history["period"])
    if len(periods) < 2:
        return pd.DataFrame(columns=["compound_id", "indicator_id", "period", "value"])
    raw = wide_values(history, periods, catalog.index)
    base = base_scores(raw, types, base_set, catalog)
    changes = change_values(raw, base, catalog, periods)
    changes.columns.name = "indicator_id"
    long = changes.stack().rename("value").reset_index()
    return long[long["value"].notna()]
