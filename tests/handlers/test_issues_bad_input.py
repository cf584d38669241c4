"""Bad input to issue reporting: each gets a clear answer, nothing crashes, nothing is lost."""

from __future__ import annotations

from sqlmodel import func, select

from bot import updates as u
from storage.tables import Issue, IssueAttachment, IssueEvent
from tests.bot.test_issue_loop_e2e import COMMITTEE_CHAT, RESIDENTS_CHAT, bind_test_chats
from tests.district import COMMITTEE_A, GRID_A, LEADER_A3, RESIDENT_A, STRANGER
from tests.harness import Harness, buttons, texts

UNBOUND_GROUP = -1009999
NEWCOMER = 7777  # in the residents group, not on the roster


def issue_count(harness: Harness) -> int:
    with harness.database.session() as session:
        return session.exec(select(func.count()).select_from(Issue)).one()


async def test_empty_reports_are_answered_with_an_example(harness: Harness) -> None:
    bind_test_chats(harness)
    group = harness.group(RESIDENTS_CHAT)
    for text in ("#报事", "/report", "#issue   ", "#报事 🙂"):
        sent = await harness.send(text, user_id=LEADER_A3, chat=group)
        assert "#报事 3号楼楼道堆物" in texts(sent), text
    assert issue_count(harness) == 0


async def test_same_update_twice_makes_one_issue_and_one_reply(harness: Harness) -> None:
    bind_test_chats(harness)
    update = u.make_message_update(
        "#报事 3号楼楼道堆物",
        user=harness.user(LEADER_A3),
        chat=harness.group(RESIDENTS_CHAT),
        date=harness.clock.now(),
    )
    first = await harness.process(update)
    again = await harness.process(update)
    assert "已记下" in texts(first)
    assert again == []
    assert issue_count(harness) == 1
    assert len([c for c in harness.api.sent(COMMITTEE_CHAT) if buttons(c)]) == 1


async def test_who_may_report_where(harness: Harness) -> None:
    bind_test_chats(harness)
    residents = harness.group(RESIDENTS_CHAT)
    # A stranger in private or in an unbound group is refused, politely.
    sent = await harness.send("/report 3号楼漏水", user_id=STRANGER)
    assert "邀请链接" in texts(sent)
    sent = await harness.send(
        "#报事 3号楼漏水", user_id=STRANGER, chat=harness.group(UNBOUND_GROUP)
    )
    assert "邀请链接" in texts(sent)
    # A resident may report only in the bound residents chat.
    sent = await harness.send("/report 3号楼漏水", user_id=RESIDENT_A)
    assert "没有这个权限" in texts(sent)
    sent = await harness.send("#报事 3号楼漏水", user_id=RESIDENT_A, chat=residents)
    assert "已记下" in texts(sent)
    # Anyone in the bound residents chat is a resident of it, on the roster or not.
    sent = await harness.send("#报事 1号楼门口积水", user_id=NEWCOMER, chat=residents)
    assert "已记下" in texts(sent)
    assert issue_count(harness) == 2


async def test_unknown_building_is_kept_at_compound_level(harness: Harness) -> None:
    bind_test_chats(harness)
    sent = await harness.send(
        "#报事 99号楼楼道堆物", user_id=LEADER_A3, chat=harness.group(RESIDENTS_CHAT)
    )
    assert "没找到「99号楼」" in texts(sent)
    with harness.database.session() as session:
        issue = session.exec(select(Issue)).one()
    assert issue.compound_id == harness.district.units["sunshine"]
    assert issue.building_id is None
    assert "99号楼" in issue.text


async def test_unknown_category_and_forged_buttons(harness: Harness) -> None:
    bind_test_chats(harness)
    sent = await harness.send(
        "#报事 3号楼楼道堆物", user_id=LEADER_A3, chat=harness.group(RESIDENTS_CHAT)
    )
    number = int(texts(sent).split("#")[1].split("<")[0].split("。")[0])
    sent = await harness.press(f"iss:setcat:{number}:flying_saucer", user_id=LEADER_A3)
    assert "没有「flying_saucer」这个类别" in texts(sent)
    for forged in ("iss:acc", "iss:acc:x", f"iss:acc:{number}:9", "iss:zap:1", "iss:dsp:1"):
        sent = await harness.press(forged, user_id=COMMITTEE_A)
        assert "按钮已经失效" in texts(sent), forged
    # A number where the button carries one (an original issue, a rating) must be digits too.
    for forged in (f"iss:fix:{number}:x", f"iss:join:{number}:x", f"iss:dupof:{number}:-1"):
        sent = await harness.press(forged, user_id=LEADER_A3)
        assert "按钮已经失效" in texts(sent), forged
    sent = await harness.press(f"iss:dsp:{number}:army", user_id=COMMITTEE_A)
    assert "不认识「army」" in texts(sent)
    sent = await harness.press("iss:acc:424242", user_id=COMMITTEE_A)
    assert "找不到编号 #424242" in texts(sent)


