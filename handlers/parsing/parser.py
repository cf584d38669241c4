"""parse_message: one community worker's message in, one structured ParseResult out.

Pure and total: no clock (`today` is given), no I/O beyond reading the packaged data files
once, and no input string makes it raise.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import cast

from handlers.parsing.buildings import read_building
from handlers.parsing.dates import read_date
from handlers.parsing.lexicon import lexicon, word_alternation
from handlers.parsing.numerals import convert_numbers, normalise
from handlers.parsing.quantities import Quantities, read_quantities
from handlers.parsing.result import (
    ActivityType,
    Decision,
    MeetingType,
    ParseResult,
)
from handlers.parsing.triggers import Trigger, checkin_phrases, guess_activity_type, read_trigger
from handlers.parsing.working import MARK, WorkingText
from storage.categories import load_catalog

logger = logging.getLogger(__name__)

MAX_TOPIC_CHARS = 60
# Longer digit runs are phone or ID numbers, not data we failed to read: never echo them back.
MAX_UNPARSED_DIGITS = 6
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_TOPIC_SEPARATORS = re.compile(r"[\s,，。.;；、!！?？:：()（）\[\]【】\"“”'‘’…~\-—–/|]+")
_EDGE_PUNCTUATION = " ,，。.;；、!！?？:：~-—"


def parse_message(text: str, *, today: date, locale: str = "zh") -> ParseResult:
    """Read a message as an issue report, an activity log, a check-in or nothing known.

    Never raises: should a bug slip through, the message comes back as `unknown` with all of
    it listed as unparsed, and the error is logged, so the user's words are never lost.
    """
    try:
        return parse_message_strict(text, today=today, locale=locale)
    except Exception:
        logger.exception("parser failed on a message of %d characters", len(text))
        return ParseResult(kind="unknown", text=text, unparsed=(text.strip(),) if text else ())


def parse_message_strict(text: str, *, today: date, locale: str = "zh") -> ParseResult:
    """The parser without the safety net (tests call this, so bugs are not hidden)."""
    trigger = read_trigger(normalise(text))
    activity_type = trigger.activity_type
    problems: list[str] = []
    if trigger.kind == "activity" and activity_type is None:
        activity_type = guess_activity_type(trigger.body)
        if activity_type is None and _has_content(trigger.body):
            problems.append("unknown_activity_type")
    if not _has_content(trigger.body) and trigger.kind != "checkin":
        problems.append("empty")

    work = WorkingText(convert_numbers(trigger.body))
    quantities = read_quantities(work)
    reading = read_date(work, today=today, locale=locale)
    building = read_building(work)
    meeting_type = _read_meeting_type(work, activity_type)
    decision = None
    if activity_type in ("meeting", "party") or meeting_type is not None:
        decision = _read_decision(work)
    checkin_category = _read_checkin(work, trigger) if trigger.kind == "checkin" else None
    unparsed = [*reading.extra, *_read_unknown_tags(work), *_leftover_numbers(work)]
    problems += reading.problems

    when = reading.value if reading.found else today
    if trigger.kind == "issue":
        report = _clean_edges(trigger.body)
        return ParseResult(
            kind="issue",
            topic=report or None,
            category=load_catalog().classify(trigger.body).id if report else None,
            problems=tuple(problems),
            text=text,
            date=when,
            building=building,
        )
    topic = _topic(work, activity_type or ("meeting" if meeting_type else None))
    if trigger.kind == "checkin":
        return ParseResult(
            kind="checkin",
            topic=topic,
            category=checkin_category,
            problems=tuple(problems),
            text=text,
            date=when,
            building=building,
        )
    counts = _Counts.settle(quantities)
    return ParseResult(
        kind=trigger.kind,
        activity_type=activity_type,
        meeting_type=meeting_type,
        participants=counts.participants,
        party_members=counts.party_members,
        hours=counts.hours,
        person_hours=counts.person_hours,
        households=counts.households,
        topic=topic,
        decision=decision,
        unparsed=tuple(dict.fromkeys(fragment for fragment in unparsed if fragment)),
        problems=tuple(dict.fromkeys([*problems, *quantities.problems])),
        approximate=quantities.approximate,
        text=text,
        date=when,
        building=building,
    )


@dataclass(frozen=True)
class _Counts:
    participants: int | None
    party_members: int | None
    hours: float | None
    person_hours: float | None
    households: int | None

    @classmethod
    def settle(cls, found: Quantities) -> _Counts:
        """Choose and check the final numbers; problems are recorded on `found`."""
        participants = found.participants()
        party_members = found.party_members()
        whole = not any(count.among for count in found.party)
        if participants is None and party_members is not None and whole and not found.people:
            participants = party_members  # "党员12人参加": the party members are the attendees
        hours = found.checked_hours(found.hours())
        person_hours = found.total_person_hours()
        if person_hours is not None:
            if person_hours <= 0 or person_hours > 24 * 10_000:
                found.checked_hours(-1.0)
                person_hours = None
            elif participants and hours is None:
                hours = found.checked_hours(round(person_hours / participants, 2))
        elif participants is not None and hours is not None:
            person_hours = round(participants * hours, 2)
        if participants is not None and party_members is not None and party_members > participants:
            found.problems.append("party_members_exceed_participants")
        return cls(participants, party_members, hours, person_hours, found.household_count())


@cache
def _meeting_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    table = lexicon()
    word_type: dict[str, str] = {}
    for meeting_type in table.words("meeting_types", "order"):
        for word in table.words("meeting_types", meeting_type):
            word_type.setdefault(word.lower(), meeting_type)
    return re.compile(word_alternation(word_type), re.IGNORECASE), word_type


def _read_meeting_type(
    work: WorkingText, activity_type: ActivityType | None
) -> MeetingType | None:
    pattern, word_type = _meeting_pattern()
    found: list[str] = []

    def accept(match: re.Match[str]) -> bool:
        found.append(word_type[match.group(0).lower()])
        return True

    work.consume(pattern, accept)
    if found:
        return cast(MeetingType, found[0])
    return "other" if activity_type == "meeting" else None


@cache
def _decision_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    table = lexicon()
    word_decision: dict[str, str] = {}
    for decision in ("rejected", "pending", "passed"):
        for suffix in ("zh", "en"):
            for word in table.words("decisions", f"{decision}_{suffix}"):
                word_decision.setdefault(word.lower(), decision)
    return re.compile(word_alternation(word_decision), re.IGNORECASE), word_decision


def _read_decision(work: WorkingText) -> Decision | None:
    pattern, word_decision = _decision_pattern()
    found: list[str] = []

    def accept(match: re.Match[str]) -> bool:
        following = match.string[match.end() : match.end() + 1]
        if re.fullmatch(f"[{_CJK}]", following) and following not in "了的":
            return False  # 通过走访了解: "by visiting", not a vote
        found.append(word_decision[match.group(0).lower()])
        return True

    work.consume(pattern, accept)
    return cast(Decision, found[0]) if found else None


def _read_checkin(work: WorkingText, trigger: Trigger) -> str | None:
    """Consume check-in phrases; return None for all clear, else a category id."""
    clear, report = checkin_phrases()
    said_clear: list[str] = []
    said_report: list[str] = []
    work.consume(clear, _collect(said_clear))
    work.consume(report, _collect(said_report))
    rest = _topic(WorkingText(work.text), None)
    if said_report or (rest and not said_clear):
        return load_catalog().classify(trigger.body).id
    return None


def _collect(found: list[str]) -> Callable[[re.Match[str]], bool]:
    def accept(match: re.Match[str]) -> bool:
        found.append(match.group(0))
        return True

    return accept


_UNKNOWN_TAG = re.compile(r"#[^\s#\x01]{1,30}")


def _read_unknown_tags(work: WorkingText) -> list[str]:
    found: list[str] = []
    work.consume(_UNKNOWN_TAG, _collect(found))
    return found


_LEFTOVER_NUMBER = re.compile(
    rf"(?<![\d.])-?\d+(?:\.\d+)?(?:\s?(?:[a-z]{{1,12}}(?![a-z])|%|[{_CJK}]))?", re.IGNORECASE
)


def _leftover_numbers(work: WorkingText) -> list[str]:
    found: list[str] = []
    for match in _LEFTOVER_NUMBER.finditer(work.text):
        digits = sum(char.isdigit() for char in match.group(0))
        if digits <= MAX_UNPARSED_DIGITS:
            found.append(match.group(0).strip())
    return found


@cache
def _filler_patterns() -> dict[str | None, re.Pattern[str]]:
    table = lexicon()
    common = [
        *table.words("filler", "chatter_zh"),
        *table.words("filler", "chatter_en"),
        *table.words("filler", "verbs_zh"),
        *table.words("filler", "verbs_en"),
    ]
    by_type = table.section("filler", "by_type")
    patterns: dict[str | None, re.Pattern[str]] = {
        None: re.compile(word_alternation(common), re.IGNORECASE)
    }
    for activity_type, words in by_type.items():
        patterns[activity_type] = re.compile(word_alternation([*common, *words]), re.IGNORECASE)
    return patterns


def _topic(work: WorkingText, activity_type: str | None) -> str | None:
    """The meaningful remainder: recognised pieces, chatter and emoji taken out."""
    patterns = _filler_patterns()
    remainder = WorkingText(work.text)
    remainder.consume(patterns.get(activity_type, patterns[None]), lambda _match: True)
    text = "".join(char for char in remainder.remainder() if _is_topic_char(char))
    # A removed piece between two CJK characters closes up (清理3号楼楼道 → 清理楼道);
    # elsewhere it separates words.
    text = re.sub(f"(?<=[{_CJK}]){MARK}(?=[{_CJK}])", "", text)
    segments = [segment for segment in _TOPIC_SEPARATORS.split(text.replace(MARK, " ")) if segment]
    topic = " ".join(segments)
    if len(topic) > MAX_TOPIC_CHARS:
        topic = topic[: MAX_TOPIC_CHARS - 1].rstrip() + "…"
    return topic or None


def _is_topic_char(char: str) -> bool:
    if char == MARK:
        return True
    category = unicodedata.category(char)
    return category[0] in "LNPZ" or category == "Sm"


def _has_content(text: str) -> bool:
    """True when the text has any letter or digit (emoji and punctuation alone are empty)."""
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def _clean_edges(text: str) -> str:
    text = "".join(char for char in text if _is_topic_char(char) and char != MARK)
    return re.sub(r"\s+", " ", text).strip(_EDGE_PUNCTUATION)
