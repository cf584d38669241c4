"""Per-score explanation: which leaves pull a compound down or lift it, against its type's median.

A leaf's effect is ``points_per_z x (Z - median Z of the compound's type)``: the points of the
total the compound gains or loses on that leaf compared with a typical compound of its type,
given how much one unit of Z is worth in its total (see ``aggregate.effective_points``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXPLANATION_COLUMNS: tuple[str, ...] = (
    "compound_id",
    "kind",
    "position",
    "indicator_id",
    "z",
    "type_median_z",
    "points",
)


def explain_against_median(
    z: pd.DataFrame,
    points_per_z: pd.DataFrame,
    housing_types: pd.Series,
    *,
    top: int = 3,
) -> pd.DataFrame:
    """Return the ``top`` leaves that pull each compound down most and lift it most.

    One row per (compound, kind, position): ``kind`` is ``drag`` (points < 0, most negative
    first) or ``lift`` (points > 0, largest first). A compound with fewer than ``top`` leaves
    below (above) its type's median gets fewer rows; missing leaves are never listed.
    """
    row_types = housing_types.reindex(z.index)
    medians = z.groupby(row_types.to_numpy(), sort=False).transform("median")
    gap = (z - medians) * points_per_z
    long = pd.DataFrame(
        {
            "compound_id": np.repeat(z.index.to_numpy(), z.shape[1]),
            "indicator_id": np.tile(z.columns.to_numpy(), z.shape[0]),
            "z": z.to_numpy().ravel(),
            "type_median_z": medians.to_numpy().ravel(),
            "points": gap.to_numpy().ravel(),
        }
    )
    drag = _top(long[long["points"] < 0], top, ascending=True).assign(kind="drag")
    lift = _top(long[long["points"] > 0], top, ascending=False).assign(kind="lift")
    out = pd.concat([drag, lift], ignore_index=True)
    out = out.sort_values(["compound_id", "kind", "position"], kind="stable", ignore_index=True)
    return out.loc[:, list(EXPLANATION_COLUMNS)]


def _top(frame: pd.DataFrame, top: int, *, ascending: bool) -> pd.DataFrame:
    ordered = frame.sort_values(
        ["compound_id", "points"], ascending=[True, ascending], kind="stable"
    )
    best = ordered.groupby("compound_id", sort=False).head(top)
    return best.assign(position=best.groupby("compound_id", sort=False).cumcount() + 1)
