"""Create stocks, price_ticks and price_minutes.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRICE = sa.Numeric(18, 6)
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stocks",
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("company_name", sa.String(200), nullable=True),
        sa.Column("logo_url", sa.String(1024), nullable=True),
        sa.Column("week52_high", PRICE, nullable=True),
        sa.Column("week52_low", PRICE, nullable=True),
        sa.Column("profile_updated_at", TIME, nullable=True),
        sa.Column("week52_updated_at", TIME, nullable=True),
        sa.Column("on_watchlist", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("source", sa.String(32), nullable=True),
        sa.Column("simulated", sa.Boolean(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "week52_low IS NULL OR week52_low > 0", name=op.f("ck_stocks_week52_low_positive")
        ),
        sa.CheckConstraint(
            "week52_low IS NULL OR week52_high IS NULL OR week52_low <= week52_high",
            name=op.f("ck_stocks_week52_ordered"),
        ),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_stocks")),
    )
    op.create_table(
        "price_ticks",
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("observed_at", TIME, nullable=False),
        sa.Column("price", PRICE, nullable=False),
        sa.Column("fetched_at", TIME, nullable=False),
        sa.Column("simulated", sa.Boolean(), server_default="0", nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_price_ticks_price_positive")),
        sa.ForeignKeyConstraint(
            ["symbol"],
            ["stocks.symbol"],
            name=op.f("fk_price_ticks_symbol_stocks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("symbol", "observed_at", name=op.f("pk_price_ticks")),
    )
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
        # Room on each page, so that a rollup's update stays on its page (no index update).
        postgresql_with={"fillfactor": 70},
    )


def downgrade() -> None:
    op.drop_table("price_minutes")
    op.drop_table("price_ticks")
    op.drop_table("stocks")
