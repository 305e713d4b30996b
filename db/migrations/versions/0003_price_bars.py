"""Add price_bars: 5-minute and hourly open/high/low/close, filled from price_minutes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRICE = sa.Numeric(18, 6)
TIME = sa.DateTime(timezone=True)
CHUNK = 20_000
# This revision's own copy of the widths and the bucket rule: a migration must not
# change when the app's code does.
BAR_WIDTHS = (300, 3600)


def bucket_start(at: datetime, width: int) -> datetime:
    """The start of the `width`-second bucket (aligned on the Unix epoch) holding `at`."""
    seconds = int(at.timestamp()) // width * width
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def upgrade() -> None:
    bars = op.create_table(
        "price_bars",
        sa.Column("symbol", sa.String(16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("start", TIME, nullable=False),
        sa.Column("open", PRICE, nullable=False),
        sa.Column("high", PRICE, nullable=False),
        sa.Column("low", PRICE, nullable=False),
        sa.Column("close", PRICE, nullable=False),
        sa.Column("open_at", TIME, nullable=False),
        sa.Column("close_at", TIME, nullable=False),
        sa.Column("tick_count", sa.Integer(), nullable=False),
        sa.Column("simulated", sa.Boolean(), server_default="0", nullable=False),
        sa.CheckConstraint("low > 0 AND low <= high", name=op.f("ck_price_bars_ohlc_ordered")),
        sa.CheckConstraint("tick_count > 0", name=op.f("ck_price_bars_tick_count_positive")),
        sa.CheckConstraint("width > 0", name=op.f("ck_price_bars_width_positive")),
        sa.PrimaryKeyConstraint("symbol", "width", "start", name=op.f("pk_price_bars")),
        # Room on each page, so that a bar's update stays on its page (no index update).
        postgresql_with={"fillfactor": 70},
    )
    _fill_from_minutes(bars)


def _fill_from_minutes(bars: sa.Table) -> None:
    """Build the bars from the minute rollups that already exist, one symbol at a time."""
    minutes = sa.table(
        "price_minutes",
        sa.column("symbol", sa.String),
        sa.column("minute", UTCDateTime()),
        sa.column("open", PRICE),
        sa.column("high", PRICE),
        sa.column("low", PRICE),
        sa.column("close", PRICE),
        sa.column("open_at", UTCDateTime()),
        sa.column("close_at", UTCDateTime()),
        sa.column("tick_count", sa.Integer),
        sa.column("simulated", sa.Boolean),
    )
    connection = op.get_bind()
    symbols = connection.execute(sa.select(minutes.c.symbol).distinct()).scalars().all()
    for symbol in symbols:
        rows = (
            connection.execute(
                sa.select(minutes).where(minutes.c.symbol == symbol).order_by(minutes.c.minute)
            )
            .mappings()
            .all()
        )
        out = []
        for width in BAR_WIDTHS:
            merged: dict = {}
            for row in rows:
                start = bucket_start(row["minute"], width)
                bar = merged.get(start)
                if bar is None:
                    merged[start] = dict(row, start=start)
                    continue
                # Minutes come in order, so the first opens the bar and the last closes it.
                bar.update(
                    high=max(bar["high"], row["high"]),
                    low=min(bar["low"], row["low"]),
                    close=row["close"],
                    close_at=row["close_at"],
                    tick_count=bar["tick_count"] + row["tick_count"],
                    simulated=bar["simulated"] or row["simulated"],
                )
            out += [
                {k: v for k, v in bar.items() if k != "minute"} | {"width": width}
                for bar in merged.values()
            ]
        for i in range(0, len(out), CHUNK):
            connection.execute(_typed(bars).insert(), out[i : i + CHUNK])


def _typed(bars: sa.Table) -> sa.Table:
    # The same table with the app's UTC type, so SQLite gets the same text as the app writes.
    return sa.table(
        "price_bars",
        *(
            sa.column(c.name, UTCDateTime() if isinstance(c.type, sa.DateTime) else c.type)
            for c in bars.columns
        ),
    )


def downgrade() -> None:
    op.drop_table("price_bars")
