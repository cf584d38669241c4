"""Schema management: Alembic owns the schema; this runs it from code (``govbot db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade_database(url: str) -> None:
    """Bring the database at ``url`` to the newest schema. Safe to run on every start."""
    command.upgrade(alembic_config(url), "head")


def make_migration(url: str, message: str) -> None:
    """Autogenerate a migration from the difference between the tables and the database."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
