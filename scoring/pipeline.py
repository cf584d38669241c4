"""The whole computation on one long-format values frame: calibrate, score, explain, rank."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.calibrate import build_thresholds
from scoring.errors import ScoringInputError
from scoring.snapshot import Snapshot, score_validated
from scoring.structure import SCORE_COLUMNS
from scoring.thresholds import EXTENSIONS, ThresholdSet
from scoring.uncertainty import rank_intervals
from scoring.values import sort_periods, validate_values

OUTPUT_COLUMNS: tuple[str, ...] = (
    "compound_id",
    "housing_type",
    "period",
    *SCORE_COLUMNS,
    "rank_in_type",
    "rank_low",
    "rank_high",
)


@dataclass(frozen=True)
class IndexResult:
    """A scored period: the published table, the snapshot behind it and its thresholds."""

    table: pd.DataFrame
    snapshot: Snapshot
    thresholds: ThresholdSet


def compute_index(
    values: pd.DataFrame,
    catalog: pd.DataFrame,
    *,
    weights: str = "equal",
    sample: str = "auto",
    seed: int = 0,
    extension: str = "range",
    draws: int = 1000,
    source: str = "<values frame>",
) -> IndexResult:
    """Score the latest period of values against thresholds built from the earlier ones.

    With a single period, thresholds are built from that period. Rank intervals come from
    ``draws`` Monte Carlo draws over both threshold readings and the three weighting schemes
    (``draws=0`` skips them; rank_low and rank_high then equal rank_in_type). ``values`` is
    validated here; ``source`` names it in a ``ScoringInputError``.
    """
    values = validate_values(values, catalog, source=source)
    if values.empty:
        raise ScoringInputError("the values file has no rows", file=source)
    periods = sort_periods(values["period"])
    latest = periods[-1]
    history = values[values["period"] != latest] if len(periods) > 1 else values
    readings = [extension, *(e for e in EXTENSIONS if e != extension)]
    sets = [
        build_thresholds(history, catalog, sample=sample, seed=seed, extension=e) for e in readings
    ]
    snapshots = [score_validated(values, s, catalog, period=latest, weights=weights) for s in sets]
    main = snapshots[0]
    table = main.scores.reset_index()
    nominal = table["rank_in_type"].astype(float).to_numpy()
    if draws > 0:
        intervals = rank_intervals(snapshots, catalog, draws=draws, seed=seed).reindex(
            main.scores.index
        )
        low = np.fmin(intervals["rank_low"].to_numpy(dtype=float), nominal)
        high = np.fmax(intervals["rank_high"].to_numpy(dtype=float), nominal)
    else:
        low, high = nominal, nominal
    table["rank_low"] = pd.array(low, dtype="Float64").round().astype("Int64")
    table["rank_high"] = pd.array(high, dtype="Float64").round().astype("Int64")
    table = table.loc[:, list(OUTPUT_COLUMNS)]
    return IndexResult(table=table, snapshot=main, thresholds=sets[0])
