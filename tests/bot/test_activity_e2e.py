"""Activity logging as a community worker meets it, through the real Application."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date

import pytest
from sqlmodel import select

import handlers.context
from bot import updates as u
from bot.offline import SentCall
from storage.tables import Activity, ActivityPerson, Audience, AuditEvent
from tests import factories as f
from tests.district import COMMITTEE_A, GRID_A, LEADER_A3, RESIDENT_A, STRANGER, VOLUNTEER_A
from tests.harness import Harness, buttons, texts

RESIDENTS_GROUP = -100500600


def _activities(harness: Harness) -> list[Activity]:
    with harness.database.session() as session:
        return list(session.exec(select(Activity).order_by(Activity.id)).all())  # type: ignore[arg-type]


def _reply(calls: list[SentCall]) -> SentCall:
    replies = [c for c in calls if c.method == "sendMessage"]
    assert len(replies) == 1, [c.text for c in calls]
    return replies[0]


def _button(call: SentCall, label: str) -> str:
    for text, data in buttons(call):
        if label in text:
            return data
    raise AssertionError(f"no button {label!r} in {buttons(call)}")


def _committed_reply_ids(harness: Harness) -> list[int | None]:
    """What another connection (another process) sees committed."""
    path = harness.database.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as other:
        return [r for (r,) in other.execute("SELECT reply_message_id FROM activity ORDER BY id")]


async def test_the_replys_id_goes_with_the_next_write_not_a_transaction_of_its_own(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers.context, "LATER_SECONDS", 60.0)
    first = _reply(await harness.send("#志愿 今天清理3号楼楼道 10人 2小时", user_id=LEADER_A3))
    assert _committed_reply_ids(harness) == [None]  # the activity itself is committed
    second = _reply(await harness.send("#走访 走访3号楼独居老人3户", user_id=LEADER_A3))
    assert _committed_reply_ids(harness) == [first.message_id, None]  # the next one carried it
    harness.database.write_later()  # at shutdown
    assert _committed_reply_ids(harness) == [first.message_id, second.message_id]


async def test_the_replys_id_still_queued_is_stored_when_the_bot_shuts_down(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers.context, "LATER_SECONDS", 60.0)
    reply = _reply(await harness.send("#志愿 今天清理3号楼楼道 10人 2小时", user_id=LEADER_A3))
    assert _committed_reply_ids(harness) == [None]
    assert harness.app.post_shutdown is not None
    await harness.app.post_shutdown(harness.app)  # as `govbot run` ends (bot/polling.py)
    assert _committed_reply_ids(harness) == [reply.message_id]


async def test_the_replys_id_is_stored_soon_when_no_other_write_comes(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers.context, "LATER_SECONDS", 0.01)
    reply = _reply(await harness.send("#志愿 今天清理3号楼楼道 10人 2小时", user_id=LEADER_A3))
    for _ in range(100):
        if _committed_reply_ids(harness) != [None]:
            break
        await asyncio.sleep(0.01)
    assert _committed_reply_ids(harness) == [reply.message_id]


async def test_message_reply_confirm_stores_the_activity(harness: Harness) -> None:
    sent = await harness.send("#志愿 今天组织10名志愿者清理3号楼楼道，共2小时", user_id=LEADER_A3)
    reply = _reply(sent)
    text = reply.text or ""
    for expected in ("志愿服务", "2026-11-16", "10人", "2小时", "20人时", "清理楼道", "3号楼"):
        assert expected in text, text
    labels = [label for label, _ in buttons(reply)]
    assert labels == ["✅ 确认", "✏️ 修改", "🗑 不要了"]
    (activity,) = _activities(harness)
    assert activity.status == "unconfirmed"  # stored before anyone pressed anything
    assert activity.reply_message_id == reply.message_id

    pressed = await harness.press(
        _button(reply, "确认"), user_id=LEADER_A3, message_id=reply.message_id
    )
    assert "已记录" in texts(pressed)
    (activity,) = _activities(harness)
    assert activity.status == "confirmed"
    assert activity.activity_type == "volunteer"
    assert activity.participants == 10
    assert activity.hours == 2.0
    assert activity.person_hours == 20.0
    assert activity.occurred_on == date(2026, 11, 16)
    assert activity.building_id == harness.district.units["sunshine_3"]
    assert activity.compound_id == harness.district.units["sunshine"]
    assert activity.member_id == harness.district.members[LEADER_A3]


async def test_an_at_mention_is_named_back_and_the_rest_read(harness: Harness) -> None:
    """Telegram marks ``@username`` beside the hashtag; the bot cannot tell who that is and says
    so, and reads the rest of the message as usual."""
    text = "#志愿 和 @li_10 一起清理3号楼楼道 10人 2小时"
    update = u.make_message_update(
        text,
        user=harness.user(LEADER_A3),
        chat=harness.private(LEADER_A3),
        date=harness.clock.now(),
    )
    start = u.utf16_len(text[: text.index("@")])
    update["message"]["entities"].append({"type": "mention", "offset": start, "length": 6})
    reply = _reply(await harness.process(update))
    assert "@li_10 我查不到是谁" in (reply.text or "")
    (activity,) = _activities(harness)
    assert activity.participants == 10
    assert activity.hours == 2.0


async def test_meeting_in_english_with_full_width_tag(harness: Harness) -> None:
    sent = await harness.send("＃会议 听证会 停车收费方案 到会32人 通过", user_id=COMMITTEE_A)
    text = _reply(sent).text or ""
    assert "听证会" in text
    assert "32人" in text
    assert "通过" in text
    sent = await harness.send("#volunteer 8 people 3h garden weeding", user_id=GRID_A)
    assert "volunteering" in texts(sent) or "志愿服务" in texts(sent)
    activity = _activities(harness)[-1]
    assert activity.participants == 8
    assert activity.person_hours == 24.0
    assert activity.compound_id == harness.district.units["sunshine"]  # the grid's compound


async def test_edit_a_field_with_buttons(harness: Harness) -> None:
    sent = await harness.send("#走访 走访独居老人6户", user_id=LEADER_A3)
    reply = _reply(sent)
    chosen = await harness.press(
        _button(reply, "修改"), user_id=LEADER_A3, message_id=reply.message_id
    )
    fields = [c for c in chosen if c.method == "editMessageReplyMarkup"]
    assert fields
    assert "户数" in [label for label, _ in buttons(fields[0])]
    asked = await harness.press(
        _button(fields[0], "户数"), user_id=LEADER_A3, message_id=reply.message_id
    )
    assert "户数" in texts(asked)
    prompt = _reply(asked)

    # A wrong value is refused clearly and can simply be sent again.
    sent = await harness.send("-3户", user_id=LEADER_A3, reply_to=prompt.message_id)
    assert "户数看起来不对" in texts(sent)
    assert _activities(harness)[0].households == 6

    sent = await harness.send("八户", user_id=LEADER_A3, reply_to=prompt.message_id)
    assert "已改好" in texts(sent)
    edits = [c for c in sent if c.method == "editMessageText"]
    assert edits
    assert edits[0].message_id == reply.message_id
    assert "8户" in (edits[0].text or "")
    assert _activities(harness)[0].households == 8

    # The next plain message is no longer taken as a value.
    sent = await harness.send("谢谢", user_id=LEADER_A3)
    assert "已改好" not in texts(sent)


async def test_edited_message_updates_the_same_row_and_reply(harness: Harness) -> None:
    user = harness.user(LEADER_A3)
    chat = harness.private(LEADER_A3)
    update = f.make_message_update("#志愿 清理楼道 5人 2小时", user=user, chat=chat)
    sent = await harness.process(update)
    reply = _reply(sent)
    message_id = update["message"]["message_id"]

    edited = f.make_edited_message_update(
        "#志愿 清理楼道 7人 2小时", user=user, chat=chat, message_id=message_id
    )
    sent = await harness.process(edited)
    assert [c.method for c in sent] == ["editMessageText"]
    assert sent[0].message_id == reply.message_id
    assert "7人" in (sent[0].text or "")
    (activity,) = _activities(harness)
    assert activity.participants == 7
    assert activity.person_hours == 14.0
    assert "7人" in activity.raw_text
    with harness.database.session() as session:
        actions = session.exec(
            select(AuditEvent.action).where(
                AuditEvent.entity == "activity", AuditEvent.entity_id == activity.id
            )
        ).all()
    assert actions == ["activity.log", "activity.reparse"]  # the edit is audited too


async def test_the_same_update_twice_makes_one_activity_and_one_reply(harness: Harness) -> None:
    update = f.make_message_update(
        "#巡查 夜间巡查 3人",
        user=harness.user(GRID_A),
        chat=harness.private(GRID_A),
    )
    first = await harness.process(update)
    second = await harness.process(update)
    assert len([c for c in first if c.method == "sendMessage"]) == 1
    assert [c for c in second if c.method == "sendMessage"] == []
    assert len(_activities(harness)) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#志愿", "标签后面还没有内容"),
        ("#志愿 清理楼道 -3人", "不能是负数"),
        ("#志愿 清理楼道 10人 500小时", "每人最多24小时"),
        ("#会议 2026-12-25 听证会 30人", "日期在将来"),
        ("#志愿 😀😀😀🎉", "标签后面还没有内容"),
        ("#志愿 " + "清理楼道，" * 1000, "我是这样理解的"),
    ],
)
async def test_bad_input_gets_a_clear_reply_and_is_kept(
    harness: Harness, text: str, expected: str
) -> None:
    sent = await harness.send(text, user_id=LEADER_A3)
    assert expected in texts(sent)
    assert "出了点问题" not in texts(sent)
    (activity,) = _activities(harness)
    assert activity.status == "unconfirmed"
    assert activity.raw_text == text


async def test_a_future_date_cannot_be_confirmed_until_corrected(harness: Harness) -> None:
    sent = await harness.send("#会议 2026-12-25 听证会 30人", user_id=COMMITTEE_A)
    reply = _reply(sent)
    pressed = await harness.press(
        _button(reply, "确认"), user_id=COMMITTEE_A, message_id=reply.message_id
    )
    assert "日期在将来" in texts(pressed)
    assert _activities(harness)[0].status == "unconfirmed"


async def test_only_emoji_in_private_without_a_tag_is_not_an_activity(harness: Harness) -> None:
    sent = await harness.send("😀😀", user_id=LEADER_A3)
    assert "我是这样理解的" not in texts(sent)  # start's /help fallback answers
    assert _activities(harness) == []


async def test_a_stranger_and_a_resident_are_refused_kindly(harness: Harness) -> None:
    sent = await harness.send("#志愿 清理楼道 5人", user_id=STRANGER)
    assert "邀请链接" in texts(sent)
    sent = await harness.send("#志愿 清理楼道 5人", user_id=RESIDENT_A)
    assert "楼组长、网格员" in texts(sent)
    assert _activities(harness) == []


async def test_someone_else_cannot_confirm_my_activity(harness: Harness) -> None:
    sent = await harness.send("#志愿 清理楼道 5人", user_id=LEADER_A3)
    reply = _reply(sent)
    pressed = await harness.press(
        _button(reply, "确认"), user_id=VOLUNTEER_A, message_id=reply.message_id
    )
    assert "别人的记录" in texts(pressed)
    assert _activities(harness)[0].status == "unconfirmed"
    # The committee of the compound may.
    await harness.press(_button(reply, "确认"), user_id=COMMITTEE_A, message_id=reply.message_id)
    assert _activities(harness)[0].status == "confirmed"


async def test_forged_button_data_is_refused(harness: Harness) -> None:
    pressed = await harness.press("act:ok:notanumber", user_id=LEADER_A3)
    assert "失效" in texts(pressed)
    pressed = await harness.press("act:ok:999", user_id=LEADER_A3)
    assert "找不到这条记录" in texts(pressed)


async def test_discard_keeps_the_row(harness: Harness) -> None:
    sent = await harness.send("#培训 垃圾分类培训 20人", user_id=LEADER_A3)
    reply = _reply(sent)
    pressed = await harness.press(
        _button(reply, "不要了"), user_id=LEADER_A3, message_id=reply.message_id
    )
    assert "作废" in texts(pressed)
    (activity,) = _activities(harness)
    assert activity.status == "discarded"


async def test_log_command_prompt_list_and_text(harness: Harness) -> None:
    sent = await harness.send("/log", user_id=LEADER_A3)
    assert "#志愿" in texts(sent)
    assert "待确认" in " ".join(label for label, _ in buttons(_reply(sent)))

    sent = await harness.send("/log 今天清理楼道 5人 1小时", user_id=LEADER_A3)
    assert "志愿服务" in texts(sent)
    await harness.send("#走访 6户", user_id=LEADER_A3)

    sent = await harness.send("/log list", user_id=LEADER_A3)
    assert "2 条待确认" in texts(sent)
    listed = [c for c in sent if buttons(c)]
    assert len(listed) == 2
    # Confirming from the list works like confirming from the reply.
    await harness.press(
        _button(listed[0], "确认"), user_id=LEADER_A3, message_id=listed[0].message_id
    )
    sent = await harness.send("/log list", user_id=LEADER_A3)
    assert "1 条待确认" in texts(sent)


async def test_in_a_bound_residents_group_names_stay_private(harness: Harness) -> None:
    harness.bind(RESIDENTS_GROUP, "sunshine", Audience.RESIDENTS)
    group = harness.group(RESIDENTS_GROUP)
    volunteer_message = f.make_message("我来帮忙", user=harness.user(VOLUNTEER_A), chat=group)
    update = f.make_message_update(
        "#志愿 清理楼道 2人 1小时",
        user=harness.user(LEADER_A3),
        chat=group,
        reply_to=volunteer_message,
    )
    sent = await harness.process(update)
    text = _reply(sent).text or ""
    assert "志愿者小陈" not in text  # no name in a residents' chat without opt-in
    assert "记名参与：1位" in text
    (activity,) = _activities(harness)
    # The leader of 3号楼 logging in the compound's group: the activity is their building's.
    assert activity.building_id == harness.district.units["sunshine_3"]
    with harness.database.session() as session:
        people = session.exec(select(ActivityPerson)).all()
        assert [p.member_id for p in people] == [harness.district.members[VOLUNTEER_A]]
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "activity.log")).all()


async def test_unknown_building_gets_a_clear_answer(harness: Harness) -> None:
    sent = await harness.send("#志愿 清理9号楼楼道 5人", user_id=COMMITTEE_A)
    assert "没找到楼栋“9号楼”" in texts(sent)
    (activity,) = _activities(harness)
    assert activity.building_id is None
    assert "9号楼" in activity.unparsed


async def test_correcting_a_field_in_a_group_by_replying_to_the_prompt(harness: Harness) -> None:
    committee_chat = -100900900
    harness.bind(committee_chat, "committee_a", Audience.COMMITTEE)
    group = harness.group(committee_chat, "东城居委工作群")
    sent = await harness.send(
        "#会议 协调会 加装电梯 到会15人 待定", user_id=COMMITTEE_A, chat=group
    )
    reply = _reply(sent)
    await harness.press(
        _button(reply, "修改"), user_id=COMMITTEE_A, chat=group, message_id=reply.message_id
    )
    asked = await harness.press(
        "actf:1:decision", user_id=COMMITTEE_A, chat=group, message_id=reply.message_id
    )
    prompt = _reply(asked)
    # The reply box opens for the presser only, under their own message.
    assert (prompt.reply_markup or {}).get("selective") is True
    assert "reply_parameters" in prompt.params

    # Someone else's plain message in the group is not taken as the value.
    other = await harness.send("通过", user_id=GRID_A, chat=group)
    assert "已改好" not in texts(other)
    sent = await harness.send("通过", user_id=COMMITTEE_A, chat=group, reply_to=prompt.message_id)
    assert "表决已改好" in texts(sent)
    assert _activities(harness)[0].decision == "passed"


async def test_replies_in_english_for_an_english_user(harness: Harness) -> None:
    await harness.send("/lang en", user_id=GRID_A)
    sent = await harness.send("#patrol night patrol 3 people 2 hours", user_id=GRID_A)
    text = _reply(sent).text or ""
    assert "Here is what I understood" in text
    assert "Person-hours in total: 6" in text
    assert [label for label, _ in buttons(_reply(sent))] == ["✅ Confirm", "✏️ Edit", "🗑 Discard"]
