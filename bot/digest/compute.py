"""Score one ISO week from the bot's records and store the snapshot: derive → score → store.

Reads run in a deferred read session (no write lock held while pandas works); only the short
writes at the end take ``BEGIN IMMEDIATE``. A week already stored is not scored again, so the
weekly pipeline can run twice (or resume after a crash) and the scores a digest showed stay.

Thresholds: the active set is reused week after week. When none exists yet (the first run) or
``rebuild=True``, a new set is built from the last ``CALIBRATION_WEEKS`` weeks of derived and
imported values ending with the week being scored — the paper's three-period moving average
needs three, the change leaves one more — and becomes the active set.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from bot.digest.weeks import week_bounds, weeks_ending
from scoring import build_thresholds, load_catalog, rank_intervals
from scoring.derive import derive_indicator_history
from scoring.snapshot import score_validated
from scoring.values import validate_values
from storage.db import Database
from storage.records import RecordFrames, read_imported, read_records
from storage.snapshots import active_thresholds, has_snapshot, save_thresholds, store_snapshot

logger = logging.getLogger(__name__)

CALIBRATION_WEEKS = 4
SCORED_WEEKS = 3  # the week and the two before it: change leaves and change since last week
RANK_DRAWS = 200


def score_week(
    database: Database,
    *,
    week: str,
    now: datetime,
    tz: ZoneInfo,
    catalog: pd.DataFrame | None = None,
    rebuild_thresholds: bool = False,
) -> int:
    """Score ``week`` and store it unless already stored; return the compounds stored."""
    with database.read_session() as session:
        if has_snapshot(session, period=week) and not rebuild_thresholds:
            return 0
        thresholds = None if rebuild_thresholds else active_thresholds(session)
    catalog = load_catalog() if catalog is None else catalog
    weeks = weeks_ending(week, CALIBRATION_WEEKS if thresholds is None else SCORED_WEEKS)
    values = week_values(database, weeks=weeks, tz=tz, catalog=catalog)
    if values.empty or week not in set(values["period"]):
        logger.info("no indicator values for %s: nothing to score", week)
        return 0
    values = validate_values(values, catalog, source=f"records of {week}")
    if thresholds is None:
        thresholds = build_thresholds(values, catalog)
        with database.session() as session:
            save_thresholds(session, thresholds=thresholds, now=now)
    scored = values[values["period"].isin(weeks[-SCORED_WEEKS:])].reset_index(drop=True)
    snapshot = score_validated(scored, thresholds, catalog, period=week)  # validated above
    intervals = rank_intervals([snapshot], catalog, draws=RANK_DRAWS)
    with database.session() as session:
        return store_snapshot(session, snapshot=snapshot, intervals=intervals, now=now)


def week_values(
    database: Database, *, weeks: list[str], tz: ZoneInfo, catalog: pd.DataFrame
) -> pd.DataFrame:
    """Derived and imported indicator values (long format) for ``weeks``."""
    frames = read_week_records(database, weeks=weeks, tz=tz, catalog=catalog)
    derived = derive_indicator_history(
        compounds=frames.compounds,
        weeks=weeks,
        issues=frames.issues,
        activities=frames.activities,
        checkins=frames.checkins,
        catalog=catalog,
        tz=str(tz),
    )
    imported_ids = catalog.index[catalog["source"] == "imported"]
    with database.read_session() as session:
        imported = read_imported(session, weeks=weeks, indicators=imported_ids)
    parts = [frame for frame in (derived, imported) if not frame.empty]
    if not parts:
        return derived
    return pd.concat(parts, ignore_index=True)


def read_week_records(
    database: Database, *, weeks: list[str], tz: ZoneInfo, catalog: pd.DataFrame
) -> RecordFrames:
    """The records the trailing windows of ``weeks`` can reach."""
    window = int(catalog["window_weeks"].max() or 13)
    start, _ = week_bounds(weeks[0], tz)
    with database.read_session() as session:
        return read_records(session, since=start - timedelta(weeks=window))
