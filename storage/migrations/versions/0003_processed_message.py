"""processed_message: remember which check-in and import messages were acted on and answered

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.tables.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processed_message",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("processed_at", storage.tables.types.UTCDateTime(), nullable=False),
        sa.Column("answered_at", storage.tables.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("chat_id", "message_id", "kind"),
    )


def downgrade() -> None:
    op.drop_table("processed_message")
