"""The long-range bench's database: a deployment that has run for five years, retention on defaults.

Filled on the server by fill_history (ticks, then their minute, 5-minute, hourly and
daily bars), oldest stretch first, each stretch at its own tick step: the last 30 days
every 5 s as the poller writes them, the year before at `year_step` (default 60 s: every
minute bar the year keeps), and the four years before at `old_step` (default one tick an
hour: 5-minute and hourly bars one an hour, a daily bar every day). Then the retention
job's own pass runs at the bench's fixed "now" with the documented defaults, so what is
left is what a deployment keeps: ticks 30 days, minute bars a year, coarser bars 5 years,
daily bars for good.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta

from fill_history import NOW, TICK, WEEK, fill, seed_stocks, verify
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.retention import DAY, TICKS, Retention
from core.settings import load_settings
from db.models import PriceBar, PriceTick
from jobs.retention import RetentionPass

FIVE_YEARS = timedelta(days=1826)  # the 5Y range
YEAR = timedelta(days=365)
MONTH = timedelta(days=30)  # ticks' retention
DELETE_BATCH = 50_000  # rows per retention transaction: the bench's pass need not yield


def default_retention() -> Retention:
    """The documented defaults (what a deployment that changed nothing keeps)."""
    return load_settings().retention


def stretches(year_step: int, old_step: int) -> list[tuple[timedelta, timedelta, int]]:
    """(from, to) before NOW and seconds between ticks, oldest first; hour-aligned ends."""
    return [
        (FIVE_YEARS + timedelta(days=2), YEAR, old_step),  # a margin before the 5Y window
        (YEAR, MONTH, year_step),
        (MONTH, timedelta(0), TICK),
    ]


def fill_deployment(
    engine: Engine,
    sessions: sessionmaker[Session],
    symbols: Sequence[str],
    year_step: int,
    old_step: int,
    retention: Retention,
) -> list[str]:
    """Fill five years as above, apply retention, vacuum; print what it took; the problems."""
    seed_stocks(sessions, symbols)
    for older, newer, step in stretches(year_step, old_step):
        started = time.perf_counter()
        fill(engine, symbols, NOW - older, NOW - newer, step)
        took = time.perf_counter() - started
        print(f"  filled {older.days}–{newer.days} days ago @ {step} s in {took:.0f} s", flush=True)
    started = time.perf_counter()
    result = RetentionPass(sessions, retention, DELETE_BATCH, lambda: NOW).run()
    vacuum(engine)
    removed = ", ".join(f"{_level(k)} {n:,}" for k, n in result.removed.items())
    print(f"  retention pass: removed {removed} in {time.perf_counter() - started:.0f} s")
    print("  kept per stock: " + kept_rows(sessions, len(symbols)), flush=True)
    return verify(sessions, symbols, int(WEEK.total_seconds()) // TICK)


def _level(level: int) -> str:
    return "ticks" if level == TICKS else f"{level} s bars"


def vacuum(engine: Engine) -> None:
    """Reclaim the deleted rows and refresh the planner's statistics, as autovacuum would."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("VACUUM ANALYZE price_ticks, price_bars"))
        else:
            connection.execute(text("VACUUM"))
            connection.execute(text("ANALYZE"))


def kept_rows(sessions: sessionmaker[Session], stocks: int) -> str:
    """Rows per level per stock after retention, e.g. `ticks 518,400, 60 s bars 525,600, …`."""
    with sessions() as session:
        ticks = session.scalar(select(func.count()).select_from(PriceTick)) or 0
        widths = session.execute(
            select(PriceBar.width, func.count()).group_by(PriceBar.width).order_by(PriceBar.width)
        ).all()
    parts = [f"ticks {ticks // stocks:,}"]
    parts += [f"{'daily' if w == DAY else f'{w} s'} bars {n // stocks:,}" for w, n in widths]
    return ", ".join(parts)
