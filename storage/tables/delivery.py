"""The persistent outbox, alerts, index snapshots and the weekly pipeline's run keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.types import UTCDateTime


class OutboxMessage(SQLModel, table=True):
    """One message to deliver, unique per (chat, kind, period): a re-run never sends twice."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("chat_id", "kind", "period", name="uq_outbox_chat_kind_period"),
        Index("ix_outbox_state_due", "state", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    kind: str
    period: str
    payload: str = Field(sa_column=Column(Text(), nullable=False))  # JSON: texts, photo path…
    state: str = "pending"  # pending | sending | sent | failed | ambiguous
    attempts: int = 0
    not_before: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str | None = None
    parts_sent: int = 0


class Alert(SQLModel, table=True):
    """An alert (预警) raised once per cause until the cause changes."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("cause_key", name="uq_alert_cause"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    unit_id: int = Field(foreign_key="unit.id", index=True)
    cause_key: str
    detail: str = Field(default="{}", sa_column=Column(Text(), nullable=False))
    raised_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    cleared_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class ImportedIndicator(SQLModel, table=True):
    """A static indicator value imported from a spreadsheet (物业费收缴率, 文明小区, …)."""

    __tablename__ = "imported_indicator"
    __table_args__ = (
        UniqueConstraint("compound_id", "indicator_id", "period", name="uq_imported_indicator"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="unit.id", index=True)
    indicator_id: str
    period: str
    value: float
    imported_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ThresholdSet(SQLModel, table=True):
    """A frozen, versioned set of normalisation thresholds, reused until rebuilt."""

    __tablename__ = "threshold_set"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    data: str = Field(sa_column=Column(Text(), nullable=False))  # JSON from scoring
    active: bool = True


class ScoreSnapshot(SQLModel, table=True):
    """A compound's index for one week, with every leaf's raw value and Z in ``detail``."""

    __tablename__ = "score_snapshot"
    __table_args__ = (UniqueConstraint("period", "compound_id", name="uq_snapshot_period"),)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(index=True)
    compound_id: int = Field(foreign_key="unit.id", index=True)
    housing_type: str
    total: float
    management: float
    vitality: float
    satisfaction: float
    progress: float
    coverage: float
    rank_in_type: int | None = None
    rank_low: int | None = None
    rank_high: int | None = None
    threshold_version: str | None = None
    detail: str = Field(sa_column=Column(Text(), nullable=False))
    computed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class JobRun(SQLModel, table=True):
    """A keyed run of a periodic pipeline (e.g. ``weekly:2026-W47``): done once, caught up once."""

    __tablename__ = "job_run"

    key: str = Field(primary_key=True)
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
