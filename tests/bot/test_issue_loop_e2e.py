"""The closed loop as people meet it, through the real Application and the offline transport:
report → card → dispatch → in progress → resolved → rated → closed; reopen; reject;
duplicate; overdue → alert → escalation with a moved clock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.offline import SentCall
from handlers.issue_jobs import SCAN_JOB_NAME
from storage.bindings import bind_chat, create_bind_code
from storage.tables import Audience, Issue, IssueEvent, IssueReporter
from tests.district import COMMITTEE_A, GRID_A, LEADER_A3, PROPERTY_A, RESIDENT_A
from tests.harness import Harness, buttons, texts

RESIDENTS_CHAT = -1001001
COMMITTEE_CHAT = -1002001
TOWN_CHAT = -1003001


def bind_test_chats(harness: Harness) -> None:
    """Bind a residents chat (阳光小区), committee A's work chat and the town chat."""
    units = harness.district.units
    with harness.database.session() as session:
        for chat_id, unit, audience in (
            (RESIDENTS_CHAT, "sunshine", Audience.RESIDENTS),
            (COMMITTEE_CHAT, "committee_a", Audience.COMMITTEE),
            (TOWN_CHAT, "town", Audience.TOWN),
        ):
            code = create_bind_code(
                session,
                unit_id=units[unit],
                audience=audience,
                created_by=None,
                now=harness.clock.now(),
            )
            bind_chat(
                session,
                code=code.code,
                chat_id=chat_id,
                title=None,
                member_id=None,
                now=harness.clock.now(),
            )


@pytest.fixture
def chats(harness: Harness) -> None:
    bind_test_chats(harness)


def number_in(calls: list[SentCall]) -> int:
    match = re.search(r"#(\d+)", texts(calls))
    assert match, texts(calls)
    return int(match.group(1))


def card(harness: Harness) -> SentCall:
    """The latest card posted (sendMessage) in the committee chat."""
    return [c for c in harness.api.sent(COMMITTEE_CHAT, "sendMessage") if buttons(c)][-1]


def card_now(harness: Harness) -> str:
    """What the committee chat shows for the latest card: its last edit, else the original."""
    first = card(harness)
    edits = [
        c
        for c in harness.api.sent(COMMITTEE_CHAT, "editMessageText")
        if c.params.get("message_id") == first.message_id
    ]
    return (edits[-1] if edits else first).text or ""


async def press_on_card(harness: Harness, data: str, user_id: int) -> list[SentCall]:
    return await harness.press(
        data,
        user_id=user_id,
        chat=harness.group(COMMITTEE_CHAT, "东城居委工作群"),
        message_id=card(harness).message_id,
    )


async def report(harness: Harness, text: str, user_id: int = LEADER_A3) -> int:
    sent = await harness.send(text, user_id=user_id, chat=harness.group(RESIDENTS_CHAT))
    return number_in(sent)


def issue_row(harness: Harness, number: int) -> Issue:
    with harness.database.session() as session:
        issue = session.get(Issue, number)
        assert issue is not None
        return issue


def actions(harness: Harness, number: int) -> list[str]:
    with harness.database.session() as session:
        events = session.exec(
            select(IssueEvent).where(IssueEvent.issue_id == number).order_by(col(IssueEvent.id))
        ).all()
        return [e.action for e in events]


