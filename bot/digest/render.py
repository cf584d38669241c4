"""Render one chat's weekly digest from the week's material: texts and charts, per audience.

- residents: the compound's score and four dimensions with the change since last week, a chart,
  issues reported and resolved (never a sensitive category, never a name or a room: only counts
  and category names), volunteer hours, meetings held and coming. Progress, not rank tables.
- committee (and grid): every compound with score, change, rank within its type and the
  indicators pulling it down; overdue issues; open alerts; suggested 三会 topics.
- town: ranking within each housing type with rank ranges, 进步之星, red flags, trend chart.

Blocking (matplotlib): call from a worker thread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import pandas as pd

from bot.digest import charts as charts_module
from bot.digest.gather import AlertView, DigestWeek
from bot.digest.weeks import week_monday
from handlers.i18n import Messages
from scoring import load_catalog
from scoring.structure import DIMENSIONS, HOUSING_TYPES
from storage.categories import load_catalog as load_categories
from storage.tables import Audience, UnitKind

SHOWN_DRAGS = 2
SHOWN_OVERDUE = 8
SHOWN_TOPICS = 3
SHOWN_STARS = 3
STEADY = 0.05  # a change smaller than this shows as "level"


@dataclass(frozen=True)
class DigestPart:
    """A text, or a chart with ``text`` as its caption.

    Rendering only describes the chart; ``ChartCache`` draws it (``charts.png(part.chart)``),
    so a week's charts can be drawn together, in parallel, and once however many chats show
    them."""

    text: str
    chart: charts_module.AnyChart | None = None


@dataclass(frozen=True)
class Digest:
    audience: str
    unit_id: int
    parts: list[DigestPart] = field(default_factory=list)

    def text(self) -> str:
        return "\n\n".join(part.text for part in self.parts if part.text)

    def charts(self) -> list[charts_module.AnyChart]:
        return [part.chart for part in self.parts if part.chart is not None]


def render_digest(week: DigestWeek, *, audience: str, unit_id: int, locale: str) -> Digest:
    """The digest a chat bound to ``unit_id`` for ``audience`` receives for ``week``."""
    _ = Messages(locale)
    if audience == Audience.RESIDENTS:
        parts = _residents(week, unit_id, _)
    elif audience == Audience.TOWN:
        parts = _town(week, unit_id, _)
    else:
        parts = _committee(week, unit_id, _)
    return Digest(audience=audience, unit_id=unit_id, parts=parts)


# -- Residents -------------------------------------------------------------------------------


def _residents(week: DigestWeek, unit_id: int, _: Messages) -> list[DigestPart]:
    parts = []
    for compound_id in _compounds_for_residents(week, unit_id):
        parts.extend(_resident_compound(week, compound_id, _))
    if not parts:
        parts.append(DigestPart(_("digest.no_compounds")))
    return parts


def _compounds_for_residents(week: DigestWeek, unit_id: int) -> list[int]:
    """A building's or compound's own compound; every compound under a higher unit."""
    current: int | None = unit_id
    while current is not None and current in week.units:
        node = week.units[current]
        if node.kind == UnitKind.COMPOUND:
            return [current]
        if node.kind != UnitKind.BUILDING:
            break
        current = node.parent_id
    return week.compounds_under(unit_id)


def _resident_compound(week: DigestWeek, compound_id: int, _: Messages) -> list[DigestPart]:
    name = week.name(compound_id)
    lines = [_("digest.residents.title", compound=name, dates=_dates(week.week, _))]
    parts = []
    if compound_id in week.scores.index:
        row = week.scores.loc[compound_id]
        lines.append(_score_sentence(row, _))
        lines.extend(_dimension_lines(row, _))
        parts.append(_dimension_chart(week, compound_id, row, _))
    else:
        lines.append(_("digest.residents.no_score"))
    lines.append("")
    lines.extend(_resident_week_lines(week, compound_id, _))
    lines.append("")
    lines.append(_("digest.residents.closing"))
    return [*parts, DigestPart("\n".join(lines))]


def _score_sentence(row: pd.Series, _: Messages) -> str:
    total, delta = _fmt(row["total"]), row["delta_total"]
    if _missing(delta):
        return _("digest.residents.score_first", total=total)
    if delta >= STEADY:
        return _("digest.residents.score_up", total=total, delta=_fmt(delta))
    if delta <= -STEADY:
        return _("digest.residents.score_down", total=total, delta=_fmt(-delta))
    return _("digest.residents.score_same", total=total)


def _dimension_lines(row: pd.Series, _: Messages) -> list[str]:
    return [
        _("digest.dimension_line", name=_(f"digest.dimension.{name}"), score=_fmt(row[name]))
        + _change(row.get(f"delta_{name}"), _)
        for name in DIMENSIONS
    ]


def _resident_week_lines(week: DigestWeek, compound_id: int, _: Messages) -> list[str]:
    facts = week.facts
    counts = _counts(week, compound_id)
    lines = [
        _(
            "digest.residents.issues",
            reported=int(counts["reported_public"]),
            resolved=int(counts["resolved_public"]),
        )
    ]
    resolved = facts.resolved_public[facts.resolved_public["compound_id"] == compound_id]
    if not resolved.empty:
        items = [
            _("digest.count_item", name=_category(row.category_id, _), count=int(row.count))
            for row in resolved.head(3).itertuples()
        ]
        lines.append(_("digest.residents.resolved_top", items=_join(items, _)))
    if counts["volunteer_hours"] > 0:
        lines.append(
            _(
                "digest.residents.volunteers",
                hours=_fmt(counts["volunteer_hours"]),
                people=int(counts["volunteers"]),
            )
        )
    else:
        lines.append(_("digest.residents.no_volunteers"))
    held = facts.meetings_held[facts.meetings_held["compound_id"] == compound_id]
    if not held.empty:
        kinds = [_(f"digest.meeting.{kind}") for kind in dict.fromkeys(held["meeting_type"])]
        lines.append(_("digest.residents.meetings_held", count=len(held), types=_join(kinds, _)))
    coming = facts.meetings_coming[facts.meetings_coming["compound_id"] == compound_id]
    if not coming.empty:
        items = [
            _("digest.dated_item", date=_day(row.occurred_on, _), name=_meeting(row, _))
            for row in coming.head(3).itertuples()
        ]
        lines.append(_("digest.residents.meetings_coming", items=_join(items, _)))
    return lines


def _dimension_chart(
    week: DigestWeek, compound_id: int, row: pd.Series, _: Messages
) -> DigestPart:
    caption = _("digest.residents.caption", compound=week.name(compound_id))
    return DigestPart(caption, _dimensions(row, week.name(compound_id), _))


def render_index(
    row: pd.Series,
    *,
    compound: str,
    week: str,
    locale: str,
) -> Digest:
    """``/index``: one compound's latest score, its four dimensions and their chart (described
    only: the caller draws it)."""
    _ = Messages(locale)
    title = _(
        "digest.index.title",
        compound=compound,
        total=_fmt(row["total"]),
        change=_change(row.get("delta_total"), _),
        dates=_dates(week, _),
    )
    lines = [
        title,
        *_dimension_lines(row, _),
        _("digest.index.coverage", coverage=round(float(row["coverage"]) * 100)),
    ]
    return Digest("index", 0, [DigestPart("\n".join(lines), _dimensions(row, compound, _))])


def _dimensions(row: pd.Series, compound: str, _: Messages) -> charts_module.DimensionChart:
    """The four dimensions this week, beside last week's when every change is known."""
    previous = None
    if not any(_missing(row.get(f"delta_{name}")) for name in DIMENSIONS):
        previous = [float(row[name] - row[f"delta_{name}"]) for name in DIMENSIONS]
    return charts_module.DimensionChart(
        title=_("digest.chart.dimensions_title", compound=compound),
        labels=[_(f"digest.dimension.{name}") for name in DIMENSIONS],
        current=[float(row[name]) for name in DIMENSIONS],
        previous=previous,
        current_label=_("digest.chart.this_week"),
        previous_label=_("digest.chart.last_week"),
    )