async def test_button_pressed_twice_or_after_close(harness: Harness) -> None:
    bind_test_chats(harness)
    await harness.send(
        "#报事 3号楼楼道堆物", user_id=LEADER_A3, chat=harness.group(RESIDENTS_CHAT)
    )
    with harness.database.session() as session:
        number = session.exec(select(Issue.id)).one()
    first = await harness.press(f"iss:acc:{number}", user_id=COMMITTEE_A)
    second = await harness.press(f"iss:acc:{number}", user_id=COMMITTEE_A)
    assert "已受理" in texts(first)
    assert "不能这样操作" in texts(second)
    await harness.press(f"iss:res:{number}", user_id=COMMITTEE_A)
    await harness.press(f"iss:fix:{number}:5", user_id=LEADER_A3)
    sent = await harness.press(f"iss:fix:{number}:1", user_id=LEADER_A3)
    assert "不能这样操作" in texts(sent)
    with harness.database.session() as session:
        issue = session.get(Issue, number)
        accepts = session.exec(
            select(func.count()).where(
                IssueEvent.issue_id == number, IssueEvent.action == "accept"
            )
        ).one()
    assert issue is not None
    assert issue.rating == 5
    assert accepts == 1


async def test_long_html_and_emoji_text_is_kept_and_shown_safely(harness: Harness) -> None:
    bind_test_chats(harness)
    long_text = "#报事 3号楼楼道堆物 <b>紧急</b> & 🙂 联系13812345678 " + "很多杂物" * 1250
    sent = await harness.send(long_text, user_id=LEADER_A3, chat=harness.group(RESIDENTS_CHAT))
    assert "已记下" in texts(sent)
    with harness.database.session() as session:
        issue = session.exec(select(Issue)).one()
    assert "<b>紧急</b> & 🙂" in issue.text  # stored as typed
    assert len(issue.text) > 5000
    card = [c for c in harness.api.sent(COMMITTEE_CHAT) if buttons(c)][-1]
    raw = str(card.params["text"])
    assert "&lt;b&gt;紧急&lt;/b&gt; &amp; 🙂" in raw  # escaped, not markup
    assert "138****5678" in raw
    assert "13812345678" not in raw
    assert len(card.text or "") < 1000  # shortened for the chat


async def test_photo_without_report(harness: Harness) -> None:
    bind_test_chats(harness)
    sent = await harness.send("", user_id=LEADER_A3, photo="p-1")
    assert "请先发 /report" in texts(sent)
    # In a group a photo on its own is just a photo: no reply.
    sent = await harness.send(
        "", user_id=LEADER_A3, chat=harness.group(RESIDENTS_CHAT), photo="p-2"
    )
    assert texts(sent) == ""


async def test_photo_and_location_after_a_report_attach_to_it(harness: Harness) -> None:
    bind_test_chats(harness)
    group = harness.group(RESIDENTS_CHAT)
    await harness.send("#报事 3号楼楼道堆物", user_id=GRID_A, chat=group)
    sent = await harness.send("", user_id=GRID_A, chat=group, photo="p-3")
    assert "照片已加到" in texts(sent)
    sent = await harness.send("", user_id=GRID_A, chat=group, location=(31.2, 121.5))
    assert "位置已加到" in texts(sent)
    # A photo sent with the report as its caption is part of the report.
    sent = await harness.send("#报事 1号楼门口积水", user_id=LEADER_A3, chat=group, photo="p-4")
    assert "已记下" in texts(sent)
    with harness.database.session() as session:
        kinds = sorted(a.kind for a in session.exec(select(IssueAttachment)).all())
        issue = session.exec(select(Issue).where(Issue.reporter_user_id == GRID_A)).one()
    assert kinds == ["location", "photo_before", "photo_before"]
    assert issue.latitude == 31.2
