"""issue: one index per time the weekly index bounds its read by

``storage.records.read_issues`` reads the issues reported, due, closed or resolved since the
first window's start, or still open: one index range for each, so the weekly read grows with
the weeks it covers, not with every issue ever stored.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 14:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("reported_at", "closed_at", "resolved_at", "resolve_due_at")


def upgrade() -> None:
    for column in _COLUMNS:
        op.create_index(f"ix_issue_{column}", "issue", [column], unique=False)


def downgrade() -> None:
    for column in reversed(_COLUMNS):
        op.drop_index(f"ix_issue_{column}", table_name="issue")
