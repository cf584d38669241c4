"""Dates in messages, read relative to a given `today` (the parser needs no clock).

Rules (documented for users of `govbot parse` and the bot's correction buttons):

- No date in the message: the activity happened `today`.
- 今天/昨天/前天, today/yesterday: relative to `today`.
- 上周六 (last week's Saturday, weeks start on Monday), 本周三/这周三 (this week's Wednesday,
  which may still be ahead: then `future_date`), 周三/星期三 alone (the most recent Wednesday,
  today included), "last Saturday" (the most recent Saturday before today), "Saturday" alone
  (the most recent, today included).
- 11月3日, 11.3, 11/3, Nov 3, 3 Nov: without a year, this year unless that is after `today`,
  then last year (a log is about the past). With locale en-GB/en_GB, 3/11 is day/month.
- 2026-11-03, 2026/11/3, 2026年11月3日: a date after `today` is a `future_date` problem.
- A date that does not exist (2月30日) is an `invalid_date` problem and gives no date.
- Only the first date counts; later ones are reported as unparsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from handlers.parsing.lexicon import alternation, lexicon, word_alternation
from handlers.parsing.working import WorkingText


@dataclass
class DateReading:
    """The date found (if any) and what went wrong reading dates."""

    value: date | None = None
    found: bool = False
    problems: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _DatePatterns:
    full: re.Pattern[str]
    month_day_zh: re.Pattern[str]
    numeric: re.Pattern[str]
    month_name_first: re.Pattern[str]
    day_first: re.Pattern[str]
    weekday_zh: re.Pattern[str]
    weekday_en: re.Pattern[str]
    relative: re.Pattern[str]


@cache
def _patterns() -> _DatePatterns:
    table = lexicon()
    months = word_alternation(table.table("dates", "months_en"))
    prefixes = alternation(table.table("dates", "week_prefix_zh"))
    weekdays_zh = alternation(table.table("dates", "weekdays_zh"))
    weekdays_en = word_alternation(table.table("dates", "weekdays_en"))
    relative_words = [
        *table.words("dates", "today_zh"),
        *table.words("dates", "yesterday_zh"),
        *table.words("dates", "day_before_zh"),
    ]
    relative_en = [
        *table.words("dates", "today_en"),
        *table.words("dates", "yesterday_en"),
        *table.words("dates", "day_before_en"),
    ]
    flags = re.IGNORECASE
    return _DatePatterns(
        full=re.compile(
            r"(?<![\d.])(\d{4})\s?[-/.年]\s?(\d{1,2})\s?[-/.月]\s?(\d{1,2})\s?[日号]?(?![\d.])"
        ),
        month_day_zh=re.compile(r"(?<![\d.])(\d{1,2})\s?月\s?(\d{1,2})\s?[日号]?(?![\d.])"),
        numeric=re.compile(
            r"(?<![\d./:-])(\d{1,2})[./](\d{1,2})(?![\d./:%])"
            r"(?!\s{0,2}(?:[a-z%]|元|万|米|公|斤|块|吨|车|袋))",
            flags,
        ),
        month_name_first=re.compile(
            rf"{months}\.?\s{{0,2}}(\d{{1,2}})(?:st|nd|rd|th)?(?![\d])", flags
        ),
        day_first=re.compile(
            rf"(?<![\d.])(\d{{1,2}})(?:st|nd|rd|th)?\s{{0,2}}(?:of\s{{1,2}})?{months}", flags
        ),
        weekday_zh=re.compile(rf"({prefixes})({weekdays_zh})(?![次个切起样直般些定])"),
        weekday_en=re.compile(rf"(?:(?<![a-z])(last|this|on)\s{{1,2}})?({weekdays_en})", flags),
        relative=re.compile(
            f"({alternation(relative_words)}|{word_alternation(relative_en)})", flags
        ),
    )


_LATIN = re.compile("[a-z]", re.IGNORECASE)


class _DateReader:
    """Consumes date expressions from the working text, keeping the first one."""

    def __init__(self, today: date, locale: str) -> None:
        self.today = today
        self.day_first_numeric = locale.replace("_", "-").lower() in {"en-gb", "en-au", "en-in"}
        self.reading = DateReading()

    def read(self, work: WorkingText) -> DateReading:
        patterns = _patterns()
        # The English month and weekday names need a Latin letter (IGNORECASE folds a few
        # others into them, which _LATIN matches too): most messages have none, and those
        # three passes were two thirds of reading dates.
        english = _LATIN.search(work.text) is not None
        work.consume(patterns.full, self._full)
        work.consume(patterns.month_day_zh, self._month_day)
        work.consume(patterns.numeric, self._numeric)
        if english:
            work.consume(patterns.month_name_first, self._month_name_first)
            work.consume(patterns.day_first, self._day_first)
        work.consume(patterns.weekday_zh, self._weekday_zh)
        if english:
            work.consume(patterns.weekday_en, self._weekday_en)
        work.consume(patterns.relative, self._relative)
        return self.reading

    # -- one callback per pattern: each returns True when it understood the match -----------

    def _full(self, match: re.Match[str]) -> bool:
        year, month, day = (int(group) for group in match.groups())
        return self._keep(match, _make_date(year, month, day), yearless=False)

    def _month_day(self, match: re.Match[str]) -> bool:
        month, day = int(match.group(1)), int(match.group(2))
        return self._keep_yearless(match, month, day)

    def _numeric(self, match: re.Match[str]) -> bool:
        first, second = int(match.group(1)), int(match.group(2))
        month, day = (second, first) if self.day_first_numeric else (first, second)
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return False  # 2.5 hours, 0.75: not a date at all
        return self._keep_yearless(match, month, day)

    def _month_name_first(self, match: re.Match[str]) -> bool:
        month = _month_number(match.group(0))
        return self._keep_yearless(match, month, int(match.group(1)))

    def _day_first(self, match: re.Match[str]) -> bool:
        month = _month_number(match.group(0))
        return self._keep_yearless(match, month, int(match.group(1)))

    def _weekday_zh(self, match: re.Match[str]) -> bool:
        table = lexicon()
        offset = int(table.table("dates", "week_prefix_zh")[match.group(1)])
        weekday = int(table.table("dates", "weekdays_zh")[match.group(2)])
        monday = self.today - timedelta(days=self.today.weekday())
        if offset == 99:  # 周三 alone: the most recent one, today included
            value = _most_recent(self.today, weekday, include_today=True)
        else:
            value = monday + timedelta(weeks=offset, days=weekday)
        return self._keep(match, value, yearless=False)

    def _weekday_en(self, match: re.Match[str]) -> bool:
        prefix = (match.group(1) or "").lower()
        name = match.group(2).lower()
        if not prefix and len(name) < 6:
            return False  # "sat", "wed" alone are too often other words
        weekday = int(lexicon().table("dates", "weekdays_en")[name])
        if prefix == "this":
            monday = self.today - timedelta(days=self.today.weekday())
            value = monday + timedelta(days=weekday)
        else:
            value = _most_recent(self.today, weekday, include_today=prefix != "last")
        return self._keep(match, value, yearless=False)

    def _relative(self, match: re.Match[str]) -> bool:
        table = lexicon()
        word = match.group(0).lower()
        if word in table.words("dates", "today_zh") or word in table.words("dates", "today_en"):
            days = 0
        elif word in table.words("dates", "yesterday_zh") or word in table.words(
            "dates", "yesterday_en"
        ):
            days = 1
        else:
            days = 2
        return self._keep(match, self.today - timedelta(days=days), yearless=False)

    # -- bookkeeping -----------------------------------------------------------------------

    def _keep_yearless(self, match: re.Match[str], month: int, day: int) -> bool:
        value = _make_date(self.today.year, month, day)
        in_future = value is not None and value > self.today
        leap_day = value is None and (month, day) == (2, 29)
        if in_future or leap_day:
            value = _make_date(self.today.year - 1, month, day)
        return self._keep(match, value, yearless=True)

    def _keep(self, match: re.Match[str], value: date | None, *, yearless: bool) -> bool:
        reading = self.reading
        if reading.found:
            reading.extra.append(match.group(0).strip())
            return True
        reading.found = True
        if value is None:
            reading.problems.append("invalid_date")
            return True
        if value > self.today and not yearless:
            reading.problems.append("future_date")
        reading.value = value
        return True


def read_date(work: WorkingText, *, today: date, locale: str) -> DateReading:
    """Consume the date expressions in the working text and return the first one read."""
    return _DateReader(today, locale).read(work)


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _most_recent(today: date, weekday: int, *, include_today: bool) -> date:
    back = (today.weekday() - weekday) % 7
    if back == 0 and not include_today:
        back = 7
    return today - timedelta(days=back)


def _month_number(text: str) -> int:
    months: dict[str, int] = lexicon().table("dates", "months_en")
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in months:
            return int(months[word])
    return 0
