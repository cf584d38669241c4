"""Benchmark the weekly index at Pudong scale, from records in SQLite to the stored snapshot.

Run ``python -m benchmarks.bench_weekly`` from the repository root. Writes
``benchmarks/results/weekly.json``. While iterating, ``--records 0.2`` stores a fifth of the
records (the district stays whole), and ``--keep PATH`` keeps the built database at ``PATH`` and,
on later runs, measures a fresh copy of it instead of building it again.

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

import argparse
import json
import multiprocessing
import platform
import resource
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing
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
        start, cpu = time.perf_counter(), time.process_time()
        result = work()
        figures[name] = time.perf_counter() - start
        figures[name.removesuffix("_s") + "_cpu"] = time.process_time() - cpu
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
    figures["compute_cpu"] = figures["derive_cpu"] + figures["score_snapshot_cpu"]
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


def main(argv: list[str] | None = None) -> dict[str, Any]:
    options = _options(argv)
    issues = round(ISSUES * options.records)
    activities = round(ACTIVITIES * options.records)
    with tempfile.TemporaryDirectory(prefix="govbot-bench-") as folder:
        started = time.perf_counter()
        path = Path(folder) / "weekly.sqlite"
        compounds = _database(path, options.keep, issues=issues, activities=activities)
        setup = time.perf_counter() - started
        print(f"{compounds} compounds, {issues:,} issues, {activities:,} activities stored "
              f"in {setup:.1f} s")  # fmt: skip
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        child = context.Process(target=step, args=(f"sqlite:///{path}", queue))
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
    print(f"{'step':<40}{'seconds':>9}{'× read':>8}{'target':>9}{'CPU s':>8}")
    for label, key, target in rows:
        times = figures[key] / figures["baseline_read_records_s"]
        goal = f"< {TARGETS[target]:g}" if target else ""
        cpu = figures[key.removesuffix("_s") + "_cpu"]
        print(f"{label:<40}{figures[key]:>9.2f}{times:>8.1f}{goal:>9}{cpu:>8.2f}")
    print(
        f"peak memory {figures['peak_memory_mib']:.0f} MiB (the process held "
        f"{figures['memory_before_step_mib']:.0f} MiB before the step); target < 1024 MiB"
    )
    result = {
        "compounds": compounds,
        "records": {"issues": issues, "activities": activities, "rows_read": figures["rows_read"]},
        "setup_s": setup,
        "seconds": {k: v for k, v in figures.items() if k.endswith("_s")},
        "cpu_seconds": {k: v for k, v in figures.items() if k.endswith("_cpu")},
        "ratio_to_read": ratio,
        "memory_mib": {
            "peak": figures["peak_memory_mib"],
            "before_step": figures["memory_before_step_mib"],
        },
        "targets": TARGETS,
        "python": platform.python_version(),
    }
    name = "weekly.json" if options.records == 1 else f"weekly-{options.records:g}.json"
    out = RESULTS.with_name(name)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records", type=float, default=1.0, help="share of the 200,000 issues and 1,000,000 "
        "activities to store (default 1: Pudong scale)"
    )  # fmt: skip
    parser.add_argument(
        "--keep", type=Path, help="keep the built database here and reuse it on later runs"
    )
    return parser.parse_args(argv)


def _database(path: Path, keep: Path | None, *, issues: int, activities: int) -> int:
    """Build the district and its records at ``path`` (or copy a kept build); return its size."""
    from benchmarks.district import add_scoring_records, build_district
    from storage.schema import upgrade_database

    if keep is not None and keep.exists():
        shutil.copyfile(keep, path)
        upgrade_database(f"sqlite:///{path}")  # a build kept from before a new migration
        with closing(sqlite3.connect(path)) as db:
            query = "SELECT count(*) FROM unit WHERE kind = 'compound'"
            (compounds,) = db.execute(query).fetchone()
        return int(compounds)
    district = build_district(path, now=NOW)
    add_scoring_records(
        district,
        issues=issues,
        activities=activities,
        end=NOW,
        checkin_weeks=("2026-W43", "2026-W44", "2026-W45", "2026-W46"),
    )
    if keep is not None:
        with closing(sqlite3.connect(path)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(path, keep)
    return len(district.compounds)


if __name__ == "__main__":
    main()
