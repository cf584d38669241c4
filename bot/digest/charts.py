"""The digest's charts as PNG bytes (matplotlib, Agg): dimensions, 12-week trend, ranking.

Blocking work: call these from a worker thread (``asyncio.to_thread``), never on the event loop.
Every label is given by the caller (already translated); Chinese renders with a CJK font found
through matplotlib's font manager (``make setup`` installs WenQuanYi Micro Hei when the machine
has none). ``cjk_font_path`` tells which file is used, so a test can check every label's glyphs.
"""

from __future__ import annotations

import hashlib
import io
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402  (after choosing the backend)
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

# Fonts with Simplified Chinese glyphs, best first.
CJK_FONTS = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "WenQuanYi Zen Hei",
)
NOW_COLOUR = "#2a9d8f"
BEFORE_COLOUR = "#b8c4cc"
LINE_COLOURS = ("#2a9d8f", "#e76f51", "#264653", "#e9c46a", "#8ab17d", "#9c6ade", "#f4a261")
DPI = 120
MAX_RANKED = 12  # compounds shown per housing type in the ranking chart

logger = logging.getLogger(__name__)
_lock = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe


@cache
def cjk_font_path() -> str | None:
    """The file of the first installed CJK font (None: Chinese would render as boxes)."""
    installed = {entry.name: entry.fname for entry in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return installed[name]
    return None


@cache
def _font_family() -> list[str]:
    path = cjk_font_path()
    if path is None:
        return ["DejaVu Sans"]
    # Reading the font file for its name costs milliseconds: once per process is enough.
    return [font_manager.FontProperties(fname=path).get_name(), "DejaVu Sans"]


@dataclass(frozen=True)
class DimensionChart:
    title: str
    labels: Sequence[str]  # the four dimensions
    current: Sequence[float]
    previous: Sequence[float] | None
    current_label: str
    previous_label: str
    maximum: float = 25.0


@dataclass(frozen=True)
class TrendChart:
    title: str
    periods: Sequence[str]  # x-axis labels, oldest first
    series: Mapping[str, Sequence[float | None]]  # line label -> value per period
    y_label: str
    maximum: float = 100.0


@dataclass(frozen=True)
class RankingGroup:
    title: str  # the housing type
    names: Sequence[str]  # best first
    totals: Sequence[float]
    ranges: Sequence[str]  # e.g. "1–2"


@dataclass(frozen=True)
class RankingChart:
    title: str
    groups: Sequence[RankingGroup]
    x_label: str


AnyChart = DimensionChart | TrendChart | RankingChart

MIN_PARALLEL = 6  # fewer charts than this are drawn in-process (a worker costs ~1 s to start)


def draw(chart: AnyChart) -> bytes:
    """The chart as PNG bytes."""
    if isinstance(chart, DimensionChart):
        return dimensions_png(chart)
    if isinstance(chart, TrendChart):
        return trend_png(chart)
    return ranking_png(chart)


def chart_kind(chart: AnyChart) -> str:
    """dimensions | trend | ranking: for file names."""
    return _KINDS[type(chart)]


class ChartCache:
    """Each distinct chart drawn once per week, however many chats show it.

    A weekly run sends a compound's dimensions chart to the compound's chat and to every
    building chat under it (at Pudong scale about 62,000 chats for 3,179 compounds); the chart
    is the same picture each time. Keyed by the chart's full description, so two charts share
    a picture only when they would be drawn identically.

    With a ``folder`` the pictures are files there, named by kind and a hash of the description
    (``dimensions-3f2a….png``): the outbox sends them by path, and a run of the same week again
    (after a crash, or ``govbot digest`` after the Monday job) draws nothing twice. Without one
    they are kept in memory. :meth:`draw_all` draws many at once in worker processes (matplotlib
    holds the GIL: threads would not help), one per CPU.
    """

    def __init__(self, folder: Path | None = None, *, workers: int | None = None) -> None:
        self.folder = folder
        self.workers = default_workers() if workers is None else workers
        self._pngs: dict[str, bytes] = {}
        self.drawn = 0
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def png(self, chart: AnyChart) -> bytes:
        """The chart's PNG, drawn now unless drawn before."""
        key = self._key(chart)
        png = self._pngs.get(key)
        if png is not None:
            return png
        path = self._file(chart, key)
        if path is not None and path.exists():
            return path.read_bytes()
        png = draw(chart)
        self._keep(chart, key, png)
        return png

    def path(self, chart: AnyChart) -> Path:
        """The chart's PNG file (the cache needs a folder), drawn now unless drawn before."""
        path = self._file(chart, self._key(chart))
        if path is None:
            raise ValueError("ChartCache.path needs a folder")
        if not path.exists():
            self.png(chart)
        return path

    def draw_all(self, charts: Iterable[AnyChart]) -> None:
        """Draw every chart not drawn yet, in parallel when there are enough of them."""
        missing: dict[str, AnyChart] = {}
        for chart in charts:
            key = self._key(chart)
            path = self._file(chart, key)
            if key not in self._pngs and (path is None or not path.exists()):
                missing.setdefault(key, chart)
        if not missing:
            return
        pool = _pool(self.workers) if len(missing) >= MIN_PARALLEL else None
        if pool is None:
            pngs = [draw(chart) for chart in missing.values()]
        else:
            try:
                pngs = list(pool.map(draw, missing.values()))
            except BrokenProcessPool:  # a worker died (killed, out of memory): draw here
                logger.warning("chart workers stopped; drawing %d charts in-process", len(missing))
                _discard_pool()
                pngs = [draw(chart) for chart in missing.values()]
        for (key, chart), png in zip(missing.items(), pngs, strict=True):
            self._keep(chart, key, png)

    def _keep(self, chart: AnyChart, key: str, png: bytes) -> None:
        self.drawn += 1
        path = self._file(chart, key)
        if path is None:
            self._pngs[key] = png
            return
        # Whole files only, even if the process dies while writing, or another process (govbot
        # digest beside the Monday job) writes the same chart at the same time.
        partial = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.part")
        partial.write_bytes(png)
        partial.replace(path)

    @staticmethod
    def _key(chart: AnyChart) -> str:
        return hashlib.sha1(repr(chart).encode(), usedforsecurity=False).hexdigest()[:20]

    def _file(self, chart: AnyChart, key: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / f"{chart_kind(chart)}-{key}.png"


def default_workers() -> int:
    """One chart worker per CPU this process may use (at most 4)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cpus or 1))


_pools: dict[int, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(workers: int) -> ProcessPoolExecutor | None:
    """The process's chart workers, started on first use and kept (they hold matplotlib and
    the fonts loaded). Workers fork from a fresh server process that has imported this module,
    never from the bot's own threads."""
    if workers < 2:
        return None
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            methods = multiprocessing.get_all_start_methods()
            method = "forkserver" if "forkserver" in methods else "spawn"
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload([__name__])
            pool = _pools[workers] = ProcessPoolExecutor(workers, mp_context=context)
        return pool


def _discard_pool() -> None:
    with _pools_lock:
        for pool in _pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        _pools.clear()


def dimensions_png(chart: DimensionChart) -> bytes:
    """Grouped bars: each dimension this week (and last week beside it when known)."""
    with _drawing():
        fig = _figure(7.2, 4.2)
        ax = _axes(fig, left=0.55, right=0.15, top=0.6, bottom=0.4)
        positions = list(range(len(chart.labels)))
        width = 0.38 if chart.previous is not None else 0.6
        if chart.previous is not None:
            ax.bar(
                [p - width / 2 for p in positions],
                chart.previous,
                width,
                color=BEFORE_COLOUR,
                label=chart.previous_label,
            )
        shift = width / 2 if chart.previous is not None else 0.0
        bars = ax.bar(
            [p + shift for p in positions],
            chart.current,
            width,
            color=NOW_COLOUR,
            label=chart.current_label,
        )
        for bar, value in zip(bars, chart.current, strict=True):
            ax.annotate(
                f"{value:.1f}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                fontsize=10,
            )
        ax.set_xticks(positions, list(chart.labels), fontsize=11)
        ax.set_ylim(0, chart.maximum * 1.12)
        ax.set_yticks(_ticks(chart.maximum, 5))
        ax.set_title(chart.title, fontsize=13, pad=12)
        ax.legend(loc="upper right", frameon=False, ncols=2, fontsize=9)
        _tidy(ax)
        return _png(fig)


def trend_png(chart: TrendChart) -> bytes:
    """One line per series over the weeks (gaps where a week has no score)."""
    with _drawing():
        fig = _figure(7.6, 4.2)
        ax = _axes(fig, left=0.7, right=0.15, top=0.5, bottom=0.75)
        x = list(range(len(chart.periods)))
        for index, (label, values) in enumerate(chart.series.items()):
            ys = [float("nan") if v is None else float(v) for v in values]
            ax.plot(
                x,
                ys,
                marker="o",
                markersize=3.5,
                linewidth=2,
                color=LINE_COLOURS[index % len(LINE_COLOURS)],
                label=label,
            )
        ax.set_xticks(x, list(chart.periods), rotation=45, ha="right", fontsize=8)
        low = min(
            (float(v) for vs in chart.series.values() for v in vs if v is not None), default=0.0
        )
        bottom = max(0.0, low - 15)
        ax.set_ylim(bottom, chart.maximum)
        ax.set_yticks([t for t in _ticks(chart.maximum, 10) if t >= bottom])
        ax.set_ylabel(chart.y_label, fontsize=10)
        ax.set_title(chart.title, fontsize=13, pad=12)
        if chart.series:
            ax.legend(loc="lower left", frameon=False, fontsize=9, ncols=min(3, len(chart.series)))
        _tidy(ax)
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
        return _png(fig)


def ranking_png(chart: RankingChart) -> bytes:
    """Horizontal bars of the total, one panel per housing type, best at the top."""
    groups = [g for g in chart.groups if g.names]
    shown = [min(len(g.names), MAX_RANKED) for g in groups]
    # Fixed layout, in inches from the top: the title, then per panel its heading, its bars
    # and its axis; the left margin fits the longest name.
    heading, axis, bar_row = 0.32, 0.32, 0.38
    top, bottom = 0.5, 0.35
    height = top + sum(heading + bar_row * n + axis for n in shown) + bottom
    names = [name for g in groups for name in list(g.names)[:MAX_RANKED]]
    left = 0.25 + max((_text_inches(name, 10) for name in names), default=0.5)
    with _drawing():
        fig = _figure(7.6, height)
        fig.suptitle(chart.title, fontsize=13, y=1 - 0.12 / height, va="top")
        y = height - top
        for group, rows in zip(groups, shown, strict=True):
            y -= heading + bar_row * rows
            ax = fig.add_axes(
                (left / 7.6, y / height, (7.6 - left - 0.35) / 7.6, bar_row * rows / height)
            )
            y -= axis
            positions = list(range(rows))[::-1]
            bars = ax.barh(positions, list(group.totals)[:rows], color=NOW_COLOUR, height=0.6)
            ax.set_yticks(positions, list(group.names)[:rows], fontsize=10)
            ax.set_ylim(-0.5, rows - 0.5)
            for bar, total, span in zip(bars, group.totals, group.ranges, strict=False):
                ax.annotate(
                    f"{total:.1f}  ({span})",
                    (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=9,
                )
            ax.set_xlim(0, 112)
            ax.set_xticks(_ticks(100, 20))
            ax.set_title(group.title, fontsize=11, loc="left")
            _tidy(ax)
        if groups:
            ax.set_xlabel(chart.x_label, fontsize=9)
        return _png(fig)


def _figure(width: float, height: float) -> Figure:
    """A figure whose axes are placed by hand (``_axes``): a layout engine measures every
    text of the figure several times and more than doubles the time a chart takes."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.set_facecolor("white")
    return fig


def _axes(fig: Figure, *, left: float, right: float, top: float, bottom: float) -> Axes:
    """Axes inside the given margins (inches)."""
    width, height = fig.get_size_inches()
    return fig.add_axes(
        (left / width, bottom / height, 1 - (left + right) / width, 1 - (top + bottom) / height)
    )


def _ticks(maximum: float, step: int) -> list[float]:
    return [float(t) for t in range(0, int(maximum) + 1, step)]


def _text_inches(text: str, points: float) -> float:
    """About how wide ``text`` is: a CJK character is one em, anything else about 0.6."""
    ems = sum(1.0 if ord(char) > 0x2E7F else 0.6 for char in text)
    return ems * points / 72


def _tidy(ax: object) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)  # type: ignore[attr-defined]


@contextmanager
def _drawing() -> Iterator[None]:
    """One chart at a time, drawn with the CJK font (text takes its font when created)."""
    with (
        _lock,
        matplotlib.rc_context({"font.family": _font_family(), "axes.unicode_minus": False}),
    ):
        yield


_KINDS: dict[type, str] = {
    DimensionChart: "dimensions",
    TrendChart: "trend",
    RankingChart: "ranking",
}


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    # zlib's fastest level: twice as fast as the default, files about a fifth larger.
    fig.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()
