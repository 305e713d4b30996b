"""Idempotent writes: prices (with their minute rollups), stock profiles, the watchlist.

Every function takes the caller's session and leaves the commit to it, so that a
poll run writes its whole batch in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.models import PriceMinute, PriceTick, Stock
from db.records import Quote, StockProfile, WriteCounts
from db.writes_postgresql import write_quotes_postgresql


def _insert(session: Session, model: type):
    """The dialect's INSERT, which knows ON CONFLICT."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(model)


def _greatest(session: Session):
    """GREATEST/LEAST on PostgreSQL, the scalar MAX/MIN on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return func.greatest, func.least
    return func.max, func.min


def ensure_stocks(session: Session, symbols: Iterable[str]) -> None:
    """Insert a bare row for each symbol not yet known (a no-op for known ones)."""
    rows = [{"symbol": s} for s in sorted(set(symbols))]
    if rows:
        # RETURNING lets SQLAlchemy send the rows as one multi-VALUES statement.
        statement = _insert(session, Stock).on_conflict_do_nothing().returning(Stock.symbol)
        session.execute(statement, rows).all()


def sync_watchlist(session: Session, symbols: Sequence[str]) -> None:
    """Make exactly these symbols the watchlist; other stocks keep their history."""
    ensure_stocks(session, symbols)
    session.execute(
        update(Stock)
        .values(on_watchlist=Stock.symbol.in_(list(symbols)))
        .execution_options(synchronize_session=False)
    )
    _assign_color_slots(session)


def _assign_color_slots(session: Session) -> None:
    """Give each watched stock without a colour slot the lowest slot no watched stock holds."""
    watched = session.execute(
        select(Stock.symbol, Stock.color_slot).where(Stock.on_watchlist).order_by(Stock.symbol)
    ).all()
    taken = {slot for _, slot in watched if slot is not None}
    free = (slot for slot in range(len(watched) + len(taken) + 1) if slot not in taken)
    for symbol, slot in watched:
        if slot is None:
            session.execute(
                update(Stock).where(Stock.symbol == symbol).values(color_slot=next(free))
            )


def write_quotes(session: Session, quotes: Sequence[Quote], fetched_at: datetime) -> WriteCounts:
    """Insert validated quotes once each and fold the new ones into the minute rollups."""
    if not quotes:
        return WriteCounts()
    if any(q.observed_at is None or q.observed_at.tzinfo is None for q in quotes):
        raise ValueError("every quote needs a timezone-aware observation time")
    # Whole milliseconds: the chart reads times back as epoch ms, and "newer than
    # T" must not see a tick again because of the microseconds it dropped.
    quotes = [replace(q, observed_at=whole_ms(q.observed_at)) for q in quotes]
    if session.get_bind().dialect.name == "postgresql":
        return write_quotes_postgresql(session, quotes, fetched_at)
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
    _fold_into_minutes(session, inserted)
    return WriteCounts(written=len(inserted), duplicates=len(quotes) - len(inserted))


@dataclass(slots=True)
class _Bar:
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    open_at: datetime
    close_at: datetime
    tick_count: int
    simulated: bool

    def add(self, at: datetime, price: Decimal, simulated: bool) -> None:
        if at < self.open_at:
            self.open, self.open_at = price, at
        if at > self.close_at:
            self.close, self.close_at = price, at
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.tick_count += 1
        self.simulated = self.simulated or simulated


def whole_ms(at: datetime) -> datetime:
    """A time truncated to the millisecond."""
    return at.replace(microsecond=at.microsecond - at.microsecond % 1000)


def minute_of(at: datetime) -> datetime:
    """The UTC minute an observation belongs to."""
    return at.replace(second=0, microsecond=0)


def _fold_into_minutes(session: Session, inserted: Sequence) -> None:
    """Merge freshly inserted ticks into price_minutes; only new ticks are counted."""
    bars: dict[tuple[str, datetime], _Bar] = {}
    for symbol, at, price, simulated in inserted:
        price = Decimal(price)
        key = (symbol, minute_of(at))
        bar = bars.get(key)
        if bar is None:
            bars[key] = _Bar(price, price, price, price, at, at, 1, bool(simulated))
        else:
            bar.add(at, price, bool(simulated))
    if not bars:
        return
    rows = [
        {
            "symbol": symbol,
            "minute": minute,
            "open": b.open,
            "high": b.high,
            "low": b.low,
            "close": b.close,
            "open_at": b.open_at,
            "close_at": b.close_at,
            "tick_count": b.tick_count,
            "simulated": b.simulated,
        }
        for (symbol, minute), b in bars.items()
    ]
    greatest, least = _greatest(session)
    table = PriceMinute.__table__
    statement = _insert(session, PriceMinute)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["symbol", "minute"],
        set_={
            # A CASE per column keeps open/close right when ticks arrive out of order.
            "open": case((new.open_at < table.c.open_at, new.open), else_=table.c.open),
            "close": case((new.close_at > table.c.close_at, new.close), else_=table.c.close),
            "open_at": least(table.c.open_at, new.open_at),
            "close_at": greatest(table.c.close_at, new.close_at),
            "high": greatest(table.c.high, new.high),
            "low": least(table.c.low, new.low),
            "tick_count": table.c.tick_count + new.tick_count,
            "simulated": table.c.simulated | new.simulated,
        },
    )
    # RETURNING, as above, batches the rows; each (symbol, minute) appears once per batch.
    session.execute(statement.returning(PriceMinute.symbol), rows).all()


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


def symbols_without_history(session: Session, symbols: Sequence[str]) -> list[str]:
    """Those of these symbols that have no stored tick at all."""
    # EXISTS per symbol is one index probe each, however many ticks are stored.
    have = set(
        session.scalars(
            select(Stock.symbol).where(
                Stock.symbol.in_(list(symbols)),
                exists().where(PriceTick.symbol == Stock.symbol),
            )
        )
    )
    return [s for s in symbols if s not in have]
