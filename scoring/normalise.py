"""Min-max normalisation (无量纲化) against fixed thresholds, clipped to [0, 1]."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.thresholds import ThresholdSet


def normalise_minmax(
    values: pd.DataFrame,
    lower: pd.Series,
    upper: pd.Series,
    direction: pd.Series,
) -> pd.DataFrame:
    """Return Z for every cell of ``values`` (entities x indicators).

    positive: Z = (X - Xmin) / (Xmax - Xmin); negative: Z = (Xmax - X) / (Xmax - Xmin); both
    clipped to [0, 1] (the paper caps values above 1; we also floor below 0, since thresholds
    built from a sample can be exceeded either way).

    Where ``upper == lower`` (a degenerate threshold: the sample showed no variation) there is no
    range to divide by. Z is then a step around the common value c: 0.5 at c, 1 if better than c,
    0 if worse. NaN values or thresholds give NaN (the leaf is missing and drops out later).
    """
    columns = values.columns
    x = values.to_numpy(dtype=float)
    lo = lower.reindex(columns).to_numpy(dtype=float)
    hi = upper.reindex(columns).to_numpy(dtype=float)
    sign = np.where(direction.reindex(columns).to_numpy() == "negative", -1.0, 1.0)
    width = hi - lo
    degenerate = width == 0
    safe_width = np.where(degenerate, 1.0, width)
    z_pos = (x - lo) / safe_width
    z = np.where(sign > 0, z_pos, 1.0 - z_pos)
    step = 0.5 + 0.5 * np.sign(sign * (x - lo))
    z = np.where(degenerate, step, z)
    z = np.clip(z, 0.0, 1.0)
    return pd.DataFrame(z, index=values.index, columns=columns)


def normalise_by_type(
    values: pd.DataFrame,
    housing_types: pd.Series,
    thresholds: ThresholdSet,
    catalog: pd.DataFrame,
) -> pd.DataFrame:
    """Normalise each row against its own housing type's thresholds.

    ``values`` is indexed by compound_id, or by a MultiIndex with a ``compound_id`` level;
    ``housing_types`` maps compound_id to type. A type the threshold set does not know gets NaN.
    """
    compounds = values.index.get_level_values("compound_id")
    row_types = housing_types.reindex(compounds).to_numpy()
    out = pd.DataFrame(np.nan, index=values.index, columns=values.columns)
    direction = catalog["direction"]
    for housing_type in pd.unique(row_types):
        rows = row_types == housing_type
        table = thresholds.for_type(str(housing_type))
        if table.empty:
            continue
        z = normalise_minmax(values.loc[rows], table["lower"], table["upper"], direction)
        out.loc[rows] = z.to_numpy()
    return out
