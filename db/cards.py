"""The cards' read: each stock's newest price, and the close its change is measured against.

One SELECT over `stocks`, one row per symbol, with a correlated subquery per
figure. Each subquery is a backward range scan of a primary-key index with
LIMIT 1 (ticks by (symbol, observed_at), bars by (symbol, width, start)), so a
read costs a few index probes per stock however long its history is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Float, case, cast, func, select
from sqlalchemy.orm import Session

from db.chart import epoch_ms
from db.models import PriceBar, PriceTick, Stock
from db.rollups import BAR_WIDTHS


@dataclass(frozen=True, slots=True)
class CardPrice:
    """What a stock's card shows: its newest price and when, and the previous close."""

    symbol: str
    last_price: float | None
    last_ms: int | None  # UTC epoch milliseconds of the newest tick
    previous_close: float | None


def _newest_tick(column, *where: ColumnElement[bool]):
    """`column` of the stock's newest tick (meeting `where`), as a correlated subquery."""
    return (
        select(column)
        .where(PriceTick.symbol == Stock.symbol, *where)
        .order_by(PriceTick.observed_at.desc())
        .limit(1)
        .scalar_subquery()
    )


def _previous_close(session_open: datetime) -> ColumnElement:
    """The provider's close when observed in this session, else the last price before it."""
    # Observed since the open, the provider's previous close is of the session before;
    # one observed earlier is older than that, and ignored.
    provider = case((Stock.previous_close_at >= session_open, Stock.previous_close))
    last_tick_before = _newest_tick(PriceTick.price, PriceTick.observed_at < session_open)
    # When the ticks before the open are gone, the close of the last minute bar before it
    # (minutes start on whole minutes, and so do sessions: the bar holds no later tick).
    last_bar_before = (
        select(PriceBar.close)
        .where(
            PriceBar.symbol == Stock.symbol,
            PriceBar.width == BAR_WIDTHS[0],
            PriceBar.start < session_open,
            PriceBar.close_at < session_open,
        )
        .order_by(PriceBar.start.desc())
        .limit(1)
        .scalar_subquery()
    )
    # COALESCE evaluates its arguments only as far as needed, on both databases.
    return func.coalesce(provider, last_tick_before, last_bar_before)


def card_prices(
    session: Session, symbols: Sequence[str], session_open: datetime
) -> dict[str, CardPrice]:
    """Each symbol's card prices against the session that opened at `session_open` (UTC)."""
    query = select(
        Stock.symbol,
        cast(_newest_tick(PriceTick.price), Float),
        epoch_ms(session, _newest_tick(PriceTick.observed_at)),
        cast(_previous_close(session_open), Float),
    ).where(Stock.symbol.in_(list(symbols)))
    rows = session.connection().execute(query).all()
    found = {
        symbol: CardPrice(symbol, price, round(at) if at is not None else None, previous)
        for symbol, price, at, previous in rows
    }
    return {s: found.get(s) or CardPrice(s, None, None, None) for s in symbols}
