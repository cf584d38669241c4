"""Words for activities: the "what I understood" reply, and reading a corrected field value.

Pure (no Telegram, no database): the handlers in ``handlers.activities`` gather the facts and
this module turns them into catalogue sentences, or turns a person's answer into a value that
``storage.activities.edit_activity`` then checks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handlers.i18n import LOCALE_DIRS, Messages
from handlers.parsing import ParseResult, parse_message
from handlers.parsing.dates import read_date
from handlers.parsing.lexicon import lexicon
from handlers.parsing.numerals import chinese_to_int, convert_numbers, normalise
from handlers.parsing.working import WorkingText
from storage.activities import ACTIVITY_TYPES, DECISIONS, MEETING_TYPES, ActivityReading
from storage.masking import mask_personal_numbers
from storage.tables import Activity

# How many not-understood fragments a reply lists, and how long each may be.
MAX_UNPARSED_SHOWN = 8
MAX_FRAGMENT_CHARS = 30


@dataclass(frozen=True)
class ActivityView:
    """Everything the reply shows about one activity."""

    activity: Activity
    compound: str | None = None
    building: str | None = None
    people: Sequence[str] = ()  # names that may be shown here
    hidden_people: int = 0  # named people whose names this chat may not see
    problems: Sequence[str] = ()
    unparsed: Sequence[str] = ()
    unknown_mentions: Sequence[str] = field(default_factory=tuple)
    # Shown in a residents chat: the free text people typed (topic, fragments, @names) may hold
    # a neighbour's name or room, so it is left out there; phone and ID numbers are masked
    # wherever it is shown.
    public: bool = False


def reading_from(result: ParseResult) -> ActivityReading:
    """The parser's result as the plain values storage takes."""
    return ActivityReading(
        activity_type=result.activity_type,
        meeting_type=result.meeting_type,
        participants=result.participants,
        party_members=result.party_members,
        hours=result.hours,
        person_hours=result.person_hours,
        households=result.households,
        occurred_on=result.date,
        building=result.building,
        topic=result.topic,
        decision=result.decision,
        unparsed=result.unparsed,
        problems=result.problems,
    )


def _number(value: float) -> str:
    return f"{value:g}"


def field_lines(_: Messages, view: ActivityView) -> list[str]:
    """One line per field that has a value, in the order people read a log."""
    a = view.activity
    lines = [_("activity.line.type", value=_(f"activity.type.{a.activity_type or 'unknown'}"))]
    lines.append(_("activity.line.date", value=a.occurred_on.isoformat()))
    if a.meeting_type:
        lines.append(
            _("activity.line.meeting_type", value=_(f"activity.meeting.{a.meeting_type}"))
        )
    if a.participants is not None:
        lines.append(_("activity.line.participants", value=a.participants))
    if a.party_members is not None:
        lines.append(_("activity.line.party_members", value=a.party_members))
    if a.hours is not None:
        lines.append(_("activity.line.hours", value=_number(a.hours)))
    if a.person_hours is not None:
        lines.append(_("activity.line.person_hours", value=_number(a.person_hours)))
    if a.households is not None:
        lines.append(_("activity.line.households", value=a.households))
    if a.topic and not view.public:
        lines.append(_("activity.line.topic", value=mask_personal_numbers(a.topic)))
    if a.decision:
        lines.append(_("activity.line.decision", value=_(f"activity.decision.{a.decision}")))
    place = " ".join(p for p in (view.compound, view.building) if p)
    if place:
        lines.append(_("activity.line.place", value=place))
    if view.people:
        lines.append(_("activity.line.people", value="、".join(view.people)))
    if view.hidden_people:
        lines.append(_("activity.line.people_count", count=view.hidden_people))
    return lines


