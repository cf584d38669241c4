"""The foundation as a person meets it, through the real Application and the offline transport."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from storage.bindings import create_bind_code
from storage.invites import create_invite
from storage.tables import Audience, ChatBinding, Member, Role, RoleGrant
from tests import factories as f
from tests.district import COMMITTEE_A, COMMITTEE_B, LEADER_A3, RESIDENT_A, STRANGER
from tests.harness import Harness, buttons, texts

NEWCOMER, SECOND = 5001, 5002
GROUP = -100200300


def _invite_code(reply: str) -> str:
    match = re.search(r"start=([\w-]+)", reply)
    assert match, reply
    return match.group(1)


def _volunteer_invite(harness: Harness) -> str:
    """The code of a fresh volunteer invite to 阳光小区, made now."""
    with harness.database.session() as session:
        invite = create_invite(
            session,
            role=Role.VOLUNTEER,
            unit_id=harness.district.units["sunshine"],
            created_by=None,
            now=harness.clock.now(),
        )
    return invite.code


async def test_stranger_gets_a_friendly_explanation_in_chinese(harness: Harness) -> None:
    sent = await harness.send("/start", user_id=STRANGER)
    assert "基层治理助手" in texts(sent)
    assert "邀请链接" in texts(sent)  # tells them how to join
    help_sent = await harness.send("/help", user_id=STRANGER)
    assert "邀请链接" in texts(help_sent)


async def test_invite_join_bind_and_help_in_both_languages(harness: Harness) -> None:
    # A committee member invites a building leader for 3号楼 from a private chat.
    sent = await harness.send("/invite 楼组长 3号楼", user_id=COMMITTEE_A)
    reply = texts(sent)
    assert "楼组长" in reply
    assert "阳光小区/3号楼" in reply
    code = _invite_code(reply)

    # The newcomer opens the deep link and becomes a building leader of that building.
    sent = await harness.send(f"/start {code}", user_id=NEWCOMER)
    assert "欢迎加入" in texts(sent)
    assert "/checkin" in texts(sent)  # /help follows, with what a building leader may do
    assert "/invite" not in texts(sent)  # ... and not what they may not
    with harness.database.session() as session:
        member = session.exec(select(Member).where(Member.telegram_user_id == NEWCOMER)).one()
        grant = session.exec(select(RoleGrant).where(RoleGrant.member_id == member.id)).one()
    assert grant.role == Role.BUILDING_LEADER
    assert grant.unit_id == harness.district.units["sunshine_3"]

    # A second person with the same single-use link is refused clearly.
    sent = await harness.send(f"/start {code}", user_id=SECOND)
    assert "已被使用" in texts(sent)

    # The committee member asks for a binding code in private and binds the residents' group.
    sent = await harness.send("/bind 阳光小区 居民群", user_id=COMMITTEE_A)
    bind_code = re.search(r"/bind ([A-Z0-9]{8})", texts(sent))
    assert bind_code, texts(sent)
    group = harness.group(GROUP)
    sent = await harness.send(f"/bind {bind_code.group(1)}", user_id=COMMITTEE_A, chat=group)
    assert "已绑定" in texts(sent)
    assert "居民群" in texts(sent)
    with harness.database.session() as session:
        binding = session.exec(select(ChatBinding).where(ChatBinding.chat_id == GROUP)).one()
    assert binding.audience == Audience.RESIDENTS
    assert binding.active

    # The new leader switches to English and sees help in English.
    sent = await harness.send("/lang en", user_id=NEWCOMER)
    assert "English" in texts(sent)
    sent = await harness.send("/help", user_id=NEWCOMER)
    assert "Weekly check-in" in texts(sent)
    assert "每周" not in texts(sent)


async def test_invite_buttons_offer_roles_then_units(harness: Harness) -> None:
    sent = await harness.send("/invite", user_id=COMMITTEE_A)
    role_buttons = buttons(sent[-1])
    labels = [label for label, _ in role_buttons]
    assert "楼组长" in labels
    assert "街镇" not in labels
    data = dict(role_buttons)["楼组长"]
    sent = await harness.press(data, user_id=COMMITTEE_A)
    unit_buttons = buttons(sent[-1])
    assert any("阳光小区/3号楼" in label for label, _ in unit_buttons)
    assert not any("西城" in label for label, _ in unit_buttons)  # other committee's units
    data = next(d for label, d in unit_buttons if label.endswith("阳光小区/3号楼"))
    sent = await harness.press(data, user_id=COMMITTEE_A)
    assert "start=" in texts(sent)


async def test_invite_refusals_are_clear(harness: Harness) -> None:
    # A unit of another committee.
    sent = await harness.send("/invite 楼组长 西城花苑/1号楼", user_id=COMMITTEE_A)
    assert "不是您管理的单位" in texts(sent)
    # A unit that does not exist.
    sent = await harness.send("/invite 楼组长 99号楼", user_id=COMMITTEE_A)
    assert "找不到" in texts(sent)
    # A role that does not exist.
    sent = await harness.send("/invite 队长 3号楼", user_id=COMMITTEE_A)
    assert "不认识角色" in texts(sent)
    # A building leader may not invite.
    sent = await harness.send("/invite 志愿者 3号楼", user_id=LEADER_A3)
    assert "没有这个权限" in texts(sent)
    # In a group chat.
    sent = await harness.send(
        "/invite 楼组长 3号楼", user_id=COMMITTEE_A, chat=harness.group(GROUP)
    )
    assert "私聊" in texts(sent)


async def test_expired_invite_is_refused(harness: Harness) -> None:
    code = _volunteer_invite(harness)
    harness.clock.advance(timedelta(days=8))
    sent = await harness.send(f"/start {code}", user_id=NEWCOMER)
    assert "已过期" in texts(sent)
    sent = await harness.send("/start not-a-code", user_id=NEWCOMER)
    assert "无效" in texts(sent)


async def test_opening_the_same_link_twice_is_not_an_error(harness: Harness) -> None:
    code = _volunteer_invite(harness)
    await harness.send(f"/start {code}", user_id=NEWCOMER)
    sent = await harness.send(f"/start {code}", user_id=NEWCOMER)
    assert "无需再次加入" in texts(sent)


async def test_binding_codes_are_single_use_and_unbind_and_rebind_work(harness: Harness) -> None:
    units = harness.district.units
    with harness.database.session() as session:
        first = create_bind_code(
            session,
            unit_id=units["sunshine"],
            audience=Audience.RESIDENTS,
            created_by=None,
            now=harness.clock.now(),
        )
        second = create_bind_code(
            session,
            unit_id=units["committee_a"],
            audience=Audience.COMMITTEE,
            created_by=None,
            now=harness.clock.now(),
        )
    group = harness.group(GROUP)
    await harness.send(f"/bind {first.code}", user_id=COMMITTEE_A, chat=group)
    other = harness.group(GROUP - 1, "另一个群")
    sent = await harness.send(f"/bind {first.code}", user_id=COMMITTEE_A, chat=other)
    assert "已经用过" in texts(sent)

    # Someone outside the committee cannot unbind; the committee member can.
    sent = await harness.send("/unbind", user_id=COMMITTEE_B, chat=group)
    assert "没有这个权限" in texts(sent)
    sent = await harness.send("/unbind", user_id=COMMITTEE_A, chat=group)
    assert "解除绑定" in texts(sent)

    # Rebinding the same chat to another unit and audience reuses its row.
    sent = await harness.send(f"/bind {second.code.lower()}", user_id=COMMITTEE_A, chat=group)
    assert "居委工作群" in texts(sent)
    with harness.database.session() as session:
        rows = session.exec(select(ChatBinding).where(ChatBinding.chat_id == GROUP)).all()
    assert len(rows) == 1
    assert rows[0].active
    assert rows[0].audience == Audience.COMMITTEE


async def test_bot_removed_and_supergroup_migration_update_the_binding(harness: Harness) -> None:
    units = harness.district.units
    with harness.database.session() as session:
        code = create_bind_code(
            session,
            unit_id=units["sunshine"],
            audience=Audience.RESIDENTS,
            created_by=None,
            now=harness.clock.now(),
        )
    group = harness.group(GROUP)
    await harness.send(f"/bind {code.code}", user_id=COMMITTEE_A, chat=group)

    new_id = -1009999000111
    await harness.process(f.make_migrate_update(GROUP, new_id))
    with harness.database.session() as session:
        binding = session.exec(select(ChatBinding)).one()
    assert binding.chat_id == new_id
    assert binding.active

    supergroup = f.make_group_chat(new_id, "阳光小区居民群", type="supergroup")
    await harness.process(f.make_bot_removed_update(supergroup))
    with harness.database.session() as session:
        binding = session.exec(select(ChatBinding)).one()
    assert not binding.active
    assert binding.inactive_reason == "removed"


async def test_unknown_command_and_wrong_chat_type_get_clear_answers(harness: Harness) -> None:
    sent = await harness.send("/frobnicate", user_id=LEADER_A3)
    assert "/help" in texts(sent)
    sent = await harness.send("/bind", user_id=COMMITTEE_A, chat=harness.group(GROUP))
    assert "/bind" in texts(sent)
    sent = await harness.send("/unbind", user_id=COMMITTEE_A)
    assert "群里" in texts(sent)
    sent = await harness.send("/deleteme", user_id=RESIDENT_A, chat=harness.group(GROUP))
    assert "私聊" in texts(sent)


async def test_privacy_and_deleteme(harness: Harness) -> None:
    sent = await harness.send("/privacy", user_id=RESIDENT_A)
    assert "/deleteme" in texts(sent)
    sent = await harness.send("/deleteme", user_id=RESIDENT_A)
    yes = dict(buttons(sent[-1]))["确定删除"]
    sent = await harness.press(yes, user_id=RESIDENT_A, message_id=sent[-1].message_id)
    assert "已删除" in texts(sent)
    with harness.database.session() as session:
        member = session.get(Member, harness.district.members[RESIDENT_A])
        assert member is not None
        assert member.name is None
        assert member.telegram_user_id is None
        grants = session.exec(select(RoleGrant).where(RoleGrant.member_id == member.id)).all()
    assert all(g.revoked_at is not None for g in grants)
    # They are a stranger now, and told so kindly.
    sent = await harness.send("/help", user_id=RESIDENT_A)
    assert "邀请链接" in texts(sent)
