"""The weekly pipeline, keyed by the ISO week it reports on (``weekly:2026-W46``).

Every Monday 09:00 (``GOVBOT_DIGEST_WEEKDAY`` / ``GOVBOT_DIGEST_TIME``, in the settings' time
zone) the bot scores last week, raises its alerts, renders each bound chat's digest for its
audience, enqueues everything in the outbox and lets the sender drain it:

    score_week → evaluate_week_alerts → gather_week → render per chat → enqueue_many → drain

Running it twice sends nothing twice: the key is finished once (``bot.jobrun.KeyedRuns``), the
snapshot and alerts are stored once per cause, and the outbox keeps one row per (chat, kind,
period). A run missed while the process was down is caught up once at start-up (the
``weekly-digest-catch-up`` job); a run killed half-way runs again, and its idempotent steps
complete what the dead one began. Pandas and matplotlib work runs in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.digest.alerting import (
    BOTTOM_DECILE,
    DEFAULT_DROP_POINTS,
    INDEX_DROP,
    SPIKE,
    evaluate_week_alerts,
)
from bot.digest.compute import score_week
from bot.digest.fanout import (
    active_targets,
    alert_messages,
    digest_messages,
    week_alerts,
)
from bot.digest.gather import DigestWeek, gather_week
from bot.digest.weeks import digest_week, last_due
from bot.jobrun import KeyedRuns
from bot.sender import AnyApplication, drain_outbox
from handlers.context import GovApplication, GovContext, Services, run_db
from storage.db import Database
from storage.outbox import QueuedMessage, enqueue_many

logger = logging.getLogger(__name__)

WEEKLY_JOB = "weekly-digest"
CATCH_UP_JOB = "weekly-digest-catch-up"
CONFIG_KEY = "weekly_config"
RUNS_KEY = "weekly_runs"
WEEKLY_ALERTS = (SPIKE, INDEX_DROP, BOTTOM_DECILE)


@dataclass(frozen=True)
class WeeklyConfig:
    weekday: int  # Monday = 0
    at: time
    media_dir: Path
    drop_points: float = DEFAULT_DROP_POINTS


def run_key(week: str) -> str:
    return f"weekly:{week}"


# -- The pipeline ----------------------------------------------------------------------------


def prepare_week(
    database: Database,
    *,
    week: str,
    now: Any,
    tz: ZoneInfo,
    drop_points: float = DEFAULT_DROP_POINTS,
) -> DigestWeek:
    """Score the week (once), raise its alerts (once per cause) and read the digest material."""
    score_week(database, week=week, now=now, tz=tz)
    evaluate_week_alerts(database, week=week, now=now, tz=tz, drop_points=drop_points)
    return gather_week(database, week=week, now=now, tz=tz)


def week_messages(
    database: Database,
    *,
    week: str,
    now: Any,
    tz: ZoneInfo,
    locale: str,
    config: WeeklyConfig,
) -> list[QueuedMessage]:
    """Every outbox message of the week: each bound chat's digest and the new alerts."""
    material = prepare_week(database, week=week, now=now, tz=tz, drop_points=config.drop_points)
    with database.read_session() as session:
        targets = active_targets(session)
        alerts = week_alerts(session, week=week, kinds=WEEKLY_ALERTS)
    messages = alert_messages(material, alerts=alerts, targets=targets, locale=locale)
    messages += digest_messages(
        material, targets=targets, locale=locale, media_dir=config.media_dir
    )
    return messages


async def run_weekly(app: AnyApplication, *, week: str | None = None) -> bool:
    """Run the pipeline for ``week`` (default: the last complete week) unless already done.

    Returns True if this call ran it to the end.
    """
    services: Services = app.bot_data["services"]
    week = week or digest_week(services.clock.now(), services.tz)
    runs: KeyedRuns = services.extras.setdefault(RUNS_KEY, KeyedRuns(services.db, services.clock))
    ran = await runs.run(run_key(week), lambda: _pipeline(app, week))
    if ran:
        logger.info("weekly pipeline %s done", week)
    return ran


async def _pipeline(app: AnyApplication, week: str) -> None:
    services: Services = app.bot_data["services"]
    config = weekly_config(services)
    now = services.clock.now()
    messages = await asyncio.to_thread(
        week_messages,
        services.db,
        week=week,
        now=now,
        tz=services.tz,
        locale=services.default_locale,
        config=config,
    )
    await run_db(services.db, enqueue_many, messages=messages, now=now)
    await drain_outbox(app)


def weekly_config(services: Services) -> WeeklyConfig:
    config: WeeklyConfig | None = services.extras.get(CONFIG_KEY)
    if config is None:
        config = WeeklyConfig(weekday=0, at=time(9, 0), media_dir=Path("media"))
        services.extras[CONFIG_KEY] = config
    return config


# -- Jobs ------------------------------------------------------------------------------------


async def weekly_job(context: GovContext) -> None:
    """Send last week's digests (the Monday job)."""
    await run_weekly(context.application)


async def catch_up_job(context: GovContext) -> None:
    """At start-up: run the latest scheduled week if the process was down when it was due."""
    services = context.services
    config = weekly_config(services)
    due = last_due(services.clock.now(), services.tz, weekday=config.weekday, at=config.at)
    await run_weekly(context.application, week=digest_week(due, services.tz))


def schedule_jobs(app: GovApplication, settings: Any) -> None:
    """Register the Monday job and the start-up catch-up; remember the pipeline's settings."""
    services: Services = app.bot_data["services"]
    services.extras[CONFIG_KEY] = WeeklyConfig(
        weekday=settings.digest_weekday,
        at=settings.digest_time,
        media_dir=media_dir_for(settings.database_url),
        drop_points=float(getattr(settings, "index_drop_points", DEFAULT_DROP_POINTS)),
    )
    queue = app.job_queue
    if queue is None:
        logger.warning("no job queue: install python-telegram-bot[job-queue]")
        return
    at = settings.digest_time.replace(tzinfo=settings.tz)
    # PTB counts days from Sunday = 0; the settings count from Monday = 0 like Python.
    days = ((settings.digest_weekday + 1) % 7,)
    queue.run_daily(weekly_job, at, days=days, name=WEEKLY_JOB)
    queue.run_once(catch_up_job, timedelta(seconds=10), name=CATCH_UP_JOB)


def media_dir_for(database_url: str) -> Path:
    """Charts live beside a SQLite database file (``media/``), else in ``./media``."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and ":memory:" not in database_url:
        return Path(database_url[len(prefix) :]).resolve().parent / "media"
    return Path("media").resolve()
