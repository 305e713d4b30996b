"""Time one poll tick's write (6 and 500 symbols) on PostgreSQL and SQLite vs the 2017 method."""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Boolean, String, bindparam, func, select, text
from temp_postgres import admin_url, temp_postgres

from core.records import TICKER_RE, Quote
from core.settings import DEFAULT_SYMBOLS
from db.engine import make_engine, make_session_factory, unit_of_work
from db.migrate import upgrade
from db.models import PRICE, PriceBar, PriceTick
from db.rollups import BAR_WIDTHS
from db.types import UTCDateTime
from db.watchlist import sync_watchlist
from db.writes import write_quotes

SIZES = (6, 500)
WARMUP = 3
STEP = timedelta(seconds=5)
T0 = datetime(2026, 11, 30, 14, 30, tzinfo=timezone.utc)
SYMBOLS = DEFAULT_SYMBOLS + tuple(f"S{i:03d}" for i in range(500 - len(DEFAULT_SYMBOLS)))

# The 2017 method: one INSERT and one COMMIT per price. Typed bind parameters so the
# values are stored exactly as the models store them (UTC, Numeric), never formatted in.
BASELINE_INSERT = text(
    "INSERT INTO price_ticks (symbol, observed_at, price, fetched_at, simulated) "
    "VALUES (:symbol, :observed_at, :price, :fetched_at, :simulated)"
).bindparams(
    bindparam("symbol", type_=String()),
    bindparam("observed_at", type_=UTCDateTime()),
    bindparam("price", type_=PRICE),
    bindparam("fetched_at", type_=UTCDateTime()),
    bindparam("simulated", type_=Boolean()),
)


class Market:
    """Random-walk prices and a clock that advances 5 s per tick, so no two ticks collide."""

    def __init__(self, seed: int = 2017) -> None:
        self.rng = random.Random(seed)
        self.prices = {s: self.rng.uniform(5, 900) for s in SYMBOLS}
        self.ticks = 0

    def tick(self, n: int) -> list[Quote]:
        """The next N quotes, all observed at one new instant."""
        at = T0 + self.ticks * STEP
        self.ticks += 1
        quotes = []
        for symbol in SYMBOLS[:n]:
            self.prices[symbol] *= math.exp(self.rng.gauss(0, 0.0005))
            quotes.append(Quote(symbol, Decimal(f"{self.prices[symbol]:.4f}"), at))
        return quotes


def baseline_tick(engine, quotes: list[Quote], fetched_at: datetime) -> None:
    """Row by row, a COMMIT after each price; no rollups (as in 2017)."""
    with engine.connect() as connection:
        for q in quotes:
            connection.execute(
                BASELINE_INSERT,
                {
                    "symbol": q.symbol,
                    "observed_at": q.observed_at,
                    "price": q.price,
                    "fetched_at": fetched_at,
                    "simulated": q.simulated,
                },
            )
            connection.commit()


