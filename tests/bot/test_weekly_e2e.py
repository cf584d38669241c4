"""The weekly pipeline end to end: the Monday job fires, the week is scored and stored, every
bound chat gets its audience's digest with a chart, and nothing is ever sent twice."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import select

from bot.app import build_application
from bot.cli import main
from bot.digest.charts import AnyChart, ChartCache, TrendChart, chart_kind, draw
from bot.digest.render import render_digest
from bot.offline import OfflineBotAPI, SentCall
from bot.settings import Settings
from bot.updates import next_message_id
from bot.weekly import (
    CATCH_UP_JOB,
    WEEKLY_JOB,
    prepare_week,
    run_weekly,
    week_messages,
    weekly_config,
)
from storage.categories import load_catalog as load_categories
from storage.outbox import enqueue_many
from storage.tables import Alert, Audience, JobRun, OutboxMessage, ScoreSnapshot
from tests.digest_seed import PERSONAL, add_spike, seed_records
from tests.harness import Harness

WEEK = "2026-W46"  # the week the Monday 2026-11-16 digest reports on
MONDAY = date(2026, 11, 9)  # its first day
SUNSHINE_3_CHAT = -100201  # residents group of 阳光小区 3号楼
PLUM_CHAT = -100202  # residents group of 梅园新村
WEST_CHAT = -100203
COMMITTEE_CHAT = -100300
TOWN_CHAT = -100400
RESIDENT_CHATS = (SUNSHINE_3_CHAT, PLUM_CHAT, WEST_CHAT)
ALL_CHATS = (*RESIDENT_CHATS, COMMITTEE_CHAT, TOWN_CHAT)


def bind(harness: Harness, chat_id: int, unit: str, audience: Audience) -> None:
    """``Harness.bind``, the chat titled by its unit's key (test_digest_commands uses it too)."""
    harness.bind(chat_id, unit, audience, title=unit)


def seed(harness: Harness) -> None:
    units = harness.district.units
    with harness.database.session() as session:
        seed_records(
            session,
            harness.district,
            compounds=[units["sunshine"], units["plum"], units["west"]],
            buildings={
                units["sunshine"]: [units["sunshine_1"], units["sunshine_3"]],
                units["plum"]: [units["plum_12"]],
                units["west"]: [units["west_1"]],
            },
            last_week_monday=MONDAY,
        )


@pytest.fixture
def weekly(harness: Harness) -> Harness:
    """The district with 14 weeks of records and five bound chats, one per audience shape."""
    seed(harness)
    bind(harness, SUNSHINE_3_CHAT, "sunshine_3", Audience.RESIDENTS)
    bind(harness, PLUM_CHAT, "plum", Audience.RESIDENTS)
    bind(harness, WEST_CHAT, "west", Audience.RESIDENTS)
    bind(harness, COMMITTEE_CHAT, "committee_a", Audience.COMMITTEE)
    bind(harness, TOWN_CHAT, "town", Audience.TOWN)
    return harness


async def run_job(harness: Harness, name: str) -> list[SentCall]:
    assert harness.app.job_queue is not None
    (job,) = harness.app.job_queue.get_jobs_by_name(name)
    before = len(harness.api.calls)
    await job.run(harness.app)
    return list(harness.api.calls[before:])


def chat_text(calls: list[SentCall], chat_id: int) -> str:
    return "\n".join((c.text or "") + (c.caption or "") for c in calls if c.chat_id == chat_id)


