"""The community governance index (社区治理指数): pure pandas, DataFrames in and out.

Public entry points:

- ``derive_indicators``: bot record frames -> long-format indicator values for one week;
- ``build_thresholds``: long-format history -> a frozen, versioned ``ThresholdSet``;
- ``score_snapshot``: values + thresholds -> a ``Snapshot`` (scores, leaves, explanation);
- ``rank_intervals``: snapshots -> Monte Carlo rank intervals within type;
- ``compute_index`` / ``compute_index_file``: the whole computation (``govbot index compute``).
"""

from scoring.calibrate import build_thresholds
from scoring.catalog import load_catalog
from scoring.cli import ComputeSummary, compute_index_file
from scoring.errors import ScoringInputError
from scoring.pipeline import IndexResult, compute_index
from scoring.sampling import cochran_sample_size
from scoring.snapshot import Snapshot, score_snapshot
from scoring.thresholds import ThresholdSet
from scoring.uncertainty import rank_intervals
from scoring.values import validate_values

__all__ = [
    "ComputeSummary",
    "IndexResult",
    "ScoringInputError",
    "Snapshot",
    "ThresholdSet",
    "build_thresholds",
    "cochran_sample_size",
    "compute_index",
    "compute_index_file",
    "load_catalog",
    "rank_intervals",
    "score_snapshot",
    "validate_values",
]
