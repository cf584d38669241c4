"""Benchmark the index at Pudong scale: 3,179 compounds in four housing types, every indicator.

Run ``python -m benchmarks.bench_scoring`` (or ``python benchmarks/bench_scoring.py``) from the
repository root. Times are reported in seconds and as a ratio to a baseline measured in the same
run (building the synthetic long-format input frame), so results from different machines can be
compared. Writes ``benchmarks/results/scoring.json``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scoring.calibrate import build_thresholds  # noqa: E402
from scoring.catalog import load_catalog  # noqa: E402
from scoring.pipeline import compute_index  # noqa: E402
from scoring.snapshot import score_snapshot  # noqa: E402
from scoring.uncertainty import rank_intervals  # noqa: E402

# 3,179 小区 (DESIGN §2); 商品房 1,590 as in the paper, the rest split among the other types.
TYPES = {"commercial": 1590, "old_public": 1000, "resettlement": 400, "affordable": 189}
WEEKS = ["2026-W01", "2026-W02", "2026-W03", "2026-W04"]
RESULTS = ROOT / "benchmarks" / "results" / "scoring.json"


def build_values(catalog: pd.DataFrame, weeks: list[str], seed: int = 0) -> pd.DataFrame:
    """Return synthetic long-format values for every compound, input leaf and week."""
    rng = np.random.default_rng(seed)
    leaves = catalog.index[catalog["source"] != "change"].to_numpy()
    ids = np.concatenate([[f"{kind}-{i:04d}" for i in range(n)] for kind, n in TYPES.items()])
    kinds = np.concatenate([[kind] * n for kind, n in TYPES.items()])
    n_rows = len(ids) * len(leaves) * len(weeks)
    return pd.DataFrame(
        {
            "compound_id": np.tile(np.repeat(ids, len(leaves)), len(weeks)),
            "housing_type": np.tile(np.repeat(kinds, len(leaves)), len(weeks)),
            "indicator_id": np.tile(leaves, len(ids) * len(weeks)),
            "period": np.repeat(weeks, len(ids) * len(leaves)),
            "value": rng.gamma(2.0, 3.0, size=n_rows).round(2),
        }
    )


def timed(label: str, func: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Return the best of ``repeat`` wall-clock times and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<48} {best:8.3f} s")
    return best, result


def main() -> dict[str, Any]:
    catalog = load_catalog()
    baseline, values = timed(
        "baseline: build input frame (4 weeks)", lambda: build_values(catalog, WEEKS)
    )
    one_week = values[values["period"] == WEEKS[-1]]
    history = values[values["period"] != WEEKS[-1]]
    t_build, thresholds = timed(
        "build thresholds (3 weeks of history)", lambda: build_thresholds(history, catalog)
    )
    t_snapshot, snapshot = timed(
        "score one snapshot (frozen thresholds)",
        lambda: score_snapshot(values, thresholds, catalog),
    )
    t_single, _ = timed(
        "compute_index, one week only, no draws",
        lambda: compute_index(one_week, catalog, draws=0),
    )
    alternative = build_thresholds(history, catalog, extension="multiplicative")
    other = score_snapshot(values, alternative, catalog)
    t_mc, _ = timed(
        "rank uncertainty, 1,000 draws",
        lambda: rank_intervals([snapshot, other], catalog, draws=1000),
        repeat=1,
    )
    report = {
        "compounds": int(sum(TYPES.values())),
        "input_leaves": int((catalog["source"] != "change").sum()),
        "rows_per_week": int(len(one_week)),
        "seconds": {
            "baseline_build_frame": baseline,
            "build_thresholds": t_build,
            "score_snapshot": t_snapshot,
            "compute_index_one_week": t_single,
            "rank_uncertainty_1000": t_mc,
        },
        "ratio_to_baseline": {
            "score_snapshot": t_snapshot / baseline,
            "compute_index_one_week": t_single / baseline,
            "rank_uncertainty_1000": t_mc / baseline,
        },
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "machine": platform.machine(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"ratios to baseline: {json.dumps(report['ratio_to_baseline'])}")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return report


if __name__ == "__main__":
    main()
