"""The guided private /report, the compound question, category changes, lists and history."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage.tables import Issue, IssueAttachment
from tests.bot.test_issue_loop_e2e import COMMITTEE_CHAT, RESIDENTS_CHAT, bind_test_chats
from tests.district import COMMITTEE_A, GRID_A, LEADER_A3, PROPERTY_A, RESIDENT_A
from tests.harness import Harness, buttons, texts


def only_issue(harness: Harness) -> Issue:
    with harness.database.session() as session:
        return session.exec(select(Issue)).one()


async def test_guided_report_in_private(harness: Harness) -> None:
    bind_test_chats(harness)
    sent = await harness.send("/report", user_id=COMMITTEE_A)
    assert "哪类问题" in texts(sent)
    choice = dict(buttons(sent[-1]))["漏水"]
    sent = await harness.press(choice, user_id=COMMITTEE_A)
    places = dict(buttons(sent[-1]))
    assert any(label.endswith("阳光小区") for label in places)
    assert any(label.endswith("梅园新村") for label in places)
    plum = next(data for label, data in places.items() if label.endswith("梅园新村"))
    sent = await harness.press(plum, user_id=COMMITTEE_A)
    assert "说说情况" in texts(sent)
    sent = await harness.send("12号楼顶楼漏水，墙皮掉了", user_id=COMMITTEE_A)
    assert "照片" in texts(sent)
    await harness.send("", user_id=COMMITTEE_A, photo="roof-1")
    sent = await harness.send("", user_id=COMMITTEE_A, location=(31.2, 121.5))
    done = dict(buttons(sent[-1]))["完成"]
    sent = await harness.press(done, user_id=COMMITTEE_A)
    assert "请核对" in texts(sent)
    assert "照片：1 张" in texts(sent)
    confirm = dict(buttons(sent[-1]))["✅ 确认提交"]
    review_message = sent[-1].message_id
    sent = await harness.press(confirm, user_id=COMMITTEE_A, message_id=review_message)
    assert "已记下" in texts(sent)
    issue = only_issue(harness)
    assert issue.category_id == "water_leak"
    assert issue.building_id == harness.district.units["plum_12"]
    assert issue.latitude == 31.2
    with harness.database.session() as session:
        kinds = sorted(a.kind for a in session.exec(select(IssueAttachment)).all())
    assert kinds == ["location", "photo_before"]
    # Confirm pressed again (a double tap) records nothing new.
    await harness.press(confirm, user_id=COMMITTEE_A, message_id=review_message)
    with harness.database.session() as session:
        assert len(session.exec(select(Issue)).all()) == 1
    # Afterwards plain text in private goes back to the usual /help answer.
    sent = await harness.send("你好", user_id=COMMITTEE_A)
    assert "已记下" not in texts(sent)


async def test_guided_report_can_be_cancelled(harness: Harness) -> None:
    sent = await harness.send("/report", user_id=LEADER_A3)
    cancel = dict(buttons(sent[-1]))["取消"]
    sent = await harness.press(cancel, user_id=LEADER_A3)
    assert "已取消" in texts(sent)
    with harness.database.session() as session:
        assert session.exec(select(Issue)).all() == []


async def test_reporter_covering_several_compounds_is_asked_which(harness: Harness) -> None:
    bind_test_chats(harness)
    sent = await harness.send("/report 楼道里有人飞线充电", user_id=COMMITTEE_A)
    options = dict(buttons(sent[-1]))
    assert len(options) == 2
    sunshine = next(data for label, data in options.items() if label.endswith("阳光小区"))
    sent = await harness.press(sunshine, user_id=COMMITTEE_A, message_id=sent[-1].message_id)
    assert "已记下" in texts(sent)
    issue = only_issue(harness)
    assert issue.compound_id == harness.district.units["sunshine"]
    assert issue.category_id == "flying_wire_charging"
    # A building named in the text settles it without asking.
    sent = await harness.send("/report 12号楼楼道堆物", user_id=COMMITTEE_A)
    assert "已记下" in texts(sent)
    assert "梅园新村/12号楼" in texts(sent)


async def test_category_change_by_button_moves_the_deadlines(harness: Harness) -> None:
    bind_test_chats(harness)
    group = harness.group(RESIDENTS_CHAT)
    sent = await harness.send("#报事 3号楼楼道里东西很多", user_id=LEADER_A3, chat=group)
    receipt = sent[0]
    change = dict(buttons(receipt))["改类别"]
    sent = await harness.press(
        change, user_id=LEADER_A3, chat=group, message_id=receipt.message_id
    )
    lift = dict(buttons(sent[-1]))["电梯故障"]
    sent = await harness.press(lift, user_id=LEADER_A3, chat=group, message_id=receipt.message_id)
    assert "电梯故障" in texts(sent)
    issue = only_issue(harness)
    assert issue.category_id == "lift_fault"
    assert issue.tier == "urgent"
    assert issue.respond_due_at == issue.reported_at + timedelta(minutes=30)
    # Another resident may not change someone else's report.
    sent = await harness.press(f"iss:setcat:{issue.id}:noise", user_id=RESIDENT_A, chat=group)
    assert "没有这个权限" in texts(sent)


async def test_sensitive_category_is_not_named_in_a_residents_chat(harness: Harness) -> None:
    bind_test_chats(harness)
    group = harness.group(RESIDENTS_CHAT)
    sent = await harness.send(
        "#报事 3号楼502好像在群租，电话13900001111", user_id=RESIDENT_A, chat=group
    )
    assert "群租" not in "\n".join(
        str(c.params.get("text")) for c in sent if c.chat_id != COMMITTEE_CHAT
    )
    assert "隐私" in texts(sent)
    assert any("群租" in t for t in harness.api.texts(COMMITTEE_CHAT))
    assert all("13900001111" not in t for t in harness.api.texts(COMMITTEE_CHAT))


async def test_issue_list_overdue_first_and_history(harness: Harness) -> None:
    bind_test_chats(harness)
    group = harness.group(RESIDENTS_CHAT)
    await harness.send("#报事 3号楼楼道堆物", user_id=LEADER_A3, chat=group)  # normal tier
    harness.clock.advance(timedelta(hours=2))
    await harness.send("#报事 1号楼电梯坏了", user_id=GRID_A, chat=group)  # urgent: 30 min
    harness.clock.advance(timedelta(hours=1))
    sent = await harness.send("/issues", user_id=COMMITTEE_A)
    lines = texts(sent).splitlines()
    assert "2 件" in lines[0]
    assert lines[1].startswith("⚠️ #2")  # overdue first
    assert lines[2].startswith("#1")
    # The building leader sees only their building; property sees the compound's.
    sent = await harness.send("/issues", user_id=LEADER_A3)
    assert "#1" in texts(sent)
    assert "#2" not in texts(sent)
    sent = await harness.send("/issues", user_id=PROPERTY_A)
    assert "#1" in texts(sent)
    assert "#2" in texts(sent)
    # Not in a residents chat.
    sent = await harness.send("/issues", user_id=COMMITTEE_A, chat=group)
    assert "私聊" in texts(sent)

    await harness.press("iss:dsp:1:property", user_id=COMMITTEE_A)
    sent = await harness.send("/issue 1", user_id=COMMITTEE_A)
    history = texts(sent)
    assert "处理记录" in history
    assert "上报" in history
    assert "派单（物业）" in history
    assert "张书记" in history
    sent = await harness.send("/issue 1", user_id=RESIDENT_A)
    assert "没有这个权限" in texts(sent)
    sent = await harness.send("/issue abc", user_id=COMMITTEE_A)
    assert "/issue 12" in texts(sent)
    sent = await harness.send("/issue ²", user_id=COMMITTEE_A)  # a digit int() refuses
    assert "/issue 12" in texts(sent)
    huge = "1" * 30  # beyond SQLite's integers
    sent = await harness.send(f"/issue {huge}", user_id=COMMITTEE_A)
    assert f"找不到编号 #{huge} 的报事" in texts(sent)
    sent = await harness.send("/issue 999", user_id=COMMITTEE_A)
    assert "找不到编号 #999 的报事" in texts(sent)


async def test_english_speaker_reads_english(harness: Harness) -> None:
    bind_test_chats(harness)
    await harness.send("/lang en", user_id=GRID_A)
    sent = await harness.send("/report 3号楼楼道堆物", user_id=GRID_A)
    assert "Recorded as" in texts(sent)
    assert "Items stacked in stairwell" in texts(sent)
    sent = await harness.send("#issue", user_id=GRID_A)  # read with the sender, not before
    assert "Please write the problem after the tag" in texts(sent)


async def test_back_leaves_a_sub_menu_on_the_receipt_and_on_the_card(harness: Harness) -> None:
    bind_test_chats(harness)
    group = harness.group(RESIDENTS_CHAT)
    sent = await harness.send("#报事 3号楼楼道里东西很多", user_id=LEADER_A3, chat=group)
    receipt = sent[0]
    number = only_issue(harness).id
    sent = await harness.press(
        f"iss:cat:{number}", user_id=LEADER_A3, chat=group, message_id=receipt.message_id
    )
    assert f"iss:back:{number}" in dict(buttons(sent[-1])).values()
    sent = await harness.press(
        f"iss:back:{number}", user_id=LEADER_A3, chat=group, message_id=receipt.message_id
    )
    assert f"#{number}" in texts(sent)
    assert list(dict(buttons(sent[-1]))) == ["改类别"]
    card = [c for c in harness.api.sent(COMMITTEE_CHAT, "sendMessage") if buttons(c)][-1]
    committee = harness.group(COMMITTEE_CHAT)
    sent = await harness.press(
        f"iss:rej:{number}", user_id=COMMITTEE_A, chat=committee, message_id=card.message_id
    )
    assert f"iss:back:{number}" in dict(buttons(sent[-1])).values()
    sent = await harness.press(
        f"iss:back:{number}", user_id=COMMITTEE_A, chat=committee, message_id=card.message_id
    )
    assert [c.params.get("message_id") for c in sent if c.method == "editMessageText"] == [
        card.message_id
    ]
    assert dict(buttons(sent[-1])) == dict(buttons(card))
