"""How fast the outbox sender may send: Telegram's flood limits as sliding windows.

Telegram allows about 30 messages a second overall, 20 a minute to one group and about one a
second to one private chat. ``Pacer`` keeps a sliding window of send times per limit and says
how long to wait before the next send to a chat. It is deliberately pessimistic about time:

- a send counts from the moment it starts, and is never forgotten while its request is still
  in flight;
- once answered it is dated by when the answer came back, which is no earlier than when
  Telegram counted it.

So the windows never think a send left earlier than it did on Telegram's side, and pacing that
passes here passes there.

Because a slot is held from its start until a window's span after its answer, every send's
own latency is lost from the allowed rate. Sends are therefore spread evenly over the overall
window (one every ``span / limit`` seconds) rather than started in bursts: a burst of sends
answered one after another holds every slot of the burst for the whole burst's latency.

``scale`` compresses every window (and every retry wait) for
benchmarks: ``scale=60`` allows 20 messages a *second* to a group.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

# Sleeping exactly until a window frees can land a rounding error short of it.
_EPSILON = 1e-6
# How many spread-out sends may start back to back to catch up with their schedule. A process
# the OS set aside for longer than this many gaps loses those sends' time for good: 8 (9 ms at
# 900 sends/s) rides out a busy machine's scheduling stalls, where 3 lost 3-5% of the rate
# (docs/performance.md, "Fan-out"). The windows still bound every burst.
_CATCH_UP = 8
# The windows' spans in real seconds: overall and private chats 1 s, a group a minute.
_SECOND, _MINUTE = 1.0, 60.0


@dataclass(frozen=True, slots=True)
class Pacing:
    """The limits the sender keeps to (Telegram's, by default)."""

    overall_per_second: int = 30
    group_per_minute: int = 20
    private_per_second: int = 1
    scale: float = 1.0

    def seconds(self, real_seconds: float) -> float:
        """A duration on this pacing's (possibly compressed) time scale."""
        return real_seconds / self.scale


def retry_after_seconds(retry_after: timedelta | float) -> float:
    """How long a 429 ``RetryAfter`` asks to wait (a timedelta under PTB_TIMEDELTA)."""
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


def is_group(chat_id: int) -> bool:
    """Groups, supergroups and channels have negative ids; private chats positive ones."""
    return chat_id < 0


class Slot:
    """One send to ``chat_id`` counted in the windows: open while in flight, dated when
    answered."""

    __slots__ = ("chat_id", "finished_at")

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id
        self.finished_at: float | None = None


class _Window:
    """At most ``limit`` sends in any ``span`` seconds."""

    __slots__ = ("limit", "slots", "span")

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.slots: list[Slot] = []

    def prune(self, now: float) -> None:
        cutoff = now - self.span
        self.slots = [
            slot for slot in self.slots if slot.finished_at is None or slot.finished_at > cutoff
        ]

    def wait(self, now: float) -> float | None:
        """Seconds until one more send fits; None while only in-flight sends could free it."""
        self.prune(now)
        excess = len(self.slots) - self.limit + 1
        if excess <= 0:
            return 0.0
        finished = sorted(slot.finished_at for slot in self.slots if slot.finished_at is not None)
        if len(finished) < excess:
            return None
        return finished[excess - 1] + self.span - now + _EPSILON


class Pacer:
    """Sliding windows overall and per chat, plus pauses ordered by Telegram's 429s."""

    def __init__(self, pacing: Pacing, monotonic: Callable[[], float]) -> None:
        self.pacing = pacing
        self.monotonic = monotonic
        self._overall = _Window(pacing.overall_per_second, pacing.seconds(_SECOND))
        self._chats: dict[int, _Window] = {}
        # Answered sends in the order they were answered, to forget the windows of chats that
        # got nothing for longer than any window's span: a fan-out reaches every chat once, and
        # 63,000 windows kept after it would be memory and garbage-collector work for nothing.
        self._answered: deque[Slot] = deque()
        self._longest_span = pacing.seconds(max(_SECOND, _MINUTE))
        self._chat_paused: dict[int, float] = {}
        self._all_paused = 0.0
        self._gap = self._overall.span / max(self._overall.limit, 1)
        self._next_start = 0.0  # spreading sends: no start before this

    def chat_wait(self, chat_id: int, now: float) -> float | None:
        """Seconds until ``chat_id`` may get its next message (ignoring the overall limit)."""
        wait = max(0.0, self._chat_paused.get(chat_id, 0.0) - now)
        window = self._chats.get(chat_id)
        if window is None:
            return wait
        window_wait = window.wait(now)
        if window_wait is None:
            return None
        return max(wait, window_wait)

    def overall_wait(self, now: float) -> float | None:
        """Seconds until any message may go out."""
        window_wait = self._overall.wait(now)
        if window_wait is None:
            return None
        return max(window_wait, self._all_paused - now, self._next_start - now)

    def reserve(self, chat_id: int) -> Slot:
        """Count a send to ``chat_id`` that starts now."""
        slot = Slot(chat_id)
        # Behind schedule (a sleep overslept), up to a few sends may catch up at once.
        now = self.monotonic()
        self._next_start = max(self._next_start, now - _CATCH_UP * self._gap) + self._gap
        self._overall.slots.append(slot)
        self._chat_window(chat_id).slots.append(slot)
        return slot

    def finish(self, slot: Slot) -> None:
        """The send's answer came back (whatever it said)."""
        now = self.monotonic()
        slot.finished_at = now
        self._answered.append(slot)
        horizon = now - self._longest_span
        while self._answered:
            oldest = self._answered[0].finished_at
            if oldest is None or oldest > horizon:
                break
            chat_id = self._answered.popleft().chat_id
            window = self._chats.get(chat_id)
            if window is not None:
                window.prune(now)
                if not window.slots:
                    del self._chats[chat_id]

    def tracked_chats(self) -> int:
        """How many chats' windows are kept (those sent to within the longest span)."""
        return len(self._chats)

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        until = self.monotonic() + seconds
        self._chat_paused[chat_id] = max(self._chat_paused.get(chat_id, 0.0), until)

    def pause_all(self, seconds: float) -> None:
        self._all_paused = max(self._all_paused, self.monotonic() + seconds)

    def other_chats_paused(self, chat_id: int) -> bool:
        """Is a 429 pause still running for some chat other than ``chat_id``?"""
        now = self.monotonic()
        expired = [chat for chat, until in self._chat_paused.items() if until <= now]
        for chat in expired:
            del self._chat_paused[chat]
        return any(chat != chat_id for chat in self._chat_paused)

    def _chat_window(self, chat_id: int) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            if is_group(chat_id):
                window = _Window(self.pacing.group_per_minute, self.pacing.seconds(_MINUTE))
            else:
                window = _Window(self.pacing.private_per_second, self.pacing.seconds(_SECOND))
            self._chats[chat_id] = window
        return window
