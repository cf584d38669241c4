"""Column types and vocabularies shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always gives them back aware.

    SQLite has no time zones; without this a value read back would be naive and every
    comparison with ``clock.now()`` would fail.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UnitKind(StrEnum):
    TOWN = "town"
    COMMITTEE = "committee"
    COMPOUND = "compound"
    BUILDING = "building"
    GRID = "grid"


class HousingType(StrEnum):
    OLD_PUBLIC = "old_public"
    COMMERCIAL = "commercial"
    RESETTLEMENT = "resettlement"
    AFFORDABLE = "affordable"


class Role(StrEnum):
    GRID_WORKER = "grid_worker"
    BUILDING_LEADER = "building_leader"
    COMMITTEE = "committee"
    PROPERTY = "property"
    OWNERS_COMMITTEE = "owners_committee"
    VOLUNTEER = "volunteer"
    PARTY_MEMBER = "party_member"
    TOWN = "town"
    RESIDENT = "resident"
    ADMIN = "admin"


class Audience(StrEnum):
    RESIDENTS = "residents"
    COMMITTEE = "committee"
    GRID = "grid"
    TOWN = "town"