async def test_monday_sends_every_chat_its_audiences_digest(weekly: Harness) -> None:
    sent = await run_job(weekly, WEEKLY_JOB)

    with weekly.database.session() as session:
        stored = session.exec(select(ScoreSnapshot).where(ScoreSnapshot.period == WEEK)).all()
    assert len(stored) == 3
    for chat_id in ALL_CHATS:
        methods = [c.method for c in sent if c.chat_id == chat_id]
        assert "sendPhoto" in methods, chat_id
        assert "sendMessage" in methods, chat_id
    assert all(c.delivered for c in sent)
    residents = chat_text(sent, SUNSHINE_3_CHAT)
    assert "阳光小区 · 社区治理周报" in residents
    assert "管理精细" in residents
    assert "本周大家报事" in residents
    assert "梅园新村" not in residents  # a building group hears about its own compound only
    committee = chat_text(sent, COMMITTEE_CHAT)
    assert "东城居委 · 工作周报" in committee
    assert "阳光小区" in committee
    assert "梅园新村" in committee
    assert "西城花苑" not in committee  # another committee's compound
    assert "逾期" in committee
    assert "下次三会议题建议" in committee
    town = chat_text(sent, TOWN_CHAT)
    assert "名次区间" in town
    assert "西城花苑" in town
    photos = [c for c in sent if c.method == "sendPhoto"]
    assert all(c.files[0].data.startswith(b"\x89PNG") for c in photos)
    assert all(10_000 < (c.photo_bytes or 0) < 400_000 for c in photos)
    assert all(len(c.caption or "") <= 1024 for c in photos)
    assert all(len(c.text or "") <= 4096 for c in sent)


async def test_resident_chats_never_show_names_phones_rooms_or_sensitive_matters(
    weekly: Harness,
) -> None:
    sent = await run_job(weekly, WEEKLY_JOB)

    member_names = ["张书记", "李阿姨", "居民小杨", "周网格", "阳光物业孙经理", "志愿者小陈"]
    catalog = load_categories()
    sensitive = [c.zh for c in catalog.all() if c.sensitive]
    for chat_id in RESIDENT_CHATS:
        text = chat_text(sent, chat_id)
        assert text
        for secret in (*PERSONAL, *member_names, *sensitive, "3号楼502"):
            assert secret not in text, (chat_id, secret)
        assert "排名" not in text  # progress framing, no rank tables
        assert "名次" not in text


async def test_running_the_week_again_sends_nothing(weekly: Harness) -> None:
    first = await run_job(weekly, WEEKLY_JOB)
    assert first
    again = await run_job(weekly, WEEKLY_JOB)
    assert again == []
    # Even a pipeline that believes it never ran (lost run key) sends nothing twice.
    with weekly.database.session() as session:
        session.delete(session.get(JobRun, f"weekly:{WEEK}"))
        session.commit()
    weekly.app.bot_data["services"].extras.pop("weekly_runs", None)
    before = len(weekly.api.calls)
    assert await run_weekly(weekly.app, week=WEEK)
    assert list(weekly.api.calls[before:]) == []
    with weekly.database.session() as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert sorted(r.chat_id for r in rows if r.kind == "digest") == sorted(ALL_CHATS)