@pytest.mark.usefixtures("chats")
async def test_report_dispatch_handle_resolve_rate_close(harness: Harness) -> None:
    group = harness.group(RESIDENTS_CHAT)
    sent = await harness.send("#报事 3号楼楼道堆物，旧家具堆了几天", user_id=LEADER_A3, chat=group)
    receipt = texts(sent)
    number = number_in(sent)
    assert "已记下" in receipt
    assert "楼道堆物" in receipt
    assert "阳光小区/3号楼" in receipt
    assert any(data.startswith(f"iss:cat:{number}") for _, data in buttons(sent[0]))

    # The card in the committee chat, with the buttons the design names.
    labels = [label for label, _ in buttons(card(harness))]
    for label in ("受理", "派给物业", "居委", "业委会", "城管", "派出所", "吹哨", "重复"):
        assert label in labels
    assert "不属实·不归我们管" in labels
    assert f"#{number}" in card_now(harness)

    sent = await press_on_card(harness, f"iss:dsp:{number}:property", COMMITTEE_A)
    assert "已派单" in card_now(harness)
    notice = harness.api.sent(PROPERTY_A, "sendMessage")[-1]
    assert f"#{number}" in (notice.text or "")
    assert {label for label, _ in buttons(notice)} == {"处理中", "已解决"}

    await harness.press(f"iss:prog:{number}", user_id=PROPERTY_A, message_id=notice.message_id)
    assert "处理中" in card_now(harness)
    harness.clock.advance(timedelta(hours=3))
    await harness.press(f"iss:res:{number}", user_id=PROPERTY_A, message_id=notice.message_id)
    assert "已解决" in card_now(harness)

    ask = harness.api.sent(LEADER_A3, "sendMessage")[-1]
    assert "解决了吗" in (ask.text or "")
    rating_data = dict(buttons(ask))
    sent = await harness.press(rating_data["5⭐"], user_id=LEADER_A3, message_id=ask.message_id)
    assert "谢谢" in texts(sent)
    assert "已结案" in card_now(harness)
    issue = issue_row(harness, number)
    assert issue.state == "closed"
    assert issue.rating == 5
    assert issue.close_reason == "confirmed"
    assert actions(harness, number) == ["report", "dispatch", "start", "resolve", "confirm"]


@pytest.mark.usefixtures("chats")
async def test_not_fixed_reopens_and_the_committee_hears_of_it(harness: Harness) -> None:
    number = await report(harness, "#报事 3号楼门口路灯坏了")
    await press_on_card(harness, f"iss:acc:{number}", COMMITTEE_A)
    await press_on_card(harness, f"iss:res:{number}", COMMITTEE_A)
    ask = harness.api.sent(LEADER_A3, "sendMessage")[-1]
    sent = await harness.press(f"iss:nfix:{number}", user_id=LEADER_A3, message_id=ask.message_id)
    assert "重新" in texts(sent)
    assert issue_row(harness, number).state == "reopened"
    assert issue_row(harness, number).reopen_count == 1
    assert any("还没解决" in t for t in harness.api.texts(COMMITTEE_CHAT))
    assert "重新处理" in card_now(harness)
    # Pressing the rating afterwards is refused clearly, nothing changes.
    sent = await harness.press(f"iss:fix:{number}:5", user_id=LEADER_A3)
    assert "不能这样操作" in texts(sent)
    assert issue_row(harness, number).rating is None


@pytest.mark.usefixtures("chats")
async def test_reject_names_the_body_and_tells_the_reporter(harness: Harness) -> None:
    number = await report(harness, "#报事 小区门口马路上有人乱设摊")
    sent = await press_on_card(harness, f"iss:rej:{number}", COMMITTEE_A)
    bodies = dict(buttons(sent[-1]))
    await press_on_card(harness, bodies["城管"], COMMITTEE_A)
    issue = issue_row(harness, number)
    assert issue.state == "rejected"
    assert issue.rejected_to == "urban_management"
    assert "城管" in card_now(harness)
    assert any("城管" in t for t in harness.api.texts(LEADER_A3))
    # After the rejection the card has no buttons and a late press is refused.
    sent = await press_on_card(harness, f"iss:acc:{number}", COMMITTEE_A)
    assert "不能这样操作" in texts(sent)


@pytest.mark.usefixtures("chats")
async def test_duplicate_offer_and_join(harness: Harness) -> None:
    first = await report(harness, "#报事 3号楼楼道堆物")
    harness.clock.advance(timedelta(days=2))
    sent = await harness.send(
        "#报事 3号楼楼道里又堆满了东西", user_id=GRID_A, chat=harness.group(RESIDENTS_CHAT)
    )
    # In a residents chat the offer is not made (no cross-reporter details there)...
    assert "同一件" not in texts(sent)
    # ...but in the grid worker's private chat it is.
    sent = await harness.send("/report 3号楼楼道堆物 还没清", user_id=GRID_A)
    second = number_in(sent)
    assert second != first
    assert f"#{first}" in texts(sent)
    join = next(d for label, d in buttons(sent[0]) if "合并" in label)
    assert join == f"iss:join:{second}:{first}"
    sent = await harness.press(join, user_id=GRID_A, message_id=sent[0].message_id)
    assert "合并" in texts(sent)
    assert issue_row(harness, second).state == "duplicate"
    assert issue_row(harness, second).duplicate_of_id == first
    assert issue_row(harness, first).reporters_count == 2
    with harness.database.session() as session:
        joined = session.exec(select(IssueReporter).where(IssueReporter.issue_id == first)).all()
    assert {r.user_id for r in joined} == {LEADER_A3, GRID_A}
    # Both reporters are asked when it is resolved.
    await press_on_card(harness, f"iss:acc:{first}", COMMITTEE_A)
    await harness.press(f"iss:res:{first}", user_id=COMMITTEE_A)
    assert any("解决了吗" in t for t in harness.api.texts(GRID_A))
    assert any("解决了吗" in t for t in harness.api.texts(LEADER_A3))


