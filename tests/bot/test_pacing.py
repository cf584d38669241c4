"""The pacer's memory: a chat's window is kept while it can still hold back a send, no longer."""

from __future__ import annotations

from bot.pacing import Pacer, Pacing


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _send(pacer: Pacer, chat_id: int) -> None:
    pacer.finish(pacer.reserve(chat_id))


def test_after_a_fanout_the_windows_of_chats_sent_to_over_a_minute_ago_are_forgotten() -> None:
    clock = Clock()
    pacer = Pacer(Pacing(), clock)
    for n in range(300):  # a fan-out: one digest to each of 300 group chats
        _send(pacer, -100_000 - n)
        clock.t += 0.05
    assert pacer.tracked_chats() == 300  # all within the last minute: all may still matter
    clock.t += 61
    _send(pacer, -42)
    assert pacer.tracked_chats() == 1


def test_a_busy_groups_window_is_kept_and_still_holds_back_its_next_send() -> None:
    clock = Clock()
    pacer = Pacer(Pacing(), clock)
    for _ in range(20):  # Telegram's 20 a minute to one group, a second apart
        _send(pacer, -7)
        clock.t += 1.0
    for n in range(200):  # then other chats, which make the pacer sweep old windows
        _send(pacer, -200_000 - n)
        clock.t += 0.15
    # 50 s after the group's first send: its window is full until a minute has passed.
    wait = pacer.chat_wait(-7, clock.t)
    assert wait is not None
    assert wait > 0
    clock.t += wait
    assert pacer.chat_wait(-7, clock.t) == 0
