"""The org tree: 街镇 → 居委 → 小区 → 楼组, with 网格 as an overlay of compounds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.tables.types import UTCDateTime


class Unit(SQLModel, table=True):
    """One node of the org tree. Compounds carry what the index needs to evaluate them."""

    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("parent_id", "kind", "name", name="uq_unit_sibling_name"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)
    name: str
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    housing_type: str | None = None
    tags: str = ""  # ';'-separated free tags (fuzzy set): inner_city, school_district, ...
    households: int | None = None
    residents: int | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class GridCompound(SQLModel, table=True):
    """A compound assigned to a grid (网格); grid workers are scoped to their grid's compounds."""

    __tablename__ = "grid_compound"

    grid_id: int = Field(foreign_key="unit.id", primary_key=True)
    compound_id: int = Field(foreign_key="unit.id", primary_key=True)
