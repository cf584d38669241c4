"""What the parser returns: one frozen record with a stable JSON shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args

Kind = Literal["issue", "activity", "checkin", "unknown"]
ActivityType = Literal[
    "volunteer", "meeting", "visit", "patrol", "drill", "training", "party", "service"
]
MeetingType = Literal[
    "review",
    "hearing",
    "coordination",
    "deliberation",
    "building",
    "owners_committee",
    "party",
    "other",
]
Decision = Literal["passed", "rejected", "pending"]

# The codes as tuples, spelled once (in the Literal types above).
KINDS: tuple[Kind, ...] = get_args(Kind)
ACTIVITY_TYPES: tuple[ActivityType, ...] = get_args(ActivityType)
MEETING_TYPES: tuple[MeetingType, ...] = get_args(MeetingType)
DECISIONS: tuple[Decision, ...] = get_args(Decision)

# Machine-readable problem codes, so the bot can say exactly what was wrong.
PROBLEM_CODES: tuple[str, ...] = (
    "empty",
    "negative_count",
    "zero_count",
    "implausible_count",
    "implausible_hours",
    "future_date",
    "invalid_date",
    "party_members_exceed_participants",
    "unknown_activity_type",
)

MAX_COUNT = 10_000
MAX_HOURS = 24.0

# The order of the JSON fields (and of `govbot parse --json` output).
FIELDS: tuple[str, ...] = (
    "kind",
    "activity_type",
    "meeting_type",
    "participants",
    "party_members",
    "hours",
    "person_hours",
    "households",
    "date",
    "building",
    "topic",
    "decision",
    "category",
    "text",
    "unparsed",
    "problems",
    "approximate",
)


@dataclass(frozen=True, slots=True)
class ParseResult:
    """How the bot reads one message.

    Counts are None when not given or when the value made no sense (the reason is then in
    `problems`). `hours` is per participant; `person_hours` is participants × hours. For a
    check-in, `category` None means "nothing to report" (无异常) and a category id means
    "something to report" (有情况), `other` when no category could be guessed.
    """

    kind: Kind
    text: str
    activity_type: ActivityType | None = None
    meeting_type: MeetingType | None = None
    participants: int | None = None
    party_members: int | None = None
    hours: float | None = None
    person_hours: float | None = None
    households: int | None = None
    date: date | None = None
    building: str | None = None
    topic: str | None = None
    decision: Decision | None = None
    category: str | None = None
    unparsed: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    approximate: bool = False

    @property
    def checkin_clear(self) -> bool:
        """True for a check-in that says there is nothing to report."""
        return self.kind == "checkin" and self.category is None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form: exactly the fields in `FIELDS`, dates as ISO strings."""
        return {
            "kind": self.kind,
            "activity_type": self.activity_type,
            "meeting_type": self.meeting_type,
            "participants": self.participants,
            "party_members": self.party_members,
            "hours": self.hours,
            "person_hours": self.person_hours,
            "households": self.households,
            "date": self.date.isoformat() if self.date is not None else None,
            "building": self.building,
            "topic": self.topic,
            "decision": self.decision,
            "category": self.category,
            "text": self.text,
            "unparsed": list(self.unparsed),
            "problems": list(self.problems),
            "approximate": self.approximate,
        }
