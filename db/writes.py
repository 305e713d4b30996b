"""Idempotent writes: prices (with their bars) and stock profiles (the watchlist: db/watchlist.py).

Every function takes the caller's session and leaves the commit to it, so that a
poll run writes its whole batch in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache

from sqlalchemy import Boolean, String, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from core.market import trading_day_start
from core.records import Quote, StockProfile
from core.times import whole_ms
from db.models import PRICE, PriceTick, Stock
from db.rollups import merge_bars
from db.types import UTCDateTime
from db.writes_postgresql import write_quotes_postgresql

# Bound parameter names of one tick: not column names, which an INSERT reserves.
TICK = ("tick_symbol", "tick_at", "tick_price", "tick_simulated")
TICK_DAY = "tick_day"  # its trading day's start: SQLite has no time zones to compute it


@dataclass(frozen=True, slots=True)
class WriteCounts:
    """How many rows a write inserted and how many were already stored."""

    written: int = 0
    duplicates: int = 0


def _insert(session: Session, model: type):
    """The dialect's INSERT, which knows ON CONFLICT."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(model)


def ensure_stocks(session: Session, symbols: Iterable[str]) -> None:
    """Insert a bare row for each symbol not yet known (a no-op for known ones)."""
    rows = [{"symbol": s} for s in sorted(set(symbols))]
    if rows:
        # RETURNING lets SQLAlchemy send the rows as one multi-VALUES statement.
        statement = _insert(session, Stock).on_conflict_do_nothing().returning(Stock.symbol)
        session.execute(statement, rows).all()


def mark_history(
    session: Session, symbol: str, at: datetime, bar_seconds: int | None = None
) -> None:
    """Note that a provider's history of a stock was written at `at` (as bars this wide)."""
    values: dict[str, object] = {"history_at": at}
    if bar_seconds:
        values["history_bar_seconds"] = bar_seconds
    session.execute(update(Stock).where(Stock.symbol == symbol).values(**values))


def write_quotes(session: Session, quotes: Sequence[Quote], fetched_at: datetime) -> WriteCounts:
    """Insert validated quotes once each and merge the new ones into the bars."""
    if not quotes:
        return WriteCounts()
    if any(q.observed_at is None or q.observed_at.tzinfo is None for q in quotes):
        raise ValueError("every quote needs a timezone-aware observation time")
    # Whole milliseconds: the chart reads times back as epoch ms, and "newer than
    # T" must not see a tick again because of the microseconds it dropped.
    quotes = [replace(q, observed_at=whole_ms(q.observed_at)) for q in quotes]
    if session.get_bind().dialect.name == "postgresql":
        written = write_quotes_postgresql(session, quotes, fetched_at)
    else:
        written = _write_quotes_sqlite(session, quotes, fetched_at)
    return WriteCounts(written=written, duplicates=len(quotes) - written)


def _write_quotes_sqlite(session: Session, quotes: Sequence[Quote], fetched_at: datetime) -> int:
    """Stocks, then ticks (RETURNING what was new), then one bar merge per new tick and width."""
    ensure_stocks(session, (q.symbol for q in quotes))
    rows = [
        {
            "symbol": q.symbol,
            "observed_at": q.observed_at,
            "price": q.price,
            "fetched_at": fetched_at,
            "simulated": q.simulated,
        }
        for q in quotes
    ]
    statement = (
        _insert(session, PriceTick)
        .on_conflict_do_nothing(index_elements=["symbol", "observed_at"])
        .returning(PriceTick.symbol, PriceTick.observed_at, PriceTick.price, PriceTick.simulated)
    )
    inserted = session.execute(statement, rows).all()
    if inserted:
        # executemany of one prepared statement: no limit on bound variables.
        session.execute(
            _merge_one_tick(),
            [
                {**dict(zip(TICK, row, strict=True)), TICK_DAY: trading_day_start(row[1])}
                for row in inserted
            ],
        )
    return len(inserted)


@cache
def _merge_one_tick() -> Insert:
    """The bar merge for one tick given as bound parameters (SQLite)."""
    tick = select(
        bindparam(TICK[0], type_=String()).label("symbol"),
        bindparam(TICK[1], type_=UTCDateTime()).label("observed_at"),
        bindparam(TICK[2], type_=PRICE).label("price"),
        bindparam(TICK[3], type_=Boolean()).label("simulated"),
        bindparam(TICK_DAY, type_=UTCDateTime()).label("day_start"),
    ).subquery("tick")
    return merge_bars("sqlite", tick)


def record_previous_closes(session: Session, quotes: Sequence[Quote]) -> int:
    """Store each quote's previous close on its stock, unless a later observation is stored."""
    rows = [
        {"s": q.symbol, "close": q.previous_close, "at": q.observed_at}
        for q in quotes
        if q.previous_close is not None and q.observed_at is not None
    ]
    if not rows:
        return 0
    at = bindparam("at", type_=UTCDateTime())
    # One prepared UPDATE for the whole batch; the stocks exist, write_quotes made sure of it.
    statement = (
        update(Stock)
        .where(
            Stock.symbol == bindparam("s"),
            or_(Stock.previous_close_at.is_(None), Stock.previous_close_at <= at),
        )
        .values(previous_close=bindparam("close", type_=PRICE), previous_close_at=at)
        .execution_options(synchronize_session=False)
    )
    session.connection().execute(statement, rows)
    return len(rows)


def upsert_profiles(
    session: Session, profiles: Sequence[StockProfile], refreshed_at: datetime
) -> int:
    """Store names, logos and 52-week bands; a missing field keeps the stored value."""
    ensure_stocks(session, (p.symbol for p in profiles))
    for profile in profiles:
        values: dict[str, object] = {"source": profile.source, "simulated": profile.simulated}
        if profile.company_name is not None or profile.logo_url is not None:
            values["profile_updated_at"] = refreshed_at
        if profile.company_name is not None:
            values["company_name"] = profile.company_name
        if profile.logo_url is not None:
            values["logo_url"] = profile.logo_url
        if profile.week52_high is not None and profile.week52_low is not None:
            values.update(
                week52_high=profile.week52_high,
                week52_low=profile.week52_low,
                week52_updated_at=refreshed_at,
            )
        session.execute(update(Stock).where(Stock.symbol == profile.symbol).values(**values))
    return len(profiles)
