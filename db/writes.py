"""Idempotent writes: prices (with their minute rollups), stock profiles, the watchlist.

Every function takes the caller's session and leaves the commit to it, so that a
poll run writes its whole batch in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.records import Quote, StockProfile, WriteCounts
from core.times import whole_ms
from db.models import PriceTick, Stock
from db.rollups import fold
from db.writes_postgresql import write_quotes_postgresql


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
    """Insert validated quotes once each and fold the new ones into the rollups."""
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
    fold(session, inserted)
    return WriteCounts(written=len(inserted), duplicates=len(quotes) - len(inserted))


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
