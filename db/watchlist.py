"""The watchlist in the database: which stocks are watched, in what order, since and until when.

Every process reads the list from here (the page's workers, the elected poller, the
command line), so a change made anywhere is seen everywhere at its next read. A
removal keeps the row (and the stock and its prices): adding the stock back restores
its place, its colour slot and its history. Like db/writes.py, every function takes the
caller's session and leaves the commit to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from core.times import utc_now
from db.models import Stock, Watchlist
from db.writes import ensure_stocks


@dataclass(frozen=True, slots=True)
class WatchEntry:
    """One watched stock: its symbol, its place, since when, and where its history starts."""

    symbol: str
    position: int
    added_at: datetime
    history_starts_at: datetime | None  # set when the provider could give no history before
    company_name: str | None = None


# A transaction-level advisory lock: edits from every process take turns (PostgreSQL).
EDIT_LOCK_KEY = 0x5753544B  # "WSTK", not the poller's key


def take_edit_turn(session: Session) -> None:
    """Wait for other processes' watchlist edits to commit, so that a check sees them.

    PostgreSQL only; SQLite lets one writer at a time through already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": EDIT_LOCK_KEY})


def watching():
    """The WHERE clause of the stocks watched now (for queries that join Watchlist)."""
    return Watchlist.removed_at.is_(None)


def watched_symbols(session: Session) -> list[str]:
    """The watched symbols in the page's order."""
    query = select(Watchlist.symbol).where(watching())
    return list(session.scalars(query.order_by(Watchlist.position, Watchlist.symbol)))


def watch_entries(session: Session) -> list[WatchEntry]:
    """The watched stocks' rows in the page's order."""
    rows = session.execute(
        select(
            Watchlist.symbol,
            Watchlist.position,
            Watchlist.added_at,
            Watchlist.history_starts_at,
            Stock.company_name,
        )
        .join(Stock, Stock.symbol == Watchlist.symbol)
        .where(watching())
        .order_by(Watchlist.position, Watchlist.symbol)
    ).all()
    return [WatchEntry(*row) for row in rows]


def ever_watched(session: Session, symbol: str) -> bool:
    """Whether the stock is or was on the watchlist (its removal kept the row)."""
    return session.get(Watchlist, symbol) is not None


def seed_watchlist(session: Session, symbols: Sequence[str], now: datetime) -> bool:
    """Watch these symbols if the watchlist was never set up (no row at all); True if it did.

    STOCKSTREAMER_SYMBOLS seeds a new database only: once a list exists, even an emptied
    one, the database is the truth.
    """
    if session.scalar(select(func.count()).select_from(Watchlist)):
        return False
    sync_watchlist(session, symbols, now)
    return True


def sync_watchlist(session: Session, symbols: Sequence[str], now: datetime | None = None) -> None:
    """Make exactly these symbols the watchlist; other stocks keep their rows and history.

    Stocks new to the list join its end in symbol order.
    """
    now = now or utc_now()  # a default for callers with no clock (tests, benches)
    wanted = set(symbols)
    session.execute(
        update(Watchlist)
        .where(watching(), Watchlist.symbol.not_in(list(wanted)))
        .values(removed_at=now)
        .execution_options(synchronize_session=False)
    )
    for symbol in sorted(wanted):
        _watch(session, symbol, now, None)
    assign_color_slots(session)


def add_symbol(
    session: Session, symbol: str, now: datetime, history_starts_at: datetime | None = None
) -> bool:
    """Watch one more stock (at the end, or back in its old place); False if already watched."""
    if not _watch(session, symbol, now, history_starts_at):
        return False
    assign_color_slots(session)
    return True


def remove_symbol(session: Session, symbol: str, now: datetime) -> bool:
    """Stop watching a stock, keeping its prices; False if it was not watched."""
    result = session.execute(
        update(Watchlist)
        .where(Watchlist.symbol == symbol, watching())
        .values(removed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def _watch(session: Session, symbol: str, now: datetime, history: datetime | None) -> bool:
    """Insert or revive the stock's row; False if it is watched already."""
    row = session.get(Watchlist, symbol, with_for_update=True)
    if row is not None:
        if row.removed_at is None:
            return False
        row.removed_at, row.added_at, row.history_starts_at = None, now, history
        session.flush()
        return True
    ensure_stocks(session, [symbol])
    last = session.scalar(select(func.max(Watchlist.position)))
    position = 0 if last is None else last + 1
    session.add(
        Watchlist(symbol=symbol, position=position, added_at=now, history_starts_at=history)
    )
    session.flush()
    return True


def assign_color_slots(session: Session) -> None:
    """Give each watched stock a slot no other watched stock holds, keeping the slots it had.

    A stock watched longer keeps its slot; one coming back keeps its old slot unless
    another took it meanwhile, and then gets the lowest free one.
    """
    watched = session.execute(
        select(Stock.symbol, Stock.color_slot)
        .join(Watchlist, Watchlist.symbol == Stock.symbol)
        .where(watching())
        .order_by(Watchlist.added_at, Watchlist.position, Stock.symbol)
    ).all()
    taken: set[int] = set()
    needing: list[str] = []
    for symbol, slot in watched:
        if slot is None or slot in taken:
            needing.append(symbol)
        else:
            taken.add(slot)
    free = (slot for slot in range(len(watched) + len(taken) + 1) if slot not in taken)
    for symbol in needing:
        session.execute(update(Stock).where(Stock.symbol == symbol).values(color_slot=next(free)))
