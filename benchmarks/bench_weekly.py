"""Benchmark the weekly index at Pudong scale, from records in SQLite to the stored snapshot.

Run ``python -m benchmarks.bench_weekly`` from the repository root. Writes
``benchmarks/results/weekly.json``.

The district is ``benchmarks/district.py`` (3,179 小区 in four housing types, about 62,000
楼组); 200,000 issues and 1,000,000 activities over the 13 weeks before the digest, and four
weeks of check-ins, are bulk-inserted. Then, in a fresh child process (so its peak memory is the
step's, not the bulk insert's), the weekly pipeline's own functions (``bot.digest.compute``) run:

- **baseline**: reading the records the windows reach (``read_week_records``) — the I/O alone;
- **compute**: deriving the indicators from those frames and scoring the week with frozen
  thresholds (``derive_indicator_history`` + ``score_snapshot``);
- **whole step, first week**: ``score_week`` with no thresholds yet (it builds them from four
  weeks, scores, runs the pipeline's 200-draw rank ranges, stores 3,179 snapshot rows);
- **whole step, a usual Monday**: ``score_week`` for the next week, thresholds frozen;
- **rank uncertainty**: ``rank_intervals`` with 1,000 draws on that week's snapshot;
- **peak memory**: the child's maximum resident set size (``getrusage``), and what the
  process held before the step began.
"""

from __future__ import annotations

import json
import multiprocessing
import platform
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "weekly.json"
NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)  # Monday 09:00 Shanghai: the digest's hour
WEEKS = ("2026-W45", "2026-W46")  # scored in this order: first week, then a usual Monday
ISSUES, ACTIVITIES = 200_000, 1_000_000
TARGETS = {
    "compute_s": 2.0,
    "whole_step_s": 10.0,
    "peak_memory_mib": 1024.0,
    "monte_carlo_s": 60.0,
}


def step(url: str, out: Any) -> None:
    """The measured work, in a fresh process: send the figures back through ``out``."""
    from bot.digest.compute import read_week_records, score_week
    from bot.digest.weeks import weeks_ending
    from scoring import load_catalog, rank_intervals, score_snapshot
    from scoring.derive import derive_indicator_history
    from storage.db import Database
    from storage.snapshots import active_thresholds

    tz = ZoneInfo("Asia/Shanghai")
    catalog = load_catalog()
    database = Database(url)
    before_mib = _maxrss_mib()
    figures: dict[str, float] = {}

    def timed(name: str, work: Any) -> Any:
        start = time.perf_counter()
        result = work()
        figures[name] = time.perf_counter() - start
        return result

    first, usual = WEEKS
    timed("whole_step_first_week_s", lambda: score_week(database, week=first, now=NOW, tz=tz))
    timed("whole_step_s", lambda: score_week(database, week=usual, now=NOW, tz=tz))
    weeks = weeks_ending(usual, 3)
    frames = timed(
        "baseline_read_records_s",
        lambda: read_week_records(database, weeks=weeks, tz=tz, catalog=catalog),
    )
    values = timed(
        "derive_s",
        lambda: derive_indicator_history(
            compounds=frames.compounds,
            weeks=weeks,
            issues=frames.issues,
            activities=frames.activities,
            checkins=frames.checkins,
            catalog=catalog,
            tz=str(tz),
        ),
    )
    with database.read_session() as session:
        thresholds = active_thresholds(session)
    assert thresholds is not None
    snapshot = timed(
        "score_snapshot_s", lambda: score_snapshot(values, thresholds, catalog, period=usual)
    )
    figures["compute_s"] = figures["derive_s"] + figures["score_snapshot_s"]
    timed("monte_carlo_s", lambda: rank_intervals([snapshot], catalog, draws=1000))
    figures["rows_read"] = float(
        len(frames.issues) + len(frames.activities) + len(frames.checkins)
    )
    figures["memory_before_step_mib"] = before_mib
    figures["peak_memory_mib"] = _maxrss_mib()
    database.dispose()
    out.put(figures)


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main() -> dict[str, Any]:
    from benchmarks.district import add_scoring_records, build_district

    with tempfile.TemporaryDirectory(prefix="govbot-bench-") as folder:
        started = time.perf_counter()
        district = build_district(Path(folder) / "weekly.sqlite", now=NOW)
        add_scoring_records(
            district,
            issues=ISSUES,
            activities=ACTIVITIES,
            end=NOW,
            checkin_weeks=("2026-W43", "2026-W44", "2026-W45", "2026-W46"),
        )
        setup = time.perf_counter() - started
        print(f"district {district.counts()} and records stored in {setup:.1f} s")
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        child = context.Process(target=step, args=(district.url, queue))
        child.start()
        figures: dict[str, float] = queue.get()
        child.join()
    ratio = {
        name: figures[name] / figures["baseline_read_records_s"]
        for name in ("compute_s", "whole_step_s", "monte_carlo_s")
    }
    rows = [
        ("baseline: read the records (I/O)", "baseline_read_records_s", None),
        ("derive indicators", "derive_s", None),
        ("score the week (frozen thresholds)", "score_snapshot_s", None),
        ("compute = derive + score", "compute_s", "compute_s"),
        ("whole step, a usual Monday", "whole_step_s", "whole_step_s"),
        ("whole step, first week (thresholds)", "whole_step_first_week_s", None),
        ("rank uncertainty, 1,000 draws", "monte_carlo_s", "monte_carlo_s"),
    ]
    print(f"{'step':<40}{'seconds':>9}{'× read':>8}{'target':>9}")
    for label, key, target in rows:
        times = figures[key] / figures["baseline_read_records_s"]
        goal = f"< {TARGETS[target]:g}" if target else ""
        print(f"{label:<40}{figures[key]:>9.2f}{times:>8.1f}{goal:>9}")
    print(
        f"peak memory {figures['peak_memory_mib']:.0f} MiB (the process held "
        f"{figures['memory_before_step_mib']:.0f} MiB before the step); target < 1024 MiB"
    )
    result = {
        "compounds": len(district.compounds),
        "records": {"issues": ISSUES, "activities": ACTIVITIES, "rows_read": figures["rows_read"]},
        "setup_s": setup,
        "seconds": {k: v for k, v in figures.items() if k.endswith("_s")},
        "ratio_to_read": ratio,
        "memory_mib": {
            "peak": figures["peak_memory_mib"],
            "before_step": figures["memory_before_step_mib"],
        },
        "targets": TARGETS,
        "python": platform.python_version(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


if __name__ == "__main__":
    main()
