"""Charts: PNGs of a sane size whose every label has a glyph in the CJK font used (no tofu)."""

from __future__ import annotations

import io
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from PIL import Image

from bot.digest import charts
from handlers.i18n import Messages
from scoring.structure import DIMENSIONS, HOUSING_TYPES

NAMES = ["阳光小区", "梅园新村", "西城花苑", "银杏家园", "翠竹公寓"]


def _labels(locale: str) -> list[str]:
    _ = Messages(locale)
    return [
        *(_(f"digest.dimension.{d}") for d in DIMENSIONS),
        *(_(f"digest.housing.{h}") for h in HOUSING_TYPES),
        _("digest.chart.this_week"),
        _("digest.chart.last_week"),
        _("digest.chart.dimensions_title", compound=NAMES[0]),
        _("digest.chart.trend_title", unit="东城居委"),
        _("digest.chart.trend_y"),
        _("digest.chart.ranking_title", town="花木街道"),
        _("digest.chart.ranking_x"),
        _("digest.chart.rank_range", low=1, high=3),
        *NAMES,
        "11月9日",
    ]


def test_a_cjk_font_is_installed_and_is_the_one_charts_use() -> None:
    path = charts.cjk_font_path()
    assert path is not None, "no CJK font: run `make setup` (installs fonts-wqy-microhei)"
    with charts._drawing():  # what every chart is drawn under
        used = font_manager.findfont(font_manager.FontProperties(), fallback_to_default=False)
    assert used == path


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_label_character_has_a_glyph_in_the_font(locale: str) -> None:
    path = charts.cjk_font_path()
    assert path is not None
    font = FT2Font(path)
    missing = {
        ch for label in _labels(locale) for ch in label if not ch.isspace()
        if font.get_char_index(ord(ch)) == 0
    }  # fmt: skip
    assert missing == set()


def _image(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG")
    assert len(png) < 300_000
    return Image.open(io.BytesIO(png))


def test_the_three_charts_render() -> None:
    _ = Messages("zh")
    dims = charts.dimensions_png(
        charts.DimensionChart(
            _("digest.chart.dimensions_title", compound="阳光小区"),
            [_(f"digest.dimension.{d}") for d in DIMENSIONS],
            [18.2, 17.9, 19.0, 17.3],
            [17.6, 17.9, 17.8, 17.6],
            _("digest.chart.this_week"),
            _("digest.chart.last_week"),
        )
    )
    trend = charts.trend_png(
        charts.TrendChart(
            "近 12 周",
            [f"{m}月{d}日" for m, d in [(9, 1), (9, 8), (9, 15)]],
            {"阳光小区": [60.0, None, 63.5], "梅园新村": [55.0, 56.0, 58.0]},
            _("digest.chart.trend_y"),
        )
    )
    ranking = charts.ranking_png(
        charts.RankingChart(
            "排名",
            [charts.RankingGroup("商品房", NAMES[:3], [70.0, 65.0, 60.0], ["1–2", "1–3", "3–3"])],
            _("digest.chart.ranking_x"),
        )
    )
    assert _image(dims).size[0] >= 600
    assert _image(trend).size[0] >= 600
    assert _image(ranking).size[1] >= 200


def _compound_charts(count: int) -> list[charts.DimensionChart]:
    return [
        charts.DimensionChart(
            f"小区{n} 本周治理指数",
            ["管理精细", "社群活力", "居民满意", "能力进步"],
            [10.0 + n, 12.0, 14.0, 16.0],
            None,
            "本周",
            "上周",
        )  # fmt: skip
        for n in range(count)
    ]


def test_a_weeks_charts_are_drawn_once_each_in_worker_processes(tmp_path: Path) -> None:
    week = _compound_charts(charts.MIN_PARALLEL)
    here = charts.ChartCache(workers=1)
    here.draw_all(week)
    workers = charts.ChartCache(tmp_path, workers=2)
    workers.draw_all([*week, *week])  # a chart shown twice is drawn once
    assert workers.drawn == here.drawn == len(week)
    assert [workers.png(c) for c in week] == [here.png(c) for c in week]
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == ["dimensions"] * len(week)
    # The same week run again (after a crash, or `govbot digest`) draws nothing.
    again = charts.ChartCache(tmp_path, workers=2)
    again.draw_all(week)
    assert again.drawn == 0
    assert again.path(week[0]).read_bytes() == here.png(week[0])


def test_charts_are_drawn_here_when_the_workers_are_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        def map(self, *_args: object) -> list[bytes]:
            raise BrokenProcessPool("a worker was killed")

    monkeypatch.setattr(charts, "_pool", lambda _workers: Broken())
    week = _compound_charts(charts.MIN_PARALLEL)
    cache = charts.ChartCache(tmp_path, workers=2)
    cache.draw_all(week)
    assert cache.drawn == len(week)
    assert all(cache.path(c).exists() for c in week)
