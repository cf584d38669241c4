"""The numbers of the closed loop, in one place: deadlines per tier and the time windows.

Defaults follow the 12345 practice named in DESIGN §3.1. A deployment changes them by building
its own :class:`IssuePolicy` (the handlers read one from ``services.extras["issue_policy"]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType


@dataclass(frozen=True)
class TierDeadlines:
    """How long a tier allows to respond (受理) and to resolve (办结), from the report."""

    respond: timedelta
    resolve: timedelta


DEFAULT_TIERS: Mapping[str, TierDeadlines] = MappingProxyType(
    {
        "urgent": TierDeadlines(respond=timedelta(minutes=30), resolve=timedelta(hours=24)),
        "normal": TierDeadlines(respond=timedelta(hours=24), resolve=timedelta(days=7)),
        "complex": TierDeadlines(respond=timedelta(hours=24), resolve=timedelta(days=15)),
    }
)


@dataclass(frozen=True)
class IssuePolicy:
    """Deadlines and windows; every field has the documented default."""

    tiers: Mapping[str, TierDeadlines] = field(default_factory=lambda: DEFAULT_TIERS)
    # Remind once when this share of the allowed time is left.
    remind_when_left: float = 0.25
    # Escalate to the town when the time taken reaches this multiple of the time allowed.
    escalate_factor: float = 2.0
    # A resolved issue the reporter never confirms is closed as "resolved, unconfirmed".
    auto_close_after: timedelta = timedelta(days=3)
    # A report like an earlier one (same place and category) within this window is offered
    # as a duplicate.
    duplicate_window: timedelta = timedelta(days=7)
    # Photos and locations sent this soon after a report (or a resolution) attach to it.
    attach_window: timedelta = timedelta(minutes=10)

    def deadlines(self, tier: str) -> TierDeadlines:
        return self.tiers.get(tier, self.tiers["normal"])

    def due_times(self, tier: str, start: datetime) -> tuple[datetime, datetime]:
        """``(respond by, resolve by)`` for an issue of ``tier`` reported at ``start``."""
        deadlines = self.deadlines(tier)
        return start + deadlines.respond, start + deadlines.resolve


DEFAULT_POLICY = IssuePolicy()
