"""Say on each stock when a provider's history was last written, and from bars how wide.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("stocks", sa.Column("history_bar_seconds", sa.Integer(), nullable=True))
    op.add_column("stocks", sa.Column("history_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN, not batch mode: a batch rebuild of `stocks` on SQLite would
    # cascade into price_ticks (see 0005).
    op.drop_column("stocks", "history_at")
    op.drop_column("stocks", "history_bar_seconds")
