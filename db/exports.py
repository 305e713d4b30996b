"""Reads for taking the data out: exact prices and bars a page at a time, in key order.

A page is the rows after a key (symbol, time) in (symbol, time) order, at most
`limit` of them. The key is the table's own primary key, so a page never repeats a
row of an earlier one, and a row written meanwhile is on a later page when its
key comes after the last one read (whatever is written behind it is not). Each
symbol is one index range scan with LIMIT, so a page costs the rows it returns.
Prices come back as Decimal, exactly as stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.retention import TICKS  # the width of a raw tick: the finest level there is
from db.models import PriceBar, PriceTick, Stock


@dataclass(frozen=True, slots=True)
class Key:
    """Where a page ended: the last row's symbol and time."""

    symbol: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TickRow:
    """One stored price."""

    symbol: str
    at: datetime
    price: Decimal


@dataclass(frozen=True, slots=True)
class BarRow:
    """One bar: its start, open/high/low/close and how many ticks it folds."""

    symbol: str
    at: datetime  # the bar's start
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    ticks: int


@dataclass(frozen=True, slots=True)
class RowsPage:
    """A page of rows, and the key to read on from when more follow."""

    rows: list[TickRow] | list[BarRow]
    next: Key | None


def known_symbols(session: Session, symbols: Sequence[str]) -> set[str]:
    """Those of `symbols` the database has a stock for (watched now or earlier)."""
    return set(session.scalars(select(Stock.symbol).where(Stock.symbol.in_(list(symbols)))))


def read_page(
    session: Session,
    symbols: Sequence[str],
    width: int,
    start: datetime,
    end: datetime,
    after: Key | None,
    limit: int,
) -> RowsPage:
    """Ticks (width TICKS) or bars of `width` seconds with start <= time < end, after `after`.

    Symbols are taken in sorted order; a bar's time is its start.
    """
    rows: list = []
    limit += 1  # one more than asked says whether another page follows
    for symbol in sorted(symbols):
        if after is not None and symbol < after.symbol:
            continue
        since = after.at if after is not None and symbol == after.symbol else None
        left = limit - len(rows)
        if left <= 0:
            break
        if width == TICKS:
            rows += _ticks(session, symbol, start, end, since, left)
        else:
            rows += _bars(session, symbol, width, start, end, since, left)
    if len(rows) < limit:
        return RowsPage(rows, None)
    rows = rows[:-1]
    return RowsPage(rows, Key(rows[-1].symbol, rows[-1].at))


def _ticks(session, symbol, start, end, since, limit) -> list[TickRow]:
    at = PriceTick.observed_at
    after = [at > since] if since is not None else []
    query = (
        select(PriceTick.symbol, at, PriceTick.price)
        .where(PriceTick.symbol == symbol, at >= start, at < end, *after)
        .order_by(at)
        .limit(limit)
    )
    return [TickRow(*row) for row in session.execute(query)]


def _bars(session, symbol, width, start, end, since, limit) -> list[BarRow]:
    at = PriceBar.start
    after = [at > since] if since is not None else []
    query = (
        select(
            PriceBar.symbol,
            at,
            PriceBar.open,
            PriceBar.high,
            PriceBar.low,
            PriceBar.close,
            PriceBar.tick_count,
        )
        .where(PriceBar.symbol == symbol, PriceBar.width == width, at >= start, at < end, *after)
        .order_by(at)
        .limit(limit)
    )
    return [BarRow(*row) for row in session.execute(query)]
