"""``govbot digest --week 2026-W47 --out DIR``: every digest of a week as files, nothing sent.

One text file (the message as Telegram HTML) and the PNG charts per digest: the town digest of
each town, the committee digest of each committee, the residents' digest of each compound. The
week is scored first if it has not been (the same snapshot the weekly pipeline would store);
no alert is raised and nothing is queued.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.digest.charts import ChartCache, chart_kind
from bot.digest.compute import score_week
from bot.digest.gather import gather_week
from bot.digest.render import Digest, render_digest
from storage.db import Database
from storage.tables import Audience, UnitKind

_AUDIENCE_OF_KIND = {
    UnitKind.TOWN: Audience.TOWN,
    UnitKind.COMMITTEE: Audience.COMMITTEE,
    UnitKind.COMPOUND: Audience.RESIDENTS,
}
_UNSAFE = re.compile(r"[\\/:*?\"<>|\s]+")


def render_week_folder(
    database: Database,
    *,
    week: str,
    out: Path,
    now: datetime,
    tz: ZoneInfo,
    locale: str = "zh",
    charts: ChartCache | None = None,
) -> list[Path]:
    """Write every digest of ``week`` under ``out``; return the files written.

    ``charts``: where the week's charts may already be drawn (the weekly pipeline's folder,
    ``<media>/<week>``); by default they are drawn here."""
    score_week(database, week=week, now=now, tz=tz)
    material = gather_week(database, week=week, now=now, tz=tz)
    out.mkdir(parents=True, exist_ok=True)
    digests: dict[Path, Digest] = {}
    for unit in sorted(material.units.values(), key=lambda u: (u.kind, u.name, u.id)):
        audience = _AUDIENCE_OF_KIND.get(UnitKind(unit.kind))
        if audience is not None:
            stem = out / f"{audience}-{_safe(unit.name)}-{unit.id}"
            digests[stem] = render_digest(
                material, audience=audience, unit_id=unit.id, locale=locale
            )
    charts = charts or ChartCache()
    charts.draw_all(chart for digest in digests.values() for chart in digest.charts())
    return [path for stem, digest in digests.items() for path in _write(digest, stem, charts)]


def _write(digest: Digest, stem: Path, charts: ChartCache) -> list[Path]:
    text = stem.with_suffix(".txt")
    text.write_text(digest.text() + "\n", encoding="utf-8")
    files = [text]
    for chart in digest.charts():
        path = stem.parent / f"{stem.name}-{chart_kind(chart)}.png"
        path.write_bytes(charts.png(chart))
        files.append(path)
    return files


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("_") or "unit"
