"""Rollups of ticks into open/high/low/close bars: per minute, per 5 minutes, per hour.

The portable fold (SQLite) lives here: writes.py hands it the rows its INSERT
really inserted, so a repeated observation is never counted twice. PostgreSQL
folds the same way on the server (writes_postgresql.py); the tests hold both
to the raw ticks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import case, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import PriceBar, PriceMinute

BAR_WIDTHS = (300, 3600)  # seconds: 7 days are 2,016 five-minute or 168 hourly bars


@dataclass(slots=True)
class Bar:
    """A bar being built from ticks."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    open_at: datetime
    close_at: datetime
    tick_count: int
    simulated: bool

    @classmethod
    def of(cls, at: datetime, price: Decimal, simulated: bool) -> Bar:
        """A bar of one tick."""
        return cls(price, price, price, price, at, at, 1, simulated)

    def add(self, at: datetime, price: Decimal, simulated: bool) -> None:
        """Fold one more tick in, in any order."""
        if at < self.open_at:
            self.open, self.open_at = price, at
        if at > self.close_at:
            self.close, self.close_at = price, at
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.tick_count += 1
        self.simulated = self.simulated or simulated

    def values(self) -> dict[str, object]:
        """The bar's columns."""
        return {
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "open_at": self.open_at,
            "close_at": self.close_at,
            "tick_count": self.tick_count,
            "simulated": self.simulated,
        }


def bucket_start(at: datetime, width: int) -> datetime:
    """The start of the `width`-second bucket (aligned on the Unix epoch) holding `at`."""
    seconds = int(at.timestamp()) // width * width
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def build_bars(ticks: Iterable[tuple], width: int) -> dict[tuple[str, datetime], Bar]:
    """(symbol, at, price, simulated) rows -> bars keyed by (symbol, bucket start)."""
    bars: dict[tuple[str, datetime], Bar] = {}
    for symbol, at, price, simulated in ticks:
        key = (symbol, bucket_start(at, width))
        bar = bars.get(key)
        if bar is None:
            bars[key] = Bar.of(at, Decimal(price), bool(simulated))
        else:
            bar.add(at, Decimal(price), bool(simulated))
    return bars


def fold(session: Session, inserted: list[tuple]) -> None:
    """Merge freshly inserted ticks into price_minutes and price_bars."""
    if not inserted:
        return
    minutes = [
        {"symbol": symbol, "minute": start, **bar.values()}
        for (symbol, start), bar in build_bars(inserted, 60).items()
    ]
    _upsert(session, PriceMinute, ["symbol", "minute"], minutes)
    bars = [
        {"symbol": symbol, "width": width, "start": start, **bar.values()}
        for width in BAR_WIDTHS
        for (symbol, start), bar in build_bars(inserted, width).items()
    ]
    _upsert(session, PriceBar, ["symbol", "width", "start"], bars)


def _upsert(session: Session, model: type, key: list[str], rows: list[dict]) -> None:
    """INSERT … ON CONFLICT DO UPDATE that merges a bar into the stored one."""
    postgres = session.get_bind().dialect.name == "postgresql"
    greatest, least = (func.greatest, func.least) if postgres else (func.max, func.min)
    statement = (postgresql if postgres else sqlite).insert(model)
    new, old = statement.excluded, model.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=key,
        set_={
            # A CASE per column keeps open/close right when ticks arrive out of order.
            "open": case((new.open_at < old.open_at, new.open), else_=old.open),
            "close": case((new.close_at > old.close_at, new.close), else_=old.close),
            "open_at": least(old.open_at, new.open_at),
            "close_at": greatest(old.close_at, new.close_at),
            "high": greatest(old.high, new.high),
            "low": least(old.low, new.low),
            "tick_count": old.tick_count + new.tick_count,
            "simulated": old.simulated | new.simulated,
        },
    )
    # RETURNING lets SQLAlchemy send the rows as one statement; each key appears once.
    session.execute(statement.returning(old.symbol), rows).all()
