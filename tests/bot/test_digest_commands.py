"""/index and /digest through the real Application."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.digest.compute import score_week
from storage.tables import Audience
from tests.bot.test_weekly_e2e import COMMITTEE_CHAT, SUNSHINE_3_CHAT, WEEK, bind, seed
from tests.digest_seed import PERSONAL
from tests.district import COMMITTEE_A, RESIDENT_A, STRANGER
from tests.harness import Harness, texts


@pytest.fixture
def scored(harness: Harness) -> Harness:
    seed(harness)
    score_week(harness.database, week=WEEK, now=harness.clock.now(), tz=ZoneInfo("Asia/Shanghai"))
    bind(harness, SUNSHINE_3_CHAT, "sunshine_3", Audience.RESIDENTS)
    bind(harness, COMMITTEE_CHAT, "committee_a", Audience.COMMITTEE)
    return harness


async def test_index_shows_the_residents_compound_with_its_chart(scored: Harness) -> None:
    calls = await scored.send("/index", user_id=RESIDENT_A)
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    assert photo.chat_id == RESIDENT_A
    assert "阳光小区" in (photo.caption or "")
    assert "管理精细" in (photo.caption or "")
    assert (photo.photo_bytes or 0) > 10_000


async def test_index_by_name_and_refusals(scored: Harness) -> None:
    named = await scored.send("/index 梅园新村", user_id=COMMITTEE_A)
    assert "梅园新村" in texts(named)
    foreign = await scored.send("/index 西城花苑", user_id=RESIDENT_A)
    assert "西城花苑" not in " ".join(c.caption or "" for c in foreign)
    stranger = await scored.send("/index", user_id=STRANGER)
    assert [c for c in stranger if c.method == "sendPhoto"] == []


async def test_index_before_the_first_monday_says_when(harness: Harness) -> None:
    calls = await harness.send("/index", user_id=RESIDENT_A)
    assert "每周一" in texts(calls)


async def test_digest_preview_goes_to_the_requester_only(scored: Harness) -> None:
    group = scored.group(COMMITTEE_CHAT, "东城居委工作群")
    calls = await scored.send("/digest", user_id=COMMITTEE_A, chat=group)
    in_group = [c for c in calls if c.chat_id == COMMITTEE_CHAT]
    private = [c for c in calls if c.chat_id == COMMITTEE_A]
    assert len(in_group) == 1
    assert "私信" in (in_group[0].text or "")
    assert "东城居委 · 工作周报" in texts(private)
    assert any(c.method == "sendPhoto" for c in private)


async def test_residents_preview_is_for_committee_members_only(scored: Harness) -> None:
    group = scored.group(SUNSHINE_3_CHAT)
    refused = await scored.send("/digest", user_id=RESIDENT_A, chat=group)
    assert [c for c in refused if c.chat_id == RESIDENT_A] == []
    allowed = await scored.send("/digest", user_id=COMMITTEE_A, chat=group)
    preview = texts([c for c in allowed if c.chat_id == COMMITTEE_A])
    assert "阳光小区 · 社区治理周报" in preview
    assert not any(secret in preview for secret in PERSONAL)