# -- Committee -------------------------------------------------------------------------------


def _committee(week: DigestWeek, unit_id: int, _: Messages) -> list[DigestPart]:
    compounds = week.compounds_under(unit_id)
    lines = [_("digest.committee.title", committee=week.name(unit_id), dates=_dates(week.week, _))]
    for compound_id in compounds:
        lines.append("")
        lines.extend(_committee_compound(week, compound_id, _))
    if not compounds:
        lines.append(_("digest.no_compounds"))
    lines.append("")
    lines.extend(_overdue_lines(week, compounds, _))
    lines.append("")
    lines.extend(_alert_lines(week, compounds, _))
    lines.append("")
    lines.extend(_topic_lines(week, compounds, _))
    parts = []
    trend = _trend_chart(
        week,
        {week.name(cid): cid for cid in compounds},
        _("digest.chart.trend_title", unit=week.name(unit_id)),
        _,
    )
    if trend is not None:
        caption = _("digest.committee.caption", committee=week.name(unit_id))
        parts.append(DigestPart(caption, trend))
    parts.append(DigestPart("\n".join(lines)))
    return parts


def _committee_compound(week: DigestWeek, compound_id: int, _: Messages) -> list[str]:
    name = week.name(compound_id)
    if compound_id not in week.scores.index:
        lines = [_("digest.committee.compound_no_score", compound=name)]
    else:
        row = week.scores.loc[compound_id]
        lines = [
            _(
                "digest.committee.compound",
                compound=name,
                housing=_(f"digest.housing.{row['housing_type']}"),
                total=_fmt(row["total"]),
            )
            + _change(row["delta_total"], _)
            + _("digest.committee.rank", rank=_int(row["rank_in_type"]), n=int(row["n_in_type"]))
        ]
        drags = [e for e in week.explanations.get(compound_id, []) if e["kind"] == "drag"]
        if drags:
            items = [
                _(
                    "digest.committee.drag_item",
                    name=_indicator(e["indicator_id"], _),
                    points=_fmt(abs(e["points"] or 0.0)),
                )
                for e in drags[:SHOWN_DRAGS]
            ]
            lines.append(_("digest.committee.drags", items=_join(items, _)))
    counts = _counts(week, compound_id)
    alerts = sum(1 for a in week.open_alerts if a.compound_id == compound_id)
    lines.append(
        _(
            "digest.committee.week",
            reported=int(counts["reported"]),
            resolved=int(counts["resolved"]),
            overdue=int(counts["overdue"]),
            alerts=alerts,
        )
    )
    return lines


