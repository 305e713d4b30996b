"""Daily bars (width 86400, keyed by the New York trading date's start), built from the hourly bars.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

No schema change: daily bars live in price_bars beside the other widths. The
upgrade folds each symbol's hourly bars into days (a New York day is whole UTC
hours: its offset is whole hours), which gives what the ticks would give and reads
a 720th of them; the downgrade deletes the daily bars again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from db.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# This revision's own copies: a migration must not change when the app's code does.
PRICE = sa.Numeric(18, 6)
HOUR, DAY = 3600, 86_400
NEW_YORK = ZoneInfo("America/New_York")
CHUNK = 5_000
COLUMNS = (
    "symbol",
    "width",
    "start",
    "open",
    "high",
    "low",
    "close",
    "open_at",
    "close_at",
    "tick_count",
    "simulated",
)
TYPES = {"start": UTCDateTime(), "open_at": UTCDateTime(), "close_at": UTCDateTime()}
BARS = sa.table(
    "price_bars",
    *(
        sa.column(c, TYPES.get(c, PRICE if c in ("open", "high", "low", "close") else None))
        for c in COLUMNS
    ),
)


def trading_day_start(at: datetime) -> datetime:
    """New York midnight (UTC) of the New York date `at` falls on."""
    day = at.astimezone(NEW_YORK).date()
    return datetime.combine(day, time(0), NEW_YORK).astimezone(timezone.utc)


def upgrade() -> None:
    connection = op.get_bind()
    symbols = (
        connection.execute(sa.select(BARS.c.symbol).where(BARS.c.width == HOUR).distinct())
        .scalars()
        .all()
    )
    for symbol in symbols:
        hours = connection.execute(
            sa.select(BARS)
            .where(BARS.c.symbol == symbol, BARS.c.width == HOUR)
            .order_by(BARS.c.start)
        ).mappings()
        days: dict[datetime, dict] = {}
        for hour in hours:
            key = trading_day_start(hour["start"])
            day = days.get(key)
            if day is None:
                days[key] = dict(hour, width=DAY, start=key)
                continue
            # Hours come in order: the first opens the day and the last closes it.
            day.update(
                high=max(day["high"], hour["high"]),
                low=min(day["low"], hour["low"]),
                close=hour["close"],
                close_at=hour["close_at"],
                tick_count=day["tick_count"] + hour["tick_count"],
                simulated=day["simulated"] or hour["simulated"],
            )
        rows = list(days.values())
        for i in range(0, len(rows), CHUNK):
            connection.execute(BARS.insert(), rows[i : i + CHUNK])


def downgrade() -> None:
    op.execute(sa.delete(BARS).where(BARS.c.width == DAY))
