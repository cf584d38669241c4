"""Item 9 (part): a crash inside a handler never shows a group its traceback or the data in it,
and /deleteme wipes the person while the counts the index reads stay the same.

Not yet here: the sweep of every residents-chat message, caption and chart for seeded names,
phone, ID and room numbers (see docs/reliability.md).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from handlers import issues
from tests.bot.test_issue_loop_e2e import COMMITTEE_CHAT, RESIDENTS_CHAT
from tests.district import COMMITTEE_A, LEADER_A3
from tests.harness import Harness, texts
from tests.reliability.support import bind_all, group

SECRET = "李阿姨 13812345678 310101199001011234 3号楼1201室"


async def test_a_traceback_never_reaches_a_group(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bind_all(harness)

    def explode(**_: object) -> None:
        raise RuntimeError(f"boom while reading {SECRET}")

    monkeypatch.setattr(issues, "open_issues", explode)
    sent = await harness.send("/issues", user_id=COMMITTEE_A, chat=group(COMMITTEE_CHAT))
    said = texts(sent)
    assert "已通知管理员" in said  # the apology, and nothing else
    for leak in ("Traceback", "RuntimeError", "boom", "13812345678", "李阿姨", "1201"):
        assert leak not in said
    assert all(str(c.chat_id) == str(COMMITTEE_CHAT) for c in sent)


async def test_deleteme_wipes_the_person_and_keeps_the_counts(harness: Harness) -> None:
    bind_all(harness)
    residents = group(RESIDENTS_CHAT)
    await harness.send("#报事 3号楼楼道堆物", user_id=LEADER_A3, chat=residents)
    await harness.send("#志愿 今天清理楼道 5人2小时", user_id=LEADER_A3, chat=residents)
    counts = "SELECT (SELECT count(*) FROM issue), (SELECT count(*) FROM activity)"
    with harness.database.read_session() as session:
        before = tuple(session.execute(text(counts)).one())
    await harness.send("/deleteme", user_id=LEADER_A3)
    await harness.press("del:yes", user_id=LEADER_A3)
    with harness.database.read_session() as session:
        assert tuple(session.execute(text(counts)).one()) == before
        person = session.execute(
            text("SELECT name, phone, telegram_user_id FROM member WHERE id = :id"),
            {"id": harness.district.members[LEADER_A3]},
        ).one()
        assert tuple(person) == (None, None, None)
        leftovers = session.execute(
            text("SELECT count(*) FROM issue WHERE reporter_user_id = :u"), {"u": LEADER_A3}
        ).scalar()
        assert leftovers == 0
        live_roles = session.execute(
            text("SELECT count(*) FROM role_grant WHERE member_id = :m AND revoked_at IS NULL"),
            {"m": harness.district.members[LEADER_A3]},
        ).scalar()
        assert live_roles == 0
