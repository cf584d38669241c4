"""`make bench`: run every benchmark in its own process and gather the results.

Each ``benchmarks/bench_<name>.py`` runs as ``python -m benchmarks.bench_<name>`` (a fresh
process, so one benchmark's memory and warm caches do not flatter the next) and writes
``benchmarks/results/<name>.json``. This runner collects them into
``benchmarks/results/latest.json`` with the machine they ran on and how long each benchmark
took, and ends with a table of those times and their total against ``BUDGET_SECONDS`` (the
issue asks for every benchmark in under 10 minutes). Benchmarks are never part of the test
suite, and report ratios against a baseline measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BUDGET_SECONDS = 600.0


def main(names: list[str]) -> int:
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    chosen = names or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    RESULTS.mkdir(exist_ok=True)
    load_at_start = _load_average()
    collected: dict[str, object] = {}
    times: dict[str, float] = {}
    failures = []
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        result_file = RESULTS / f"{name}.json"
        result_file.unlink(missing_ok=True)  # an old file must not pass for this run's
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", f"benchmarks.bench_{name}"], cwd=HERE.parent, check=False
        )
        elapsed = times[name] = round(time.perf_counter() - start, 2)
        # ``run_seconds`` last: a benchmark's own "seconds" (its phases) must not hide it.
        if done.returncode != 0 or not result_file.exists():
            failures.append(name)
            collected[name] = {"error": f"exit code {done.returncode}", "run_seconds": elapsed}
            continue
        collected[name] = {**json.loads(result_file.read_text()), "run_seconds": elapsed}
    total = sum(times.values())
    latest = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": load_at_start,
            "load_average_at_end": _load_average(),
        },
        "total_seconds": round(total, 1),
        "budget_seconds": BUDGET_SECONDS,
        "benchmarks": collected,
    }
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{'benchmark':<12}{'seconds':>9}  result")
    for name, seconds in times.items():
        print(f"{name:<12}{seconds:>9.1f}  {'failed' if name in failures else 'ok'}")
    verdict = "within" if total <= BUDGET_SECONDS else "OVER"
    print(f"{'total':<12}{total:>9.1f}  {verdict} the {BUDGET_SECONDS:.0f} s budget")
    print(f"\nresults: {RESULTS / 'latest.json'}")
    if failures:
        print(f"failed: {', '.join(failures)}")
    return 1 if failures else 0


def _load_average() -> list[float] | None:
    """1, 5 and 15-minute load averages: figures from a busy machine read differently."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
