"""The weekly check-in (零报告) and the silent-building alert, with a moved clock."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.offline import SentCall
from handlers.checkins import ASK_JOB, CATCH_UP_JOB, SILENT_JOB
from storage.tables import Alert, Audience, Checkin
from tests.district import COMMITTEE_A, LEADER_A3, LEADER_B1, RESIDENT_A
from tests.harness import Harness, buttons, texts

COMMITTEE_CHAT = -100700800


async def _run(harness: Harness, name: str) -> list[SentCall]:
    assert harness.app.job_queue is not None
    (job,) = harness.app.job_queue.get_jobs_by_name(name)
    before = len(harness.api.calls)
    await job.run(harness.app)
    return list(harness.api.calls[before:])


def _at(year: int, month: int, day: int, hour_utc: int = 9) -> datetime:
    return datetime(year, month, day, hour_utc, tzinfo=UTC)


def _button(call: SentCall, label: str) -> str:
    return next(data for text, data in buttons(call) if label in text)


def _checkins(harness: Harness) -> list[Checkin]:
    with harness.database.session() as session:
        return list(session.exec(select(Checkin).order_by(Checkin.week)).all())  # type: ignore[arg-type]


async def test_jobs_are_scheduled_at_the_configured_time(harness: Harness) -> None:
    assert harness.app.job_queue is not None
    for name in (ASK_JOB, SILENT_JOB, CATCH_UP_JOB):
        assert len(harness.app.job_queue.get_jobs_by_name(name)) == 1


async def test_weekly_cycle_with_the_silent_building_alert(harness: Harness) -> None:
    harness.bind(COMMITTEE_CHAT, "committee_a", Audience.COMMITTEE, "东城居委工作群")
    # Friday 17:00 in Shanghai: every building leader is asked, in private.
    harness.clock.set(_at(2026, 11, 20))
    sent = await _run(harness, ASK_JOB)
    asked = {c.chat_id: c for c in sent if c.method == "sendMessage"}
    assert set(asked) == {LEADER_A3, LEADER_B1}
    assert "本周楼组情况" in (asked[LEADER_A3].text or "")
    assert "阳光小区 3号楼" in (asked[LEADER_A3].text or "")
    # The job keyed by week: running it again the same week asks nobody twice.
    assert await _run(harness, ASK_JOB) == []

    ok = await harness.press(
        _button(asked[LEADER_A3], "无异常"),
        user_id=LEADER_A3,
        message_id=asked[LEADER_A3].message_id,
    )
    assert "无异常" in texts(ok)
    issue = await harness.press(
        _button(asked[LEADER_B1], "有情况"),
        user_id=LEADER_B1,
        message_id=asked[LEADER_B1].message_id,
    )
    assert "#报事" in texts(issue)
    assert [(c.week, c.status) for c in _checkins(harness)] == [
        ("2026-W47", "ok"),
        ("2026-W47", "issue"),
    ]

    # Two weeks later only 西城's leader has checked in again (early, by /checkin).
    harness.clock.set(_at(2026, 12, 4))
    sent = await harness.send("/checkin", user_id=LEADER_B1)
    await harness.press(
        _button(sent[0], "无异常"), user_id=LEADER_B1, message_id=sent[0].message_id
    )
    harness.clock.set(_at(2026, 12, 11))
    sent = await _run(harness, SILENT_JOB)
    alerts = [c for c in sent if c.chat_id == COMMITTEE_CHAT]
    assert len(alerts) == 1
    assert "阳光小区 3号楼" in (alerts[0].text or "")
    assert "2026-11-20" in (alerts[0].text or "")  # the last sign of life
    assert "李阿姨" not in (alerts[0].text or "")

    # The same cause is not alerted again.
    harness.clock.set(_at(2026, 12, 12))
    assert await _run(harness, SILENT_JOB) == []

    # The building speaks again: the alert is cleared.
    sent = await harness.send("无异常", user_id=LEADER_A3)
    assert "无异常" in texts(sent)
    await _run(harness, SILENT_JOB)
    with harness.database.session() as session:
        (alert,) = session.exec(select(Alert)).all()
    assert alert.cleared_at is not None


async def test_checkin_by_message_with_something_to_report(harness: Harness) -> None:
    sent = await harness.send("#零报告 有情况 楼道堆物", user_id=LEADER_A3)
    assert "#报事 楼道堆物" in texts(sent)
    assert [c.status for c in _checkins(harness)] == ["issue"]


async def test_checkin_is_for_building_leaders(harness: Harness) -> None:
    sent = await harness.send("/checkin", user_id=COMMITTEE_A)
    assert "不是楼组长" in texts(sent)
    pressed = await harness.press("chk:ok:1", user_id=RESIDENT_A)
    assert "没有这个权限" in texts(pressed)
    assert _checkins(harness) == []


async def test_catch_up_at_start_asks_when_the_time_has_passed(harness: Harness) -> None:
    harness.clock.set(_at(2026, 11, 21))  # Saturday: Friday's question was missed
    sent = await _run(harness, CATCH_UP_JOB)
    assert {c.chat_id for c in sent if c.method == "sendMessage"} == {LEADER_A3, LEADER_B1}
    harness.clock.set(_at(2026, 11, 23, hour_utc=1))  # Monday: not yet due this week
    assert [c for c in await _run(harness, CATCH_UP_JOB) if c.method == "sendMessage"] == []


async def test_a_short_message_from_someone_without_a_building_gets_help(
    harness: Harness,
) -> None:
    sent = await harness.send("有问题", user_id=RESIDENT_A)
    assert "不是楼组长" not in texts(sent)
    assert "您可以这样用我" in texts(sent)
    sent = await harness.send("#零报告 无异常", user_id=RESIDENT_A)
    assert "不是楼组长" in texts(sent)
