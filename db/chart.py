"""Reads for the dashboard: the watched stocks, a window of prices, and the ticks after T.

Times come back as UTC epoch milliseconds and prices as floats, computed by the
database, so a read of thousands of points builds no datetime or Decimal objects.
A window reads raw ticks only when the minute rollups say it holds few enough of
them; otherwise it reads one close per minute, so a 7-day read costs at most
10,080 rows per stock whatever the tick cadence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Float, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from db.models import PriceMinute, PriceTick, Stock


@dataclass(frozen=True, slots=True)
class ChartStock:
    """What the chart shows about a stock besides its prices."""

    symbol: str
    company_name: str | None
    logo_url: str | None
    week52_high: float | None
    week52_low: float | None
    color_slot: int
    simulated: bool


@dataclass(frozen=True, slots=True)
class Points:
    """One stock's points: UTC epoch milliseconds and prices, oldest first."""

    times: list[int]
    prices: list[float]
    resolution: str  # "tick" or "minute"


def epoch_ms(session: Session, column) -> ColumnElement[float]:
    """A timestamp column as UTC epoch milliseconds, computed in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", column) * 1000, Float)
    # SQLite stores naive UTC text; julianday() reads it.
    return (func.julianday(column) - 2440587.5) * 86_400_000.0


def chart_stocks(session: Session) -> list[ChartStock]:
    """The watched stocks in symbol order."""
    rows = session.scalars(select(Stock).where(Stock.on_watchlist).order_by(Stock.symbol))
    return [
        ChartStock(
            symbol=s.symbol,
            company_name=s.company_name,
            logo_url=s.logo_url,
            week52_high=float(s.week52_high) if s.week52_high is not None else None,
            week52_low=float(s.week52_low) if s.week52_low is not None else None,
            color_slot=s.color_slot if s.color_slot is not None else 0,
            simulated=s.simulated,
        )
        for s in rows
    ]


def ticks_in_window(
    session: Session, symbols: Sequence[str], start: datetime, end: datetime
) -> dict[str, int]:
    """How many raw ticks each symbol has in [start, end), from the rollups."""
    rows = session.execute(
        select(PriceMinute.symbol, func.sum(PriceMinute.tick_count))
        .where(
            PriceMinute.symbol.in_(list(symbols)),
            PriceMinute.minute >= start,
            PriceMinute.minute < end,
        )
        .group_by(PriceMinute.symbol)
    ).all()
    return {symbol: int(count or 0) for symbol, count in rows}


def read_window(
    session: Session, symbols: Sequence[str], start: datetime, end: datetime, tick_budget: int
) -> dict[str, Points]:
    """Prices in [start, end]: raw ticks if at most tick_budget, else minute closes."""
    counts = ticks_in_window(session, symbols, start, end)
    raw = [s for s in symbols if counts.get(s, 0) <= tick_budget]
    minute = [s for s in symbols if s not in raw]
    out: dict[str, Points] = {s: Points([], [], "tick") for s in raw}
    out.update({s: Points([], [], "minute") for s in minute})
    if raw:
        _read_into(
            session,
            out,
            PriceTick,
            PriceTick.observed_at,
            PriceTick.price,
            PriceTick.symbol.in_(raw),
            PriceTick.observed_at >= start,
            PriceTick.observed_at <= end,
        )
    if minute:
        _read_into(
            session,
            out,
            PriceMinute,
            PriceMinute.close_at,
            PriceMinute.close,
            PriceMinute.symbol.in_(minute),
            PriceMinute.minute >= start,
            PriceMinute.minute <= end,
        )
    return out


def read_after(
    session: Session, after: Mapping[str, datetime], limit: int = 10_000
) -> dict[str, Points]:
    """Ticks newer than each symbol's last seen time, oldest first, at most `limit` in all."""
    if not after:
        return {}
    out = {s: Points([], [], "tick") for s in after}
    condition = or_(
        *(and_(PriceTick.symbol == s, PriceTick.observed_at > t) for s, t in after.items())
    )
    _read_into(
        session, out, PriceTick, PriceTick.observed_at, PriceTick.price, condition, limit=limit
    )
    return out


def _read_into(session, out, model, time_column, price_column, *where, limit=None) -> None:
    query = (
        select(model.symbol, epoch_ms(session, time_column), cast(price_column, Float))
        .where(*where)
        .order_by(model.symbol, time_column)
    )
    if limit is not None:
        query = query.limit(limit)
    for symbol, at, price in session.execute(query):
        points = out[symbol]
        points.times.append(round(at))
        points.prices.append(price)
