"""`make bench`: run every benchmark in its own process and gather the results.

Each ``benchmarks/bench_<name>.py`` runs as ``python -m benchmarks.bench_<name>`` (a fresh
process, so one benchmark's memory and warm caches do not flatter the next) and writes
``benchmarks/results/<name>.json``. This runner collects them into
``benchmarks/results/latest.json`` with the machine they ran on. Benchmarks are never part of
the test suite, and report ratios against a baseline measured in the same run.
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


def main(names: list[str]) -> int:
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    chosen = names or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    RESULTS.mkdir(exist_ok=True)
    collected: dict[str, object] = {}
    failures = []
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", f"benchmarks.bench_{name}"], cwd=HERE.parent, check=False
        )
        elapsed = time.perf_counter() - start
        result_file = RESULTS / f"{name}.json"
        if done.returncode != 0 or not result_file.exists():
            failures.append(name)
            collected[name] = {"error": f"exit code {done.returncode}", "seconds": elapsed}
            continue
        collected[name] = {"seconds": elapsed, **json.loads(result_file.read_text())}
    latest = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "benchmarks": collected,
    }
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults: {RESULTS / 'latest.json'}")
    if failures:
        print(f"failed: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