def render_activity(_: Messages, view: ActivityView) -> str:
    """The reply to an activity message: what was understood, what was not, what to do."""
    status = view.activity.status
    title = {
        "confirmed": "activity.title_confirmed",
        "discarded": "activity.title_discarded",
    }.get(status, "activity.title")
    lines = [_(title), *field_lines(_, view)]
    unparsed = list(view.unparsed)
    building = "?"
    if {"unknown_building", "ambiguous_building"} & set(view.problems) and unparsed:
        building = unparsed.pop()  # storage appends the building it could not place last
    notes = [
        _(
            f"activity.problem.{code}",
            date=view.activity.occurred_on.isoformat(),
            building=building,
        )
        for code in view.problems
    ]
    shown = (
        []
        if view.public
        else [mask_personal_numbers(p[:MAX_FRAGMENT_CHARS]) for p in unparsed[:MAX_UNPARSED_SHOWN]]
    )
    if shown:
        more = len(unparsed) - len(shown)
        text = "、".join(shown) + (_("activity.unparsed_more", count=more) if more > 0 else "")
        notes.append(_("activity.unparsed", parts=text))
    if view.unknown_mentions and not view.public:
        notes.append(_("activity.unknown_mentions", names=" ".join(view.unknown_mentions)))
    if notes:
        lines.append("")
        lines += [f"⚠️ {note}" for note in notes]
    if status == "unconfirmed":
        lines += ["", _("activity.ask_confirm")]
    return "\n".join(lines)


# -- reading a corrected value ---------------------------------------------------------------

_INTEGER = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?\d+(?:\.\d+)?")
_MINUTES = re.compile(r"分钟|min", re.IGNORECASE)
_COUNT_UNITS = re.compile(r"[人名位户家个]|people|persons|households|homes", re.IGNORECASE)


def _plain(text: str) -> str:
    return convert_numbers(normalise(text)).strip()


def read_count(text: str) -> int | None:
    """``12``, ``12人``, ``十二人``, ``十二`` → 12; None if there is no number."""
    plain = _plain(text)
    match = _INTEGER.search(plain)
    if match is not None:
        return int(match.group(0))
    return chinese_to_int(_COUNT_UNITS.sub("", plain).strip())


def read_hours(text: str, *, today: date) -> float | None:
    """``2``, ``2小时``, ``两小时``, ``半小时``, ``90分钟``, ``1.5h`` → hours; None if none."""
    plain = _plain(text)
    if _DECIMAL.fullmatch(plain):
        return float(plain)
    parsed = parse_message(f"#志愿 {text}", today=today)
    if parsed.hours is not None:
        return parsed.hours
    match = _DECIMAL.search(plain)
    if match is None:
        return None
    value = float(match.group(0))
    return round(value / 60, 2) if _MINUTES.search(plain) else value


def read_day(text: str, *, today: date, locale: str) -> date | None:
    """``昨天``, ``11月3日``, ``2026-11-03``, ``上周六`` → the date; None if none or invalid."""
    reading = read_date(WorkingText(_plain(text)), today=today, locale=locale)
    if not reading.found or "invalid_date" in reading.problems:
        return None
    return reading.value


def _named_values(prefix: str, codes: Sequence[str]) -> dict[str, str]:
    """Every way to write a value: its code and its label in each locale."""
    names: dict[str, str] = {}
    for code in codes:
        names[code.lower()] = code
        for locale in LOCALE_DIRS:
            names[Messages(locale)(f"{prefix}.{code}").lower()] = code
    return names


def read_activity_type(text: str) -> str | None:
    word = normalise(text).strip().lstrip("#").strip().lower()
    tags: dict[str, str] = lexicon().table("tags", "activity")
    names = _named_values("activity.type", ACTIVITY_TYPES) | {
        k.lower(): v for k, v in tags.items()
    }
    return names.get(word)


def read_meeting_type(text: str, *, today: date) -> str | None:
    word = normalise(text).strip().lower()
    named = _named_values("activity.meeting", MEETING_TYPES)
    if word in named:
        return named[word]
    found = parse_message(f"#会议 {text}", today=today).meeting_type
    return found if found != "other" else None


def read_decision(text: str, *, today: date) -> str | None:
    word = normalise(text).strip().lower()
    named = _named_values("activity.decision", DECISIONS)
    if word in named:
        return named[word]
    return parse_message(f"#会议 {text}", today=today).decision


def read_field_value(field: str, text: str, *, today: date, locale: str) -> Any:
    """A person's answer for ``field`` as a value for storage (None when unreadable)."""
    if field in ("participants", "households"):
        return read_count(text)
    if field == "hours":
        return read_hours(text, today=today)
    if field == "date":
        return read_day(text, today=today, locale=locale)
    if field == "activity_type":
        return read_activity_type(text)
    if field == "meeting_type":
        return read_meeting_type(text, today=today)
    if field == "decision":
        return read_decision(text, today=today)
    if field == "building":
        return parse_message(f"#志愿 {text}", today=today).building or text.strip()
    return text.strip()
