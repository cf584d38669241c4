"""What starts what: hashtags, commands and check-in phrases decide the kind of a message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import cast

from handlers.parsing.lexicon import alternation, lexicon, word_alternation
from handlers.parsing.result import ActivityType, Kind

# Check-in phrases only make an untagged message a check-in when it is short: a long message
# that happens to say 无异常 somewhere is more likely a patrol log written without a tag.
MAX_UNTAGGED_CHECKIN_CHARS = 60


@dataclass(frozen=True)
class Trigger:
    """The kind a message asked for, and the message without its tags/command."""

    kind: Kind
    activity_type: ActivityType | None
    body: str
    by_command: bool


@dataclass(frozen=True)
class _Patterns:
    tag: re.Pattern[str]
    command: re.Pattern[str]
    checkin_clear: re.Pattern[str]
    checkin_report: re.Pattern[str]


@cache
def _patterns() -> _Patterns:
    table = lexicon()
    tags = [
        *table.table("tags", "activity"),
        *table.words("tags", "issue"),
        *table.words("tags", "checkin"),
    ]
    cjk_tags = [tag for tag in tags if not tag.isascii()]
    latin_tags = [tag for tag in tags if tag.isascii()]
    commands = alternation(table.table("commands"))
    flags = re.IGNORECASE
    return _Patterns(
        # A CJK tag may run straight into the text (#志愿今天…); a latin one may not.
        tag=re.compile(
            rf"#\s?(?:({alternation(cjk_tags)})|({alternation(latin_tags)})(?![a-z0-9_-]))",
            flags,
        ),
        command=re.compile(rf"^\s*/({commands})(?:@[a-z0-9_]{{1,64}})?(?![a-z0-9_])", flags),
        checkin_clear=re.compile(
            f"{alternation(table.words('checkin', 'clear_zh'))}|"
            f"{word_alternation(table.words('checkin', 'clear_en'))}",
            flags,
        ),
        checkin_report=re.compile(
            f"{alternation(table.words('checkin', 'report_zh'))}|"
            f"{word_alternation(table.words('checkin', 'report_en'))}",
            flags,
        ),
    )


def read_trigger(text: str) -> Trigger:
    """Find the tag or command that says what the message is; strip every known tag."""
    patterns = _patterns()
    command = patterns.command.match(text)
    if command is not None:
        kind = cast(Kind, lexicon().table("commands")[command.group(1).lower()])
        body = patterns.tag.sub(" ", text[command.end() :])
        return Trigger(kind, None, body, by_command=True)
    first = patterns.tag.search(text)
    body = patterns.tag.sub(" ", text)
    if first is not None:
        kind, activity_type = _tag_kind(first.group(1) or first.group(2).lower())
        return Trigger(kind, activity_type, body, by_command=False)
    if len(body.strip()) <= MAX_UNTAGGED_CHECKIN_CHARS and (
        patterns.checkin_clear.search(body) or patterns.checkin_report.search(body)
    ):
        return Trigger("checkin", None, body, by_command=False)
    return Trigger("unknown", None, body, by_command=False)


def _tag_kind(tag: str) -> tuple[Kind, ActivityType | None]:
    table = lexicon()
    activity_tags = table.section("tags", "activity")
    if tag in activity_tags:
        return "activity", cast(ActivityType, activity_tags[tag])
    if tag in table.words("tags", "issue"):
        return "issue", None
    return "checkin", None


def guess_activity_type(text: str) -> ActivityType | None:
    """Guess the activity type of a /log message from its words; None when nothing fits."""
    table = lexicon()
    lowered = text.lower()
    for activity_type in table.words("activity_keywords", "order"):
        for word in table.words("activity_keywords", activity_type):
            if _contains_word(lowered, word.lower()):
                return cast(ActivityType, activity_type)
    return None


def checkin_phrases() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Return the patterns for "nothing to report" and "something to report" phrases."""
    patterns = _patterns()
    return patterns.checkin_clear, patterns.checkin_report


def _contains_word(lowered: str, word: str) -> bool:
    if not word.isascii():
        return word in lowered
    return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", lowered) is not None
