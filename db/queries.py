"""Small typed reads used by the poller, the CLI and the tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import PriceMinute, PriceTick, Stock


def watched_stocks(session: Session) -> list[Stock]:
    """The stocks on the watchlist, in symbol order."""
    return list(session.scalars(select(Stock).where(Stock.on_watchlist).order_by(Stock.symbol)))


def get_stock(session: Session, symbol: str) -> Stock | None:
    """One stock by symbol, or None."""
    return session.get(Stock, symbol)


def ticks_between(
    session: Session, symbols: Sequence[str], start: datetime, end: datetime | None = None
) -> list[PriceTick]:
    """Raw ticks of these symbols with start <= observed_at (< end), oldest first."""
    query = select(PriceTick).where(
        PriceTick.symbol.in_(list(symbols)), PriceTick.observed_at >= start
    )
    if end is not None:
        query = query.where(PriceTick.observed_at < end)
    return list(session.scalars(query.order_by(PriceTick.symbol, PriceTick.observed_at)))


def minutes_between(
    session: Session, symbols: Sequence[str], start: datetime, end: datetime | None = None
) -> list[PriceMinute]:
    """Minute rollups of these symbols with start <= minute (< end), oldest first."""
    query = select(PriceMinute).where(
        PriceMinute.symbol.in_(list(symbols)), PriceMinute.minute >= start
    )
    if end is not None:
        query = query.where(PriceMinute.minute < end)
    return list(session.scalars(query.order_by(PriceMinute.symbol, PriceMinute.minute)))


def latest_observation(session: Session, symbols: Sequence[str]) -> dict[str, datetime]:
    """The newest observed_at per symbol (absent for a symbol with no tick)."""
    rows = session.execute(
        select(PriceTick.symbol, func.max(PriceTick.observed_at))
        .where(PriceTick.symbol.in_(list(symbols)))
        .group_by(PriceTick.symbol)
    ).all()
    return {symbol: at for symbol, at in rows if at is not None}


def count_ticks(session: Session, symbol: str | None = None) -> int:
    """How many raw ticks are stored (for one symbol, or all)."""
    query = select(func.count()).select_from(PriceTick)
    if symbol is not None:
        query = query.where(PriceTick.symbol == symbol)
    return int(session.scalar(query) or 0)
