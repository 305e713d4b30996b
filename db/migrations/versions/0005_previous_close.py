"""Keep the provider's previous close on each stock, with when it was observed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The types as models.PRICE and UTCDateTime store them, frozen here as of this revision.
PRICE = sa.Numeric(18, 6)
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("stocks", sa.Column("previous_close", PRICE, nullable=True))
    op.add_column("stocks", sa.Column("previous_close_at", TIME, nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not batch mode: a batch rebuild of
    # `stocks` on SQLite drops the old table, and its ON DELETE CASCADE empties price_ticks.
    op.drop_column("stocks", "previous_close_at")
    op.drop_column("stocks", "previous_close")
