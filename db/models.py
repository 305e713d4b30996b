"""Typed SQLAlchemy 2.0 models.

Storage plan for the 7-day dashboard read: every observation is kept in
`price_ticks` (primary key symbol + observed_at, so a repeated observation is a
no-op), and the same statement or transaction that inserts ticks merges the rows
it really inserted into `price_bars`: one open/high/low/close row per symbol per
width (a minute, 5 minutes, an hour, a New York trading day) per bucket. A chart
reads whichever width fits its point budget (7 days: 2,016 five-minute bars per
stock, whatever the tick cadence), so it reads rows in proportion to the points
it shows; only the live edge ("newer than T") touches raw ticks. Both tables are keyed (symbol,
[width,] time), so the window and "newer than T" queries are index range scans
per symbol and need no further index.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, MetaData, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import UTCDateTime

# Deterministic constraint names, so that alembic can drop what it created.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PRICE = Numeric(18, 6)


class Base(DeclarativeBase):
    """Declarative base with the project's naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class Stock(Base):
    """One row per stock: what it is, its 52-week band, and whether it is watched."""

    __tablename__ = "stocks"
    __table_args__ = (
        CheckConstraint("week52_low IS NULL OR week52_low > 0", name="week52_low_positive"),
        CheckConstraint(
            "week52_low IS NULL OR week52_high IS NULL OR week52_low <= week52_high",
            name="week52_ordered",
        ),
    )

    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    company_name: Mapped[str | None] = mapped_column(String(200))
    logo_url: Mapped[str | None] = mapped_column(String(1024))
    week52_high: Mapped[Decimal | None] = mapped_column(PRICE)
    week52_low: Mapped[Decimal | None] = mapped_column(PRICE)
    profile_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    week52_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    on_watchlist: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0", nullable=False
    )
    source: Mapped[str | None] = mapped_column(String(32))
    simulated: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0", nullable=False
    )
    # The provider's close of the session before the one it was observed in, and when.
    previous_close: Mapped[Decimal | None] = mapped_column(PRICE)
    previous_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The chart's colour slot, given once when the stock is first watched, so that
    # a stock keeps its colour when others are added or removed.
    color_slot: Mapped[int | None] = mapped_column(Integer)


class PriceTick(Base):
    """One observed price; (symbol, observed_at) is unique so writes are idempotent."""

    __tablename__ = "price_ticks"
    __table_args__ = (CheckConstraint("price > 0", name="price_positive"),)

    symbol: Mapped[str] = mapped_column(
        String(16), ForeignKey("stocks.symbol", ondelete="CASCADE"), primary_key=True
    )
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    price: Mapped[Decimal] = mapped_column(PRICE)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    simulated: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0", nullable=False
    )


class PriceBar(Base):
    """Open/high/low/close of one symbol's ticks over `width` seconds from `start`."""

    __tablename__ = "price_bars"
    __table_args__ = (
        CheckConstraint("low > 0 AND low <= high", name="ohlc_ordered"),
        CheckConstraint("tick_count > 0", name="tick_count_positive"),
        CheckConstraint("width > 0", name="width_positive"),
        # Every tick updates its bars: room on the page keeps those updates HOT.
        {"postgresql_with": {"fillfactor": 70}},
    )

    # No foreign key: bars are derived data, written only from ticks that carry
    # one, in the same statement; a key check per row per width would cost a third
    # of every write.
    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    width: Mapped[int] = mapped_column(Integer, primary_key=True)  # seconds
    start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    open: Mapped[Decimal] = mapped_column(PRICE)
    high: Mapped[Decimal] = mapped_column(PRICE)
    low: Mapped[Decimal] = mapped_column(PRICE)
    close: Mapped[Decimal] = mapped_column(PRICE)
    # First and last observation times, so that late or out-of-order ticks
    # still give the right open and close.
    open_at: Mapped[datetime] = mapped_column(UTCDateTime())
    close_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tick_count: Mapped[int] = mapped_column(Integer)
    simulated: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0", nullable=False
    )
