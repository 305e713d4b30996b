"""Daily bars from a provider's daily history: written where no bar of that day is stored.

A daily bar lives in `price_bars` with width DAY, keyed by its New York trading
date's start, like the daily bars the tick writes maintain. A provider's bar never
replaces one the ticks made (ON CONFLICT DO NOTHING): the ticks' bar is the one that
keeps moving with the live edge. It counts as one observation (tick_count 1): no
tick of it is stored, and the chart never counts raw ticks from daily bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.market import day_start
from core.records import DailyBar
from core.retention import DAY
from db.models import PriceBar
from db.writes import ensure_stocks


def write_daily_bars(session: Session, bars: Sequence[DailyBar]) -> int:
    """Insert the bars of days that have none yet; how many were new."""
    if not bars:
        return 0
    ensure_stocks(session, {b.symbol for b in bars})
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    rows = [
        {
            "symbol": b.symbol,
            "width": DAY,
            "start": day_start(b.day),
            "open": b.open,
            "high": b.high,
            "low": b.low,
            "close": b.close,
            "open_at": b.open_at,
            "close_at": b.close_at,
            "tick_count": 1,
            "simulated": b.simulated,
        }
        for b in bars
    ]
    # One statement compiled once, executed for all rows: with RETURNING, SQLAlchemy sends
    # them as a few multi-VALUES batches ("insertmanyvalues") and counts what was new.
    statement = (
        module.insert(PriceBar)
        .on_conflict_do_nothing(index_elements=["symbol", "width", "start"])
        .returning(PriceBar.start)
    )
    return len(session.execute(statement, rows).all())


def daily_span(session: Session, symbols: Sequence[str]) -> dict[str, tuple[datetime, datetime]]:
    """The first and last daily bar's start per symbol (absent for one with none)."""
    rows = session.execute(
        select(PriceBar.symbol, func.min(PriceBar.start), func.max(PriceBar.start))
        .where(PriceBar.symbol.in_(list(symbols)), PriceBar.width == DAY)
        .group_by(PriceBar.symbol)
    ).all()
    return {symbol: (first, last) for symbol, first, last in rows if last is not None}