async def test_govbot_digest_after_the_monday_job_draws_none_of_its_charts_again(
    weekly: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_job(weekly, WEEKLY_JOB)
    media = weekly_config(weekly.app.bot_data["services"]).media_dir / WEEK
    on_monday = {p.name for p in media.glob("*.png")}
    assert on_monday
    drawn: list[str] = []
    keep = ChartCache._keep

    def counting(cache: ChartCache, chart: AnyChart, key: str, png: bytes) -> None:
        drawn.append(f"{chart_kind(chart)}-{key}.png")
        keep(cache, chart, key, png)

    monkeypatch.setattr(ChartCache, "_keep", counting)
    monkeypatch.setenv("GOVBOT_DATABASE_URL", str(weekly.database.engine.url))
    out = tmp_path / "digests"
    assert main(["digest", "--week", WEEK, "--out", str(out)]) == 0

    assert on_monday.isdisjoint(drawn)  # only charts no bound chat shows are drawn
    assert len(list(out.glob("*.png"))) > len(drawn)


async def test_a_missed_monday_is_caught_up_once_at_start_up(
    weekly: Harness, settings: Settings
) -> None:
    weekly.clock.set(datetime(2026, 11, 17, 6, 0, tzinfo=UTC))  # Tuesday: Monday was missed
    sent = await run_job(weekly, CATCH_UP_JOB)
    assert {c.chat_id for c in sent} == set(ALL_CHATS)

    # A second start (a new Application on the same database) does not repeat it.
    api = OfflineBotAPI(clock=weekly.clock, message_ids=next_message_id)
    app = build_application(settings, api, clock=weekly.clock, database=weekly.database)
    async with app:
        assert app.job_queue is not None
        (job,) = app.job_queue.get_jobs_by_name(CATCH_UP_JOB)
        await job.run(app)
    assert [c for c in api.calls if c.chat_id in ALL_CHATS] == []


async def test_catch_up_before_monday_nine_sends_nothing_new(weekly: Harness) -> None:
    await run_job(weekly, WEEKLY_JOB)  # W46, sent on Monday 2026-11-16
    weekly.clock.set(datetime(2026, 11, 23, 0, 30, tzinfo=UTC))  # next Monday 08:30 Shanghai
    assert await run_job(weekly, CATCH_UP_JOB) == []


async def test_a_run_killed_after_enqueueing_resumes_without_duplicates(
    weekly: Harness,
) -> None:
    services = weekly.app.bot_data["services"]
    now = weekly.clock.now()
    # The dead process scored the week, queued every message and sent nothing.
    messages = week_messages(
        weekly.database,
        week=WEEK,
        now=now,
        tz=services.tz,
        locale="zh",
        config=weekly_config(services),
    )
    with weekly.database.session() as session:
        enqueue_many(session, messages=messages[:2], now=now)
        session.add(JobRun(key=f"weekly:{WEEK}", started_at=now))
        session.commit()

    sent = await run_job(weekly, WEEKLY_JOB)

    for chat_id in ALL_CHATS:
        texts = [c.text for c in sent if c.chat_id == chat_id and c.method == "sendMessage"]
        assert len(texts) == len(set(texts)), chat_id
        assert any("周报" in (t or "") for t in texts)
    assert await run_job(weekly, WEEKLY_JOB) == []


async def test_a_complaint_spike_alerts_the_committee_once(weekly: Harness) -> None:
    with weekly.database.session() as session:
        add_spike(session, compound_id=weekly.district.units["sunshine"], week_monday=MONDAY)
    sent = await run_job(weekly, WEEKLY_JOB)

    committee = chat_text(sent, COMMITTEE_CHAT)
    assert "报事明显增多" in committee
    alerts = [
        c.text
        for c in sent
        if c.chat_id == COMMITTEE_CHAT
        and (c.text or "").startswith("🚨 <b>预警</b>\n阳光小区：报事")
    ]
    assert len(alerts) == 1
    assert "13998765432" not in committee  # alerts carry units and numbers, never a report
    weekly.clock.set(datetime(2026, 11, 17, 1, 0, tzinfo=UTC))
    assert await run_weekly(weekly.app, week=WEEK) is False  # done: nothing again
    with weekly.database.session() as session:
        spikes = session.exec(select(Alert).where(Alert.kind == "complaint_spike")).all()
    assert [a.unit_id for a in spikes] == [weekly.district.units["sunshine"]]
    for chat_id in RESIDENT_CHATS:
        assert "预警" not in chat_text(sent, chat_id)


def test_the_jobs_are_scheduled(harness: Harness) -> None:
    assert harness.app.job_queue is not None
    (job,) = harness.app.job_queue.get_jobs_by_name(WEEKLY_JOB)
    assert job.trigger is not None
    assert len(harness.app.job_queue.get_jobs_by_name(CATCH_UP_JOB)) == 1


def test_a_trend_chart_lines_up_with_the_weeks_when_its_compounds_miss_one(
    weekly: Harness,
) -> None:
    """A committee whose compounds have no score in a week other compounds have (a compound
    added later) still gets one point per week on its chart, with a gap where none is stored;
    so does each housing type's line on the town's chart."""
    services = weekly.app.bot_data["services"]
    now = weekly.clock.now()
    material = prepare_week(weekly.database, week=WEEK, now=now, tz=services.tz)
    west = weekly.district.units["west"]
    extra = material.history[material.history["compound_id"] == west].head(1)
    extra = extra.assign(period="2026-W30")
    history = pd.concat([extra, material.history], ignore_index=True)
    material = dataclasses.replace(material, history=history)
    units = weekly.district.units
    for audience, unit in ((Audience.COMMITTEE, "committee_a"), (Audience.TOWN, "town")):
        unit_id = units[unit]
        digest = render_digest(material, audience=audience, unit_id=unit_id, locale="zh")
        trends = [c for c in digest.charts() if isinstance(c, TrendChart)]
        assert trends
        for chart in trends:
            assert all(len(v) == len(chart.periods) for v in chart.series.values())
            assert draw(chart).startswith(b"\x89PNG")