def _overdue_lines(week: DigestWeek, compounds: Sequence[int], _: Messages) -> list[str]:
    overdue = week.facts.overdue[week.facts.overdue["compound_id"].isin(list(compounds))]
    if overdue.empty:
        return [_("digest.committee.no_overdue")]
    lines = [_("digest.committee.overdue_title", count=len(overdue))]
    for row in overdue.head(SHOWN_OVERDUE).itertuples():
        lines.append(
            _(
                "digest.committee.overdue_item",
                number=int(row.issue_id),
                compound=week.name(int(row.compound_id)),
                category=_category(str(row.category_id), _),
                days=max(1, math.ceil(float(row.days_overdue))),
            )
        )
    if len(overdue) > SHOWN_OVERDUE:
        lines.append(_("digest.committee.overdue_more", count=len(overdue) - SHOWN_OVERDUE))
    return lines


def _alert_lines(week: DigestWeek, compounds: Sequence[int], _: Messages) -> list[str]:
    inside = set(compounds)
    mine = [a for a in week.open_alerts if a.compound_id in inside]
    if not mine:
        return [_("digest.committee.no_alerts")]
    return [
        _("digest.committee.alerts_title"),
        *(_("digest.bullet", text=alert_text(week, a, _)) for a in mine[-SHOWN_OVERDUE:]),
    ]


def _topic_lines(week: DigestWeek, compounds: Sequence[int], _: Messages) -> list[str]:
    month = week.facts.month_categories
    mine = month[month["compound_id"].isin(list(compounds)) & (month["category_id"] != "other")]
    top = mine.groupby("category_id")["count"].sum().sort_values(ascending=False, kind="stable")
    if top.empty:
        return [_("digest.committee.no_topics")]
    lines = [_("digest.committee.topics_title")]
    for number, (category_id, count) in enumerate(top.head(SHOWN_TOPICS).items(), start=1):
        lines.append(
            _(
                "digest.committee.topic",
                number=number,
                category=_category(str(category_id), _),
                count=int(count),
            )
        )
    return lines