def timed(fn, *args) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - started) * 1000


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile (works for a handful of samples too)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def bench_database(label: str, url: str, repeat: int, problems: list[str]) -> list[tuple]:
    """Migrate, time both methods for each N, then check what was stored (untimed)."""
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    market, rows = Market(), []
    requested = rollup_ticks = 0
    try:
        with unit_of_work(factory) as session:
            sync_watchlist(session, SYMBOLS)
        methods = {
            "ours": lambda quotes, at: write_quotes_tick(factory, quotes, at),
            "base": lambda quotes, at: baseline_tick(engine, quotes, at),
        }
        for n in SIZES:
            # The slow baseline at 500 symbols gets fewer runs to keep the script short.
            runs = {"ours": repeat, "base": repeat if n < 100 else max(3, repeat // 6)}
            samples: dict[str, list[float]] = {"ours": [], "base": []}
            for _ in range(WARMUP):
                for write in methods.values():
                    write(market.tick(n), datetime.now(timezone.utc))
            # Interleaved, so that drift (autovacuum, checkpoints) hits both methods alike.
            for i in range(max(runs.values())):
                for name, write in methods.items():
                    if i < runs[name]:
                        # Quotes are made before the clock starts: only the write is timed.
                        quotes, at = market.tick(n), datetime.now(timezone.utc)
                        samples[name].append(timed(write, quotes, at))
                        if name == "ours":
                            last = quotes
            requested += n * (WARMUP * 2 + runs["ours"] + runs["base"])
            rollup_ticks += n * (WARMUP + runs["ours"])
            a, b = samples["ours"], samples["base"]
            rows.append((label, n, statistics.median(a), p95(a), statistics.median(b), p95(b)))
        # Correctness, untimed: replaying the last tick writes nothing, every requested
        # tick is stored once, and the bars of each width count exactly the stockstreamer ticks.
        with unit_of_work(factory) as session:
            counts = write_quotes(session, last, datetime.now(timezone.utc))
        if (counts.written, counts.duplicates) != (0, len(last)):
            problems.append(f"{label}: replaying a tick gave {counts}, expected 0 written")
        with factory() as session:
            stored = session.scalar(select(func.count()).select_from(PriceTick))
            folded = dict(
                session.execute(
                    select(PriceBar.width, func.sum(PriceBar.tick_count)).group_by(PriceBar.width)
                ).all()
            )
        if stored != requested:
            problems.append(f"{label}: {stored} ticks stored, {requested} requested")
        if folded != {width: rollup_ticks for width in BAR_WIDTHS}:
            problems.append(f"{label}: bars count {folded} ticks, expected {rollup_ticks} each")
    finally:
        engine.dispose()
    return rows


def write_quotes_tick(factory, quotes: list[Quote], fetched_at: datetime) -> None:
    """The project's write path, exactly as the poller calls it."""
    with unit_of_work(factory) as session:
        write_quotes(session, quotes, fetched_at)


def bench_postgres(server: str, repeat: int, problems: list[str]) -> list[tuple]:
    """On a fresh database that is dropped afterwards; nothing if the server is unreachable."""
    with temp_postgres(server) as url:
        return [] if url is None else bench_database("PostgreSQL", url, repeat, problems)


def main() -> int:
    """Run both databases, print the table and the goal line; non-zero only on a wrong result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30, help="timed ticks per case (default 30)")
    repeat = max(2, parser.parse_args().repeat)
    bad = [s for s in SYMBOLS if not TICKER_RE.match(s)]
    if bad or len(set(SYMBOLS)) != max(SIZES):
        raise SystemExit(f"bench symbols are not {max(SIZES)} distinct valid tickers: {bad}")
    problems: list[str] = []
    rows = bench_postgres(admin_url(), repeat, problems)
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_database("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", repeat, problems)

    print(
        "| database | symbols per tick | stockstreamer median ms | p95 ms "
        "| baseline median ms | p95 ms | speed-up (baseline/stockstreamer) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, n, med, high, bmed, bhigh in rows:
        print(
            f"| {label} | {n} | {med:.2f} | {high:.2f} | {bmed:.2f} | {bhigh:.2f} "
            f"| {bmed / med:.1f}× |"
        )
    print(
        "\nstockstreamer: write_quotes in one unit_of_work, incl. the minute, 5-minute and "
        "hourly bars; "
        f"{repeat} timed ticks after {WARMUP} warm-up."
    )
    print(
        "baseline: the 2017 method, INSERT + COMMIT per row via text(); it does NOT maintain "
        f"any rollup. {repeat} timed ticks at 6 symbols, {max(3, repeat // 6)} at 500."
    )
    pg = next((r for r in rows if r[0] == "PostgreSQL" and r[1] == 500), None)
    if pg is None:
        print(
            "\nGoal: 500 symbols in one tick written in ≤ 50 ms on PostgreSQL and ≥ 10× the "
            "baseline: n/a (PostgreSQL not measured)"
        )
    else:
        fast = "PASS" if pg[2] <= 50 else "MISS"
        ratio = "PASS" if pg[4] / pg[2] >= 10 else "MISS"
        print(
            f"\nGoal: 500 symbols in one tick written in ≤ 50 ms on PostgreSQL and ≥ 10× the "
            f"baseline: ≤ 50 ms {fast} ({pg[2]:.1f} ms median), "
            f"≥ 10× {ratio} ({pg[4] / pg[2]:.1f}×)"
        )
    for problem in problems:
        print(f"CORRECTNESS FAILED: {problem}", file=sys.stderr)
    if not problems:
        print(
            "Correctness: every requested tick stored once, rollups count exactly the "
            "stockstreamer ticks, a replayed 500-symbol tick wrote 0 and counted 500 duplicates."
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
