"""Counts and durations: people, party members, households, hours, person-hours, time ranges.

Choices (documented because a reader could decide otherwise):

- 十余人, 20多名, 约30人, about 30 people: the number given (10, 20, 30), `approximate` true.
- Ranges 5-6人, 五六人, 5到6户: the lower bound, `approximate` true (we never overstate).
- Several people counts: one marked as a total (共/合计/一共/total) wins, else the first.
- Several durations: one marked as a total wins, else they are added (上午2小时下午1小时 → 3).
- A time range (下午2点到4点, 9:00-11:30) gives the hours when no duration is written.
- 人时/工时/person-hours is a total: hours per person = total / participants when both known.
- Nonsense values are dropped and named in `problems`: negative or zero counts, counts over
  10,000, hours per person over 24 or not above 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from handlers.parsing.lexicon import alternation, lexicon, word_alternation
from handlers.parsing.result import MAX_COUNT, MAX_HOURS
from handlers.parsing.working import WorkingText

_NUMBER = r"(?<![\d.])(?P<sign>(?:-|负)(?=\d))?(?P<n>\d{1,9}(?:\.\d{1,3})?)"
_RANGE_END = r"(?:\s{0,2}(?:-|~|到|至|—|–|to)\s{0,2}(?P<n2>\d{1,9}))?"


@dataclass
class _Count:
    value: float
    total: bool
    approximate: bool
    among: bool = False  # 其中党员3人: a part of the participants, not all of them


@dataclass
class Quantities:
    """What the count and duration extractors found."""

    people: list[_Count] = field(default_factory=list)
    party: list[_Count] = field(default_factory=list)
    households: list[_Count] = field(default_factory=list)
    durations: list[_Count] = field(default_factory=list)
    person_hours: list[_Count] = field(default_factory=list)
    range_hours: float | None = None
    problems: list[str] = field(default_factory=list)

    def participants(self) -> int | None:
        return self._count(self.people)

    def party_members(self) -> int | None:
        return self._count(self.party)

    def household_count(self) -> int | None:
        return self._count(self.households)

    @property
    def approximate(self) -> bool:
        return any(
            count.approximate
            for count in (*self.people, *self.party, *self.households, *self.durations)
        )

    def hours(self) -> float | None:
        """Hours per participant from durations, or else from a time range."""
        if self.durations:
            totals = [count for count in self.durations if count.total]
            chosen = totals[:1] if totals else self.durations
            return round(sum(count.value for count in chosen), 2)
        return self.range_hours

    def total_person_hours(self) -> float | None:
        if not self.person_hours:
            return None
        return round(self.person_hours[0].value, 2)

    def _count(self, counts: list[_Count]) -> int | None:
        if not counts:
            return None
        totals = [count for count in counts if count.total]
        value = (totals or counts)[0].value
        return self.checked_count(value)

    def checked_count(self, value: float) -> int | None:
        """Return the count if it makes sense, else None with the reason in `problems`."""
        if value < 0:
            self._problem("negative_count")
        elif value == 0:
            self._problem("zero_count")
        elif value > MAX_COUNT:
            self._problem("implausible_count")
        else:
            return int(value)
        return None

    def checked_hours(self, value: float | None) -> float | None:
        if value is None:
            return None
        if value <= 0 or value > MAX_HOURS:
            self._problem("implausible_hours")
            return None
        return value

    def _problem(self, code: str) -> None:
        if code not in self.problems:
            self.problems.append(code)


@dataclass(frozen=True)
class _Patterns:
    person_hours: re.Pattern[str]
    time_range_zh: re.Pattern[str]
    time_range_en: re.Pattern[str]
    clock_time: re.Pattern[str]
    duration: re.Pattern[str]
    minutes: re.Pattern[str]
    party_before: re.Pattern[str]
    party_after: re.Pattern[str]
    people: re.Pattern[str]
    people_en: re.Pattern[str]
    people_label: re.Pattern[str]
    households: re.Pattern[str]
    households_label: re.Pattern[str]


# Words written into the patterns below rather than taken from the lexicon; the prefilter
# (_needles) looks for the same ones.
_MERIDIEMS = ("am", "pm")
_PEOPLE_LABELS = ("人数", "attendance", "attendees", "participants")
_HOUSEHOLD_LABELS = ("户数", "households")
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})  # İ ı ſ


@cache
def _needles() -> dict[str, tuple[str, ...]]:
    """For a pattern that always ends in a unit (or label) word: those words, lowercased. The
    patterns are built from the same lexicon lists, so a text without any of them cannot match."""
    table = lexicon()

    def units(*keys: str) -> tuple[str, ...]:
        return tuple(w.lower() for key in keys for w in table.words("units", key))

    party = units("party_members_zh", "party_members_en")
    return {
        "person_hours": units("person_hours_zh", "person_hours_en"),
        "time_range_en": _MERIDIEMS,
        "duration": units("hours_zh", "hours_en"),
        "minutes": units("minutes_zh", "minutes_en"),
        "party_before": party,
        "party_after": party,
        "people_label": _PEOPLE_LABELS,
        "people": units("people_zh"),
        "people_en": units("people_en"),
        "households_label": _HOUSEHOLD_LABELS,
        "households": units("households_zh", "households_en"),
    }


@cache
def _patterns() -> _Patterns:
    table = lexicon()

    def words(key: str) -> str:
        return alternation(table.words("count_words", key))

    def units(key: str) -> str:
        return alternation(table.words("units", key))

    def en_units(key: str) -> str:
        return word_alternation(table.words("units", key))

    approx_en = word_alternation(table.words("count_words", "approx_en"))
    approx_before = f"(?:{words('approx_before_zh')}|{approx_en})"
    prefix = (
        rf"(?P<pre>(?:(?:{words('total_zh')}|{words('per_person_zh')}|{words('attend_zh')}|"
        rf"{words('nouns_zh')}|"
        rf"{approx_before}|{word_alternation(table.words('count_words', 'total_en'))})"
        r"\s{0,2}){0,3})"
    )
    after = (
        rf"\s{{0,2}}(?:个)?\s{{0,2}}(?P<approx>{words('approx_after_zh')})?\s{{0,2}}(?:个)?"
        r"\s{0,2}"
    )
    tail = rf"(?P<tail>\s{{0,2}}(?:{words('approx_tail_zh')}|{words('attend_after_zh')}))?"
    periods = alternation(table.table("dates", "periods_zh"))
    # 4点10分, 4点10, 4点半 — but not the "10" of "4点 10人": minutes follow 点 directly.
    minutes = (
        r"(?:(?P<half{i}>半)|(?P<mm{i}>\d{{1,2}})分|"
        r"(?P<mx{i}>\d{{2}})(?![\d余多来几个人名位户家]))"
    )
    clock = rf"(?P<h{{i}}>\d{{{{1,2}}}})(?:\s?[:：]\s?(?P<m{{i}}>\d{{{{2}}}})|\s?点{minutes}?)"
    flags = re.IGNORECASE
    meridiem, people_labels, household_labels = (
        "|".join(words) for words in (_MERIDIEMS, _PEOPLE_LABELS, _HOUSEHOLD_LABELS)
    )
    return _Patterns(
        person_hours=re.compile(
            rf"{prefix}{_NUMBER}\s{{0,3}}(?:个)?\s{{0,2}}"
            rf"(?:{units('person_hours_zh')}|{en_units('person_hours_en')})",
            flags,
        ),
        time_range_zh=re.compile(
            rf"(?P<p1>{periods})?\s{{0,2}}(?<![\d.:])(?P<h1>\d{{1,2}})"
            rf"(?:\s?[:：]\s?(?P<m1>\d{{2}})|\s?点{minutes.format(i=1)}?)?"
            rf"\s{{0,2}}(?:-|—|–|~|到|至|－){{1,2}}\s{{0,2}}(?P<p2>{periods})?\s{{0,2}}"
            + clock.format(i=2)
        ),
        time_range_en=re.compile(
            rf"(?<![\d.:])(?P<h1>\d{{1,2}})(?::(?P<m1>\d{{2}}))?\s{{0,2}}(?P<ap1>{meridiem})?"
            r"\s{0,2}(?:-|–|—|~|to|until|till)\s{0,2}(?P<h2>\d{1,2})(?::(?P<m2>\d{2}))?\s{0,2}"
            rf"(?P<ap2>{meridiem})(?![a-z])",
            flags,
        ),
        clock_time=re.compile(
            rf"(?:{periods})?\s{{0,2}}(?<![\d.])\d{{1,2}}(?:\s?点(?:半|\d{{1,2}}分)?|"
            rf":\d{{2}}(?!\d)|\s{{0,2}}(?:{meridiem})(?![a-z]))",
            flags,
        ),
        duration=re.compile(
            rf"{prefix}{_NUMBER}{after}(?:{units('hours_zh')}|{en_units('hours_en')})"
            r"(?:\s{0,2}(?P<min>\d{1,2})\s{0,2}(?:分钟|分|min(?:ute)?s?(?![a-z])))?",
            flags,
        ),
        minutes=re.compile(
            rf"{prefix}{_NUMBER}\s{{0,2}}(?:{units('minutes_zh')}|{en_units('minutes_en')})",
            flags,
        ),
        party_before=re.compile(
            rf"(?P<among>其中\s{{0,2}})?(?:{units('party_members_zh')}|{en_units('party_members_en')})"
            rf"(?:志愿者)?\s{{0,2}}[:：]?\s{{0,2}}(?:有|为|是|占)?\s{{0,2}}{_NUMBER}{_RANGE_END}"
            rf"\s{{0,2}}(?P<approx>{words('approx_after_zh')})?\s{{0,2}}"
            r"(?:人|名|位|个)?",
            flags,
        ),
        party_after=re.compile(
            rf"(?P<among>其中\s{{0,2}})?{_NUMBER}{_RANGE_END}{after}(?:名|位)?\s{{0,2}}"
            rf"(?:{units('party_members_zh')}|{en_units('party_members_en')})",
            flags,
        ),
        people=re.compile(
            rf"{prefix}{_NUMBER}{_RANGE_END}{after}(?P<unit>{units('people_zh')}){tail}"
        ),
        people_en=re.compile(
            rf"{prefix}{_NUMBER}{_RANGE_END}(?P<plus>\+)?\s{{0,3}}"
            rf"(?P<unit>{en_units('people_en')})",
            flags,
        ),
        people_label=re.compile(
            rf"(?:(?:参加|参会|到会|出席|参与|与会)?{people_labels})"
            rf"\s{{0,2}}[:：为是]?\s{{0,2}}(?P<pre>){_NUMBER}\s{{0,2}}(?P<approx>余|多)?"
            r"\s{0,2}(?:人|名|位)?",
            flags,
        ),
        households=re.compile(
            rf"{prefix}{_NUMBER}{_RANGE_END}\s{{0,2}}(?P<approx>{words('approx_after_zh')})?"
            rf"\s{{0,2}}(?:{units('households_zh')}(?![长属具电政乡])|"
            rf"{en_units('households_en')})",
            flags,
        ),
        households_label=re.compile(
            rf"(?:{household_labels})\s{{0,2}}[:：]?\s{{0,2}}(?P<pre>){_NUMBER}(?P<approx>)",
            flags,
        ),
    )


class _QuantityReader:
    def __init__(self) -> None:
        self.found = Quantities()
        table = lexicon()
        self.totals = (*table.words("count_words", "total_zh"), "total", "in total")
        self.approx_words = (
            *table.words("count_words", "approx_before_zh"),
            *table.words("count_words", "approx_en"),
        )

    def read(self, work: WorkingText) -> Quantities:
        patterns, needles = _patterns(), _needles()
        # Consuming only blanks text out: a word absent now is absent later. The three letters
        # IGNORECASE matches as i and s but lower() does not turn into them are folded first.
        lowered = work.text.translate(_FOLD).lower()

        def consume(name: str, accept: Callable[[re.Match[str]], bool]) -> None:
            """Run the pattern unless a word every match of it contains is not in the text
            (a regex pass costs 5-15 µs even when it finds nothing: most don't apply)."""
            words = needles.get(name)
            if words is None or any(word in lowered for word in words):
                work.consume(getattr(patterns, name), accept)

        consume("person_hours", self._into(self.found.person_hours))
        consume("time_range_en", self._time_range_en)
        consume("time_range_zh", self._time_range_zh)
        consume("duration", self._duration)
        consume("minutes", self._minutes)
        consume("clock_time", lambda _match: True)  # a time of day: no data
        consume("party_before", self._into(self.found.party))
        consume("party_after", self._into(self.found.party))
        consume("people_label", self._into(self.found.people))
        consume("people", self._into(self.found.people))
        consume("people_en", self._into(self.found.people))
        consume("households_label", self._into(self.found.households))
        consume("households", self._into(self.found.households))
        return self.found

    def _count(self, match: re.Match[str]) -> _Count:
        groups = match.groupdict()
        value = float(groups["n"])
        if groups.get("sign"):
            value = -value
        prefix = (groups.get("pre") or "").lower()
        approximate = bool(
            groups.get("approx")
            or groups.get("n2")
            or groups.get("plus")
            or any(word in prefix for word in self.approx_words)
            or any(word in (groups.get("tail") or "") for word in ("左右", "上下"))
        )
        total = any(word in prefix for word in self.totals)
        return _Count(value, total, approximate, among=bool(groups.get("among")))

    def _into(self, target: list[_Count]) -> Callable[[re.Match[str]], bool]:
        def accept(match: re.Match[str]) -> bool:
            target.append(self._count(match))
            return True

        return accept

    def _duration(self, match: re.Match[str]) -> bool:
        count = self._count(match)
        minutes = match.group("min")
        if minutes:
            count.value += int(minutes) / 60
        self.found.durations.append(count)
        return True

    def _minutes(self, match: re.Match[str]) -> bool:
        count = self._count(match)
        count.value /= 60
        self.found.durations.append(count)
        return True

    def _time_range_zh(self, match: re.Match[str]) -> bool:
        start = _clock(match, 1, match.group("p1"))
        end = _clock(match, 2, match.group("p2") or match.group("p1"))
        return self._set_range(start, end)

    def _time_range_en(self, match: re.Match[str]) -> bool:
        end_pm = match.group("ap2").lower() == "pm"
        start_ap = (match.group("ap1") or match.group("ap2")).lower()
        start = _hour_minute(match.group("h1"), match.group("m1"), start_ap == "pm")
        end = _hour_minute(match.group("h2"), match.group("m2"), end_pm)
        if start > end and match.group("ap1") is None:
            start -= 12  # "11-1pm" is 11am to 1pm
        return self._set_range(start, end)

    def _set_range(self, start: float, end: float) -> bool:
        if end <= start and end + 12 > start and end < 12:
            end += 12  # 11点到1点 is 11:00 to 13:00
        if self.found.range_hours is None:
            self.found.range_hours = round(float(end - start), 2) if end > start else 0.0
        return True


def _clock(match: re.Match[str], index: int, period: str | None) -> float:
    hour = int(match.group(f"h{index}"))
    minutes = match.group(f"m{index}") or match.group(f"mm{index}") or match.group(f"mx{index}")
    value = (
        hour + (int(minutes) / 60 if minutes else 0) + (0.5 if match.group(f"half{index}") else 0)
    )
    offsets: dict[str, int] = lexicon().table("dates", "periods_zh")
    if (
        period
        and offsets.get(period, 0) == 12
        and hour < 12
        and not (period == "中午" and hour >= 11)
    ):
        value += 12
    return value


def _hour_minute(hour: str, minutes: str | None, pm: bool) -> float:
    value = int(hour) % 12 if pm or int(hour) == 12 else int(hour)
    return value + (12 if pm else 0) + (int(minutes) / 60 if minutes else 0)


def read_quantities(work: WorkingText) -> Quantities:
    """Consume counts, durations and time ranges from the working text."""
    return _QuantityReader().read(work)