def alert_text(week: DigestWeek, alert: AlertView, _: Messages) -> str:
    """One line saying what an alert is about (no personal data: units and numbers only)."""
    detail = alert.detail
    place = week.name(alert.compound_id or alert.unit_id)
    if alert.kind == "complaint_spike":
        return _(
            "digest.alert.spike",
            compound=place,
            count=int(detail.get("count", 0)),
            baseline=_fmt(detail.get("baseline", 0.0)),
        )
    if alert.kind == "index_drop":
        return _(
            "digest.alert.index_drop",
            compound=place,
            drop=_fmt(detail.get("drop", 0.0)),
            before=_fmt(detail.get("before", 0.0)),
            after=_fmt(detail.get("after", 0.0)),
        )
    if alert.kind == "bottom_decile":
        return _(
            "digest.alert.bottom_decile",
            compound=place,
            rank=int(detail.get("rank", 0)),
            n=int(detail.get("n", 0)),
        )
    if alert.kind == "silent_building":
        return _("digest.alert.silent_building", place=f"{place} {week.name(alert.unit_id)}")
    return _("digest.alert.other", place=place)


# -- Town ------------------------------------------------------------------------------------


def _town(week: DigestWeek, unit_id: int, _: Messages) -> list[DigestPart]:
    compounds = week.compounds_under(unit_id)
    scores = week.scores[week.scores.index.isin(compounds)]
    lines = [_("digest.town.title", town=week.name(unit_id), dates=_dates(week.week, _))]
    groups = []
    for housing in HOUSING_TYPES:
        of_type = scores[scores["housing_type"] == housing].sort_values(
            ["rank_in_type", "total"], ascending=[True, False]
        )
        if of_type.empty:
            continue
        lines.append("")
        lines.append(
            _("digest.town.type_title", housing=_(f"digest.housing.{housing}"), count=len(of_type))
        )
        for compound_id, row in of_type.iterrows():
            lines.append(
                _(
                    "digest.town.rank_line",
                    rank=_int(row["rank_in_type"]),
                    compound=week.name(int(compound_id)),
                    total=_fmt(row["total"]),
                    change=_change(row["delta_total"], _),
                    low=_int(row["rank_low"]),
                    high=_int(row["rank_high"]),
                )
            )
        groups.append(
            charts_module.RankingGroup(
                title=_(f"digest.housing.{housing}"),
                names=[week.name(int(cid)) for cid in of_type.index],
                totals=[float(t) for t in of_type["total"]],
                ranges=[_range(row, _) for _cid, row in of_type.iterrows()],
            )
        )
    if scores.empty:
        lines.append(_("digest.town.no_scores"))
    lines.append("")
    lines.extend(_star_lines(week, scores, _))
    lines.append("")
    lines.extend(_flag_lines(week, compounds, _))
    lines.append("")
    lines.append(_("digest.town.note"))
    parts = []
    series = _type_series(week, compounds, _)
    if series:
        trend = _trend(week, series, _("digest.chart.trend_title", unit=week.name(unit_id)), _)
        parts.append(DigestPart(_("digest.town.caption_trend", town=week.name(unit_id)), trend))
    if groups:
        ranking = charts_module.RankingChart(
            title=_("digest.chart.ranking_title", town=week.name(unit_id)),
            groups=groups,
            x_label=_("digest.chart.ranking_x"),
        )
        parts.append(DigestPart(_("digest.town.caption_ranking"), ranking))
    parts.append(DigestPart("\n".join(lines)))
    return parts


def _range(row: pd.Series, _: Messages) -> str:
    low, high = _int(row["rank_low"]), _int(row["rank_high"])
    if low == high:
        return _("digest.chart.rank_one", rank=low)
    return _("digest.chart.rank_range", low=low, high=high)


def _star_lines(week: DigestWeek, scores: pd.DataFrame, _: Messages) -> list[str]:
    improved = scores[scores["delta_total"] >= 0.5].sort_values("delta_total", ascending=False)
    if improved.empty:
        return [_("digest.town.no_star")]
    lines = [_("digest.town.stars_title")]
    for compound_id, row in improved.head(SHOWN_STARS).iterrows():
        lines.append(
            _(
                "digest.town.star",
                compound=week.name(int(compound_id)),
                housing=_(f"digest.housing.{row['housing_type']}"),
                delta=_fmt(row["delta_total"]),
            )
        )
    return lines


