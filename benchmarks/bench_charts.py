"""Benchmark the digest charts: median render time per chart, and one committee's weekly set.

Run ``python -m benchmarks.bench_charts`` from the repository root. Writes
``benchmarks/results/charts.json``.

The charts are ``bot.digest.charts``' own functions, fed inputs of the sizes a Pudong week has:
the four dimensions this week and last; a 12-week trend with one line per compound of a 居委
(Pudong averages 2.3 小区 per 居委; three here) and one per housing type for a town; a ranking
of 12 compounds in each of the four housing types. Baseline in the same run: rendering an empty
figure of the same size to PNG (what matplotlib costs before govbot draws anything).

One committee's weekly set: what ``bot.digest.fanout.digest_messages`` renders for a 居委 and
the chats under it — its committee chat's trend chart, and a dimensions chart for each bound
residents chat (it renders once per (audience, unit), so a 楼组 chat gets its own render of its
小区's chart). Counted for three 小区 with 20 楼组 chats each, and for the 小区 chats alone.
"""

from __future__ import annotations

import io
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from bot.digest import charts

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "charts.json"
REPEAT = 9
PARALLEL_CHARTS = 24
COMPOUNDS_PER_COMMITTEE, BUILDING_CHATS_PER_COMPOUND = 3, 20
WEEKS = [f"W{n}" for n in range(35, 47)]


def dimensions_chart(compound: str = "阳光花苑") -> charts.DimensionChart:
    return charts.DimensionChart(
        title=f"{compound} 本周治理指数",
        labels=["管理精细", "社群活力", "居民满意", "能力进步"],
        current=[18.2, 14.5, 20.1, 11.0],
        previous=[17.9, 15.2, 19.4, 10.1],
        current_label="本周",
        previous_label="上周",
    )


def committee_set() -> tuple[float, int]:
    """One committee's weekly charts as the fan-out draws them: a ``ChartCache`` per run,
    asked for the trend once and for each 小区's chart by the 小区 chat and every 楼组 chat."""
    cache = charts.ChartCache()
    start = time.perf_counter()
    committee_trend(cache)
    for n in range(COMPOUNDS_PER_COMMITTEE):
        for _chat in range(1 + BUILDING_CHATS_PER_COMPOUND):
            cache.png(dimensions_chart(f"小区{n}"))
    return time.perf_counter() - start, cache.drawn


def dimensions() -> bytes:
    return charts.dimensions_png(
        charts.DimensionChart(
            title="阳光花苑 本周治理指数",
            labels=["管理精细", "社群活力", "居民满意", "能力进步"],
            current=[18.2, 14.5, 20.1, 11.0],
            previous=[17.9, 15.2, 19.4, 10.1],
            current_label="本周",
            previous_label="上周",
        )
    )


def committee_trend(cache: charts.ChartCache | None = None) -> bytes:
    series = {
        f"{name}小区": [60 + (i * 7 + k * 3) % 15 for k in range(len(WEEKS))]
        for i, name in enumerate(["阳光", "春江", "翠竹"])
    }
    chart = charts.TrendChart(
        title="东城居委 近12周", periods=WEEKS, series=series, y_label="总分"
    )
    return (cache or charts.ChartCache()).png(chart)


def town_trend() -> bytes:
    series = {
        kind: [55 + (i * 5 + k) % 12 for k in range(len(WEEKS))]
        for i, kind in enumerate(["商品房", "老旧公房", "动迁房", "保障性住房"])
    }
    return charts.trend_png(
        charts.TrendChart(title="花木街道 近12周", periods=WEEKS, series=series, y_label="总分")
    )


def ranking() -> bytes:
    groups = [
        charts.RankingGroup(
            title=kind,
            names=[f"{kind}{n:02d}小区" for n in range(12)],
            totals=[80 - n * 1.5 for n in range(12)],
            ranges=[f"{n + 1}–{n + 3}" for n in range(12)],
        )
        for kind in ["商品房", "老旧公房", "动迁房", "保障性住房"]
    ]
    return charts.ranking_png(charts.RankingChart(title="本周排名", groups=groups, x_label="总分"))


def week_in_parallel() -> tuple[float, float, int]:
    """A week's distinct compound charts drawn in-process and by ``ChartCache.draw_all``'s
    worker processes (started and warmed first: they live as long as the bot)."""
    week = [dimensions_chart(f"小区{n}") for n in range(2 * PARALLEL_CHARTS)]
    cache = charts.ChartCache()
    charts.ChartCache(workers=cache.workers).draw_all(week[: charts.MIN_PARALLEL])  # warm-up
    start = time.perf_counter()
    charts.ChartCache(workers=1).draw_all(week[:PARALLEL_CHARTS])
    inline = time.perf_counter() - start
    start = time.perf_counter()
    cache.draw_all(week[PARALLEL_CHARTS:])
    return inline, time.perf_counter() - start, cache.workers


def empty_figure() -> bytes:
    fig = Figure(figsize=(7.0, 4.0), dpi=charts.DPI, layout="constrained")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=charts.DPI)
    return buffer.getvalue()


def median_seconds(render: Callable[[], bytes]) -> tuple[float, int]:
    size = len(render())  # warm-up: fonts, caches
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        render()
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def main() -> dict[str, Any]:
    medians: dict[str, float] = {}
    sizes: dict[str, int] = {}
    for name, render in [
        ("baseline_empty_figure", empty_figure),
        ("dimensions", dimensions),
        ("committee_trend", committee_trend),
        ("town_trend", town_trend),
        ("ranking", ranking),
    ]:
        medians[name], sizes[name] = median_seconds(render)
    base = medians["baseline_empty_figure"]
    print(f"{'chart':<24}{'median ms':>10}{'× empty':>9}{'PNG KiB':>9}")
    for name, seconds in medians.items():
        print(f"{name:<24}{seconds * 1000:>10.1f}{seconds / base:>9.1f}{sizes[name] / 1024:>9.1f}")
    compound_set = medians["committee_trend"] + COMPOUNDS_PER_COMMITTEE * medians["dimensions"]
    with_buildings, drawn = committee_set()
    print(
        f"one committee's weekly set: {compound_set:.2f} s for its committee and 小区 chats; "
        f"{with_buildings:.2f} s with {BUILDING_CHATS_PER_COMPOUND} 楼组 chats per 小区 "
        f"({drawn} charts drawn)"
    )
    inline, parallel, workers = week_in_parallel()
    print(
        f"a week of {PARALLEL_CHARTS} compound charts: {inline:.2f} s in-process, "
        f"{parallel:.2f} s on {workers} worker processes ({inline / parallel:.2f} × faster)"
    )
    result = {
        "week_of_charts_s": {
            "charts": PARALLEL_CHARTS,
            "in_process": inline,
            "worker_processes": parallel,
            "workers": workers,
            "speed_up": inline / parallel,
        },
        "median_s": medians,
        "png_bytes": sizes,
        "ratio_to_empty_figure": {k: v / base for k, v in medians.items()},
        "committee_set_s": {
            "committee_and_compound_chats": compound_set,
            "with_building_chats": with_buildings,
            "compounds": COMPOUNDS_PER_COMMITTEE,
            "building_chats_per_compound": BUILDING_CHATS_PER_COMPOUND,
            "charts_drawn_with_building_chats": drawn,
        },
        "python": platform.python_version(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


if __name__ == "__main__":
    main()
