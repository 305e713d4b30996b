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

# Column sizes, also the bounds validation holds provider values to (jobs/validate.py):
# a value past them would fail the whole write on PostgreSQL.
SYMBOL_LENGTH = 16
NAME_LENGTH = 200
LOGO_URL_LENGTH = 1024
SOURCE_LENGTH = 32
PRICE_PRECISION, PRICE_SCALE = 18, 6
PRICE = Numeric(PRICE_PRECISION, PRICE_SCALE)


class Base(DeclarativeBase):
    """Declarative base with the project's naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class Stock(Base):
    """One row per stock: what it is and its 52-week band (whether it is watched: `Watchlist`)."""

    __tablename__ = "stocks"
    __table_args__ = (
        CheckConstraint("week52_low IS NULL OR week52_low > 0", name="week52_low_positive"),
        CheckConstraint(
            "week52_low IS NULL OR week52_high IS NULL OR week52_low <= week52_high",
            name="week52_ordered",
        ),
    )

    symbol: Mapped[str] = mapped_column(String(SYMBOL_LENGTH), primary_key=True)
    company_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    logo_url: Mapped[str | None] = mapped_column(String(LOGO_URL_LENGTH))
    week52_high: Mapped[Decimal | None] = mapped_column(PRICE)
    week52_low: Mapped[Decimal | None] = mapped_column(PRICE)
    profile_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    week52_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source: Mapped[str | None] = mapped_column(String(SOURCE_LENGTH))
    simulated: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0", nullable=False
    )
    # The provider's close of the session before the one it was observed in, and when.
    previous_close: Mapped[Decimal | None] = mapped_column(PRICE)
    previous_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The chart's colour slot, given when the stock is first watched and kept after a
    # removal, so that a stock keeps its colour when others come and go, and an undo too.
    color_slot: Mapped[int | None] = mapped_column(Integer)
    # When the provider filled some of this stock's history with bars instead of
    # ticks (Alpaca: 1-minute bars), their width in seconds: the chart's hover says so.
    history_bar_seconds: Mapped[int | None] = mapped_column(Integer)
    # When a provider's history (a fill, a gap, daily bars) was last written: open pages
    # draw their view anew, since a tick only appends what is newer than they hold.
    history_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Watchlist(Base):
    """One row per stock ever watched: its place in the list, when it came and when it went.

    A removal only sets `removed_at` (the stock and its prices stay), so adding it back
    restores its place, its colour and its history; a table with no row at all was never
    set up, and only then does STOCKSTREAMER_SYMBOLS seed it.
    """

    __tablename__ = "watchlist"

    symbol: Mapped[str] = mapped_column(
        String(16), ForeignKey("stocks.symbol", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)  # the page's order, never reused
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None while watched
    # Set when the stock was added with no stored prices and a provider that gives no
    # history: its stored prices start here ("history starts now" on the page).
    history_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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
