"""The poller's and the health check's reads: which symbols have history, and the newest tick.

Each symbol's oldest and newest tick is found through the (symbol, observed_at) key, one
index lookup per symbol, never by grouping every stored tick: with 500 symbols' week
(five million ticks) a GROUP BY took seconds on every /readyz and /metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from db.models import PriceTick, Stock


def observation_span(
    session: Session, symbols: Sequence[str], before: datetime | None = None
) -> dict[str, tuple[datetime, datetime | None]]:
    """The oldest observed_at per symbol and the newest one before `before` (None: none).

    A symbol with no tick at all is absent.
    """
    rows = session.execute(
        select(Stock.symbol, _edge(func.min), _edge(func.max, before)).where(
            Stock.symbol.in_(list(symbols))
        )
    ).all()
    return {symbol: (oldest, newest) for symbol, oldest, newest in rows if oldest is not None}


def latest_observation(session: Session, symbols: Sequence[str]) -> dict[str, datetime]:
    """The newest observed_at per symbol (absent for a symbol with no tick)."""
    rows = session.execute(
        select(Stock.symbol, _edge(func.max)).where(Stock.symbol.in_(list(symbols)))
    ).all()
    return {symbol: at for symbol, at in rows if at is not None}


def _edge(which, before: datetime | None = None) -> ScalarSelect:
    """min() or max() of the stock's observed_at: answered from the primary key's index."""
    query = select(which(PriceTick.observed_at)).where(PriceTick.symbol == Stock.symbol)
    if before is not None:
        query = query.where(PriceTick.observed_at < before)
    return query.correlate(Stock).scalar_subquery()