@pytest.mark.usefixtures("chats")
async def test_committee_marks_a_card_duplicate(harness: Harness) -> None:
    first = await report(harness, "#报事 3号楼楼道堆物")
    second = await report(harness, "#报事 三号楼楼道有杂物", user_id=RESIDENT_A)
    sent = await press_on_card(harness, f"iss:dup:{second}", COMMITTEE_A)
    choice = dict(buttons(sent[-1]))[f"与 #{first} 相同"]
    await press_on_card(harness, choice, COMMITTEE_A)
    assert issue_row(harness, second).state == "duplicate"
    assert issue_row(harness, first).reporters_count == 2


@pytest.mark.usefixtures("chats")
async def test_overdue_alert_then_escalation_with_a_moved_clock(harness: Harness) -> None:
    number = await report(harness, "#报事 3号楼门口路灯坏了")  # normal: respond 24 h
    job = harness.app.job_queue.get_jobs_by_name(SCAN_JOB_NAME)[0]  # type: ignore[union-attr]

    harness.clock.advance(timedelta(hours=19))  # a quarter of the time left
    await job.run(harness.app)
    assert any("提醒" in t and f"#{number}" in t for t in harness.api.texts(COMMITTEE_CHAT))

    harness.clock.advance(timedelta(hours=6))  # 25 h: overdue
    await job.run(harness.app)
    assert any("超时" in t and f"#{number}" in t for t in harness.api.texts(COMMITTEE_CHAT))
    assert "已超时" in card_now(harness)
    assert not harness.api.texts(TOWN_CHAT)

    await job.run(harness.app)  # a second scan at the same time announces nothing new
    alerts = [t for t in harness.api.texts(COMMITTEE_CHAT) if "超时：" in t]
    assert len(alerts) == 1

    harness.clock.advance(timedelta(hours=24))  # 49 h: twice the time allowed
    await job.run(harness.app)
    town = harness.api.texts(TOWN_CHAT)
    assert any(f"#{number}" in t and "街道" in t for t in town)
    assert actions(harness, number) == ["report", "reminder", "overdue", "auto_escalate"]


@pytest.mark.usefixtures("chats")
async def test_unconfirmed_resolution_closes_after_three_days(harness: Harness) -> None:
    number = await report(harness, "#报事 3号楼门口路灯坏了")
    await press_on_card(harness, f"iss:acc:{number}", COMMITTEE_A)
    await press_on_card(harness, f"iss:res:{number}", COMMITTEE_A)
    job = harness.app.job_queue.get_jobs_by_name(SCAN_JOB_NAME)[0]  # type: ignore[union-attr]
    harness.clock.advance(timedelta(days=3, minutes=1))
    await job.run(harness.app)
    issue = issue_row(harness, number)
    assert issue.state == "closed"
    assert issue.close_reason == "unconfirmed"
    assert "自动结案" in card_now(harness)


@pytest.mark.usefixtures("chats")
async def test_urgent_category_alerts_the_committee_at_once(harness: Harness) -> None:
    number = await report(harness, "#报事 1号楼闻到煤气味")
    committee = harness.api.texts(COMMITTEE_CHAT)
    assert any("紧急" in t and f"#{number}" in t for t in committee)


@pytest.mark.usefixtures("chats")
async def test_whistle_reaches_the_town_chat(harness: Harness) -> None:
    number = await report(harness, "#报事 3号楼违法搭建")
    await press_on_card(harness, f"iss:esc:{number}", COMMITTEE_A)
    assert any(f"#{number}" in t and "吹哨" in t for t in harness.api.texts(TOWN_CHAT))
    assert "已上报街道" in card_now(harness)
