"""The digest's charts as PNG bytes (matplotlib, Agg): dimensions, 12-week trend, ranking.

Blocking work: call these from a worker thread (``asyncio.to_thread``), never on the event loop.
Every label is given by the caller (already translated); Chinese renders with a CJK font found
through matplotlib's font manager (``make setup`` installs WenQuanYi Micro Hei when the machine
has none). ``cjk_font_path`` tells which file is used, so a test can check every label's glyphs.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402  (after choosing the backend)
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


Chart = TypeVar("Chart", "DimensionChart", "TrendChart", "RankingChart")


class ChartCache:
    """Each distinct chart drawn once per run, however many chats show it.

    A weekly run sends a compound's dimensions chart to the compound's chat and to every
    building chat under it (at Pudong scale about 62,000 chats for 3,179 compounds); the chart
    is the same picture each time. Keyed by the chart's full description, so two charts share
    bytes only when they would be drawn identically.
    """

    def __init__(self) -> None:
        self._pngs: dict[tuple[str, str], bytes] = {}
        self.drawn = 0

    def png(self, draw: Callable[[Chart], bytes], chart: Chart) -> bytes:
        key = (draw.__name__, repr(chart))
        png = self._pngs.get(key)
        if png is None:
            png = self._pngs[key] = draw(chart)
            self.drawn += 1
        return png


def dimensions_png(chart: DimensionChart) -> bytes:
    """Grouped bars: each dimension this week (and last week beside it when known)."""
    with _drawing():
        fig = _figure(7.2, 4.2)
        ax = fig.add_subplot()
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
        ax.set_title(chart.title, fontsize=13, pad=12)
        ax.legend(loc="upper right", frameon=False, ncols=2, fontsize=9)
        _tidy(ax)
        return _png(fig)


def trend_png(chart: TrendChart) -> bytes:
    """One line per series over the weeks (gaps where a week has no score)."""
    with _drawing():
        fig = _figure(7.6, 4.2)
        ax = fig.add_subplot()
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
        ax.set_ylim(max(0.0, low - 15), chart.maximum)
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
    rows = sum(min(len(g.names), MAX_RANKED) for g in groups)
    with _drawing():
        fig = _figure(7.6, 1.4 + 0.38 * rows + 0.55 * len(groups))
        if not groups:
            return _png(fig)
        axes = fig.subplots(
            len(groups),
            1,
            squeeze=False,
            gridspec_kw={"height_ratios": [min(len(g.names), MAX_RANKED) for g in groups]},
        )
        for ax, group in zip(axes[:, 0], groups, strict=True):
            names = list(group.names)[:MAX_RANKED][::-1]
            totals = list(group.totals)[:MAX_RANKED][::-1]
            ranges = list(group.ranges)[:MAX_RANKED][::-1]
            bars = ax.barh(names, totals, color=NOW_COLOUR, height=0.6)
            for bar, total, span in zip(bars, totals, ranges, strict=True):
                ax.annotate(
                    f"{total:.1f}  ({span})",
                    (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=9,
                )
            ax.set_xlim(0, 112)
            ax.set_title(group.title, fontsize=11, loc="left")
            ax.tick_params(axis="y", labelsize=10)
            _tidy(ax)
        axes[-1, 0].set_xlabel(chart.x_label, fontsize=9)
        fig.suptitle(chart.title, fontsize=13)
        return _png(fig)


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    fig.set_facecolor("white")
    return fig


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


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
