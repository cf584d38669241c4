"""The pure free-text parser: how govbot reads a community worker's message (DESIGN §3.2).

`parse_message(text, today=…)` returns a `ParseResult`; `describe(result, locale)` says in
plain words what was understood. No Telegram, no database: the handlers and `govbot parse`
both use it.
"""

from __future__ import annotations

from handlers.parsing.parser import parse_message, parse_message_strict
from handlers.parsing.render import describe
from handlers.parsing.result import (
    ACTIVITY_TYPES,
    DECISIONS,
    FIELDS,
    KINDS,
    MEETING_TYPES,
    PROBLEM_CODES,
    ActivityType,
    Decision,
    Kind,
    MeetingType,
    ParseResult,
)

__all__ = [
    "ACTIVITY_TYPES",
    "DECISIONS",
    "FIELDS",
    "KINDS",
    "MEETING_TYPES",
    "PROBLEM_CODES",
    "ActivityType",
    "Decision",
    "Kind",
    "MeetingType",
    "ParseResult",
    "describe",
    "parse_message",
    "parse_message_strict",
]
