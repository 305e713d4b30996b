"""Give each stock a permanent colour slot for the chart.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stocks") as batch:
        batch.add_column(sa.Column("color_slot", sa.Integer(), nullable=True))
    # Stocks already watched get slots in symbol order; the app assigns the rest.
    connection = op.get_bind()
    watched = connection.execute(
        sa.text("SELECT symbol FROM stocks WHERE on_watchlist ORDER BY symbol")
    ).scalars()
    for slot, symbol in enumerate(list(watched)):
        connection.execute(
            sa.text("UPDATE stocks SET color_slot = :slot WHERE symbol = :symbol"),
            {"slot": slot, "symbol": symbol},
        )


def downgrade() -> None:
    with op.batch_alter_table("stocks") as batch:
        batch.drop_column("color_slot")