def _flag_lines(week: DigestWeek, compounds: Sequence[int], _: Messages) -> list[str]:
    inside = set(compounds)
    flags = [a for a in week.new_alerts if a.compound_id in inside]
    if not flags:
        return [_("digest.town.no_flags")]
    return [
        _("digest.town.flags_title"),
        *(_("digest.bullet", text=alert_text(week, a, _)) for a in flags),
    ]


def _type_series(
    week: DigestWeek, compounds: Sequence[int], _: Messages
) -> dict[str, list[float | None]]:
    history = week.history[week.history["compound_id"].isin(list(compounds))]
    if history.empty:
        return {}
    means = history.groupby(["housing_type", "period"])["total"].mean()
    series: dict[str, list[float | None]] = {}
    for housing in HOUSING_TYPES:
        if housing in means.index.get_level_values(0):
            by_period = means.loc[housing]
            series[_(f"digest.housing.{housing}")] = [
                float(by_period[p]) if p in by_period.index else None for p in week.periods
            ]
    return series


# -- Charts shared by audiences --------------------------------------------------------------


def _trend_chart(
    week: DigestWeek, names: dict[str, int], title: str, _: Messages
) -> charts_module.TrendChart | None:
    history = week.history[week.history["compound_id"].isin(list(names.values()))]
    if history.empty:
        return None
    table = history.pivot_table(index="compound_id", columns="period", values="total")
    series: dict[str, list[float | None]] = {}
    for name, compound_id in names.items():
        if compound_id in table.index:
            row = table.loc[compound_id]
            series[name] = [None if _missing(row.get(p)) else float(row[p]) for p in week.periods]
    return _trend(week, series, title, _) if series else None


def _trend(
    week: DigestWeek, series: dict[str, list[float | None]], title: str, _: Messages
) -> charts_module.TrendChart:
    return charts_module.TrendChart(
        title=title,
        periods=[_week_short(p, _) for p in week.periods],
        series=series,
        y_label=_("digest.chart.trend_y"),
    )


# -- Formatting helpers ----------------------------------------------------------------------


def _counts(week: DigestWeek, compound_id: int) -> pd.Series:
    counts = week.facts.counts
    if compound_id in counts.index:
        return counts.loc[compound_id]
    return pd.Series(0.0, index=counts.columns)


def _change(delta: object, _: Messages) -> str:
    if _missing(delta):
        return ""
    value = float(delta)  # type: ignore[arg-type]
    if value >= STEADY:
        return _("digest.change.up", delta=_fmt(value))
    if value <= -STEADY:
        return _("digest.change.down", delta=_fmt(-value))
    return _("digest.change.same")


def _dates(week_label: str, _: Messages) -> str:
    monday = week_monday(week_label)
    number = int(week_label.split("-W")[1])
    return _(
        "digest.dates",
        start=_day(monday, _),
        end=_day(monday + timedelta(days=6), _),
        number=number,
    )


def _day(day: date, _: Messages) -> str:
    if _.locale == "en":
        return f"{day.day} {day:%b}"
    return f"{day.month}月{day.day}日"


def _week_short(label: str, _: Messages) -> str:
    return _day(week_monday(label), _)


def _join(items: Sequence[str], _: Messages) -> str:
    return _("digest.list_separator").join(items)


def _meeting(row: object, _: Messages) -> str:
    return _(f"digest.meeting.{getattr(row, 'meeting_type', 'other') or 'other'}")


@cache
def _indicator_names() -> dict[str, tuple[str, str]]:
    catalog = load_catalog()
    return {str(i): (str(r["zh"]), str(r["en"])) for i, r in catalog.iterrows()}


def _indicator(indicator_id: str, _: Messages) -> str:
    zh, en = _indicator_names().get(indicator_id, (indicator_id, indicator_id))
    return en if _.locale == "en" else zh


@cache
def _category_names() -> dict[str, tuple[str, str]]:
    return {c.id: (c.zh, c.en) for c in load_categories().all()}


def _category(category_id: str, _: Messages) -> str:
    zh, en = _category_names().get(category_id, (category_id, category_id))
    return en if _.locale == "en" else zh


def _fmt(value: object) -> str:
    return f"{float(value):.1f}"  # type: ignore[arg-type]


def _int(value: object) -> int | str:
    return "?" if _missing(value) else int(value)  # type: ignore[call-overload]


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
