"""Item 1: every kind of update delivered twice (a long-polling crash before the offset was
confirmed, or a webhook retry) creates one record and one reply.

"One reply" means the replay sends no second message into any chat; a button's replay may
answer the press (a pop-up), which Telegram shows to the presser only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from bot import updates as u
from bot.offline import SentCall
from tests.bot.test_issue_loop_e2e import COMMITTEE_CHAT, RESIDENTS_CHAT
from tests.district import COMMITTEE_A, LEADER_A3
from tests.harness import Harness
from tests.reliability.support import bind_all, button_data, group

SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "editMessageText"})


def _count(harness: Harness, sql: str) -> int:
    with harness.database.read_session() as session:
        return int(session.execute(text(sql)).scalar() or 0)


def _messages(calls: list[SentCall]) -> list[SentCall]:
    return [c for c in calls if c.method in SENDS]


async def _twice(
    harness: Harness, update: dict[str, Any], count: Callable[[], int]
) -> tuple[int, list[SentCall], list[SentCall]]:
    before = count()
    first = await harness.process(update)
    second = await harness.process(update)
    assert _messages(first), "the first delivery was answered"
    return count() - before, first, second


async def test_a_report_delivered_twice_is_one_issue_and_one_reply(harness: Harness) -> None:
    bind_all(harness)
    update = u.make_message_update(
        "#报事 3号楼楼道堆物", user=harness.user(LEADER_A3), chat=group(RESIDENTS_CHAT)
    )
    added, _, again = await _twice(
        harness, update, lambda: _count(harness, "SELECT count(*) FROM issue")
    )
    assert added == 1
    assert _messages(again) == []
    assert _count(harness, "SELECT count(*) FROM issue_event") == 1


async def test_an_activity_delivered_twice_is_one_row_and_one_reply(harness: Harness) -> None:
    bind_all(harness)
    update = u.make_message_update(
        "#志愿 今天清理楼道 5人2小时", user=harness.user(LEADER_A3), chat=group(RESIDENTS_CHAT)
    )
    added, _, again = await _twice(
        harness, update, lambda: _count(harness, "SELECT count(*) FROM activity")
    )
    assert added == 1
    assert _messages(again) == []


async def test_a_button_press_delivered_twice_acts_once(harness: Harness) -> None:
    bind_all(harness)
    await harness.send("#报事 3号楼楼道堆物", user_id=LEADER_A3, chat=group(RESIDENTS_CHAT))
    card = next(c for c in harness.api.sent(COMMITTEE_CHAT, "sendMessage") if c.reply_markup)
    accept = next(d for d in button_data(card.reply_markup) if d.startswith("iss:acc:"))
    update = u.make_callback_update(
        accept,
        user=harness.user(COMMITTEE_A),
        chat=group(COMMITTEE_CHAT),
        message_id=card.message_id,
    )
    added, first, again = await _twice(
        harness, update, lambda: _count(harness, "SELECT count(*) FROM issue_event")
    )
    assert added == 1
    assert _messages(again) == []
    assert len(_messages(first)) >= 1


async def test_a_check_in_delivered_twice_is_one_row_and_one_reply(harness: Harness) -> None:
    update = u.make_message_update(
        "无异常", user=harness.user(LEADER_A3), chat=harness.private(LEADER_A3)
    )
    added, _, again = await _twice(
        harness, update, lambda: _count(harness, "SELECT count(*) FROM checkin")
    )
    assert added == 1
    assert _messages(again) == []


async def test_a_check_in_button_delivered_twice_is_one_row(harness: Harness) -> None:
    building = harness.district.units["sunshine_3"]
    update = u.make_callback_update(
        f"chk:ok:{building}", user=harness.user(LEADER_A3), chat=harness.private(LEADER_A3)
    )
    added, _, again = await _twice(
        harness, update, lambda: _count(harness, "SELECT count(*) FROM checkin")
    )
    assert added == 1
    assert [c for c in _messages(again) if c.method != "editMessageText"] == []


def _upload(harness: Harness, file_id: str) -> dict[str, Any]:
    roster = "街镇,居委,小区,房屋类型,楼组\n花木街道,东城居委,新建小区,商品房,1号楼\n"
    harness.api.add_file(file_id, roster.encode())
    return u.make_message_update(
        None,
        user=harness.user(COMMITTEE_A),
        chat=harness.private(COMMITTEE_A),
        document=u.make_document(file_id=file_id, file_name="roster.csv", file_size=99),
    )


async def test_a_file_upload_delivered_twice_imports_once_and_answers_once(
    harness: Harness,
) -> None:
    update = _upload(harness, "roster-1")
    added, first, again = await _twice(
        harness, update, lambda: _count(harness, "SELECT count(*) FROM unit")
    )
    assert added == 2  # the compound and its building, once
    assert "新建" in (_messages(first)[0].text or "")
    assert again == []  # not even the file is fetched again


async def test_an_upload_replayed_after_a_crash_before_its_report_is_answered(
    harness: Harness,
) -> None:
    """The process died after the import committed and before the report went out: the
    replay imports nothing new (an import reuses what exists) and the user gets a report."""
    update = _upload(harness, "roster-2")
    await harness.process(update)
    units = _count(harness, "SELECT count(*) FROM unit")
    with harness.database.session() as session:
        session.execute(text("DELETE FROM processed_message"))  # the report was never marked
        session.commit()
    again = _messages(await harness.process(update))
    assert len(again) == 1
    assert "新建：0" in (again[0].text or "")
    assert _count(harness, "SELECT count(*) FROM unit") == units
    assert _messages(await harness.process(update)) == []


async def test_a_check_in_replayed_after_a_crash_before_its_answer_is_answered_once(
    harness: Harness,
) -> None:
    update = u.make_message_update(
        "无异常", user=harness.user(LEADER_A3), chat=harness.private(LEADER_A3)
    )
    await harness.process(update)
    with harness.database.session() as session:
        session.execute(text("UPDATE processed_message SET answered_at = NULL"))
        session.commit()
    assert len(_messages(await harness.process(update))) == 1
    assert _messages(await harness.process(update)) == []
    assert _count(harness, "SELECT count(*) FROM checkin") == 1


async def test_an_old_check_in_replayed_after_a_newer_one_does_not_win(
    harness: Harness,
) -> None:
    leader, chat = harness.user(LEADER_A3), harness.private(LEADER_A3)
    fine = u.make_message_update("无异常", user=leader, chat=chat)
    trouble = u.make_message_update("有情况 楼道灯坏了", user=leader, chat=chat)
    for update in (fine, trouble, fine):  # a replay of the first after the second
        await harness.process(update)
    with harness.database.read_session() as session:
        statuses = session.execute(text("SELECT status FROM checkin")).scalars().all()
    assert statuses == ["issue"]


async def test_a_photo_delivered_twice_is_one_attachment(harness: Harness) -> None:
    bind_all(harness)
    await harness.send("#报事 3号楼楼道堆物", user_id=LEADER_A3, chat=group(RESIDENTS_CHAT))
    update = u.make_message_update(
        None, user=harness.user(LEADER_A3), chat=group(RESIDENTS_CHAT), photo="photo-1"
    )
    added, _, again = await _twice(
        harness, update, lambda: _count(harness, "SELECT count(*) FROM issue_attachment")
    )
    assert added == 1
    assert _messages(again) == []
