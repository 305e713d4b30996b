"""Reads, migration steps and a reference fold that only tests use (any test package may)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from alembic import command
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from db.migrate import alembic_config
from db.models import PriceBar, PriceTick, Stock, Watchlist
from db.rollups import bucket_start


def watched_stocks(session: Session) -> list[Stock]:
    """The stocks on the watchlist, in symbol order."""
    query = select(Stock).join(Watchlist, Watchlist.symbol == Stock.symbol)
    return list(session.scalars(query.where(Watchlist.removed_at.is_(None)).order_by(Stock.symbol)))


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


def bars_between(
    session: Session, symbols: Sequence[str], width: int, start: datetime
) -> list[PriceBar]:
    """Bars of one width of these symbols with start <= bar start, oldest first."""
    query = select(PriceBar).where(
        PriceBar.symbol.in_(list(symbols)), PriceBar.width == width, PriceBar.start >= start
    )
    return list(session.scalars(query.order_by(PriceBar.symbol, PriceBar.start)))


def count_ticks(session: Session, symbol: str | None = None) -> int:
    """How many raw ticks are stored (for one symbol, or all)."""
    query = select(func.count()).select_from(PriceTick)
    if symbol is not None:
        query = query.where(PriceTick.symbol == symbol)
    return int(session.scalar(query) or 0)


def stored_rows(session: Session, table: str, order_by: str) -> list[tuple]:
    """Every column of every row of a table, as the driver returns it (SQLite: the stored text)."""
    return [
        tuple(row) for row in session.execute(text(f"SELECT * FROM {table} ORDER BY {order_by}"))
    ]


def downgrade(database_url: str, revision: str) -> None:
    """Downgrade the database to a revision ("base" removes everything)."""
    command.downgrade(alembic_config(database_url), revision)


def run_alembic(
    url: str | None, cwd: Path, *args: str, config: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The real `alembic` command in cwd, with DATABASE_URL set to url (or unset), nothing else."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STOCKSTREAMER_") and k != "DATABASE_URL"
    }
    if url is not None:
        env["DATABASE_URL"] = url
    options = ["-c", str(config)] if config is not None else []
    command = [sys.executable, "-m", "alembic", *options, *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def operator_alembic(url: str, root: Path) -> Callable[..., str]:
    """`alembic …` run as an operator would: from the repository root, only DATABASE_URL set."""

    def alembic(*args: str) -> str:
        done = run_alembic(url, root, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return alembic


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when it has no schema yet)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@dataclass
class ReferenceBar:
    """A bar folded in Python from raw ticks, to hold the database's bars to."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    open_at: datetime
    close_at: datetime
    tick_count: int
    simulated: bool


def reference_bars(
    ticks: Iterable[PriceTick], width: int
) -> dict[tuple[str, datetime], ReferenceBar]:
    """What the bars of one width must hold, from the raw ticks: keyed (symbol, bucket start)."""
    bars: dict[tuple[str, datetime], ReferenceBar] = {}
    for tick in sorted(ticks, key=lambda t: (t.symbol, t.observed_at)):
        at, price = tick.observed_at, tick.price
        key = (tick.symbol, bucket_start(at, width))
        bar = bars.get(key)
        if bar is None:
            bars[key] = ReferenceBar(price, price, price, price, at, at, 1, tick.simulated)
            continue
        # Ticks come oldest first, so the first opens the bar and the last closes it.
        bar.high, bar.low = max(bar.high, price), min(bar.low, price)
        bar.close, bar.close_at = price, at
        bar.tick_count += 1
        bar.simulated = bar.simulated or tick.simulated
    return bars


def as_reference(bar: PriceBar) -> ReferenceBar:
    """A stored bar in the reference's shape, to compare the two whole."""
    return ReferenceBar(
        bar.open,
        bar.high,
        bar.low,
        bar.close,
        bar.open_at,
        bar.close_at,
        bar.tick_count,
        bar.simulated,
    )
