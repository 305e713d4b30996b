"""Move the minute rollups into price_bars as width 60 and drop price_minutes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRICE = sa.Numeric(18, 6)
TIME = sa.DateTime(timezone=True)
MINUTE = 60
# The columns both tables share, in the same order; the key differs only by the width.
OHLC = "open, high, low, close, open_at, close_at, tick_count, simulated"


def upgrade() -> None:
    # Plain SQL copies: on SQLite the stored time text moves as it is, so keys still match.
    op.execute(
        f"INSERT INTO price_bars (symbol, width, start, {OHLC}) "
        f"SELECT symbol, {MINUTE}, minute, {OHLC} FROM price_minutes"
    )
    op.drop_table("price_minutes")


def downgrade() -> None:
    # price_minutes exactly as revision 0001 created it.
    op.create_table(
        "price_minutes",
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("minute", TIME, nullable=False),
        sa.Column("open", PRICE, nullable=False),
        sa.Column("high", PRICE, nullable=False),
        sa.Column("low", PRICE, nullable=False),
        sa.Column("close", PRICE, nullable=False),
        sa.Column("open_at", TIME, nullable=False),
        sa.Column("close_at", TIME, nullable=False),
        sa.Column("tick_count", sa.Integer(), nullable=False),
        sa.Column("simulated", sa.Boolean(), server_default="0", nullable=False),
        sa.CheckConstraint("low > 0 AND low <= high", name=op.f("ck_price_minutes_ohlc_ordered")),
        sa.CheckConstraint("tick_count > 0", name=op.f("ck_price_minutes_tick_count_positive")),
        sa.PrimaryKeyConstraint("symbol", "minute", name=op.f("pk_price_minutes")),
        postgresql_with={"fillfactor": 70},
    )
    op.execute(
        f"INSERT INTO price_minutes (symbol, minute, {OHLC}) "
        f"SELECT symbol, start, {OHLC} FROM price_bars WHERE width = {MINUTE}"
    )
    op.execute(f"DELETE FROM price_bars WHERE width = {MINUTE}")
