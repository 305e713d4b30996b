"""Retention on PostgreSQL: a simulated year at 5 s with retention on and off, one retention pass
beside the poller's writes, and batched deletes against dropping a day's partition.

The year is simulated in bulk with an injected clock: for each day, that day's ticks every
5 s and their bars are written by fill_history's INSERT … SELECT (generate_series: no row
passes through Python; VACUUM ANALYZE after, as autovacuum would), then, with retention on,
the retention job's own pass runs with its clock at the end of that day. Without retention
the same year is written in 30-day chunks. Run under the shared lock:

    flock /work/notes/bench.lock .venv/bin/python bench/bench_retention.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta

from bench_writes import SYMBOLS
from fill_history import NOW, fill, seed_stocks
from retention_partitions import batched_arm, make_partitioned_copy, partition_arm, table_bytes
from retention_writer import app_writer
from sqlalchemy import Engine, func, select
from temp_postgres import admin_url, temp_postgres

from core.market import trading_day_start
from core.retention import DAY, FIVE_MINUTES, HOUR, MINUTE
from core.settings import DEFAULT_SYMBOLS, load_settings
from db.chart import read_window
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from db.models import PriceBar, PriceTick
from jobs.retention import RetentionPass

STEP = 5  # seconds between ticks
LEVELS = [("ticks", None), ("minute bars", MINUTE), ("5-minute bars", FIVE_MINUTES)]
LEVELS += [("hourly bars", HOUR), ("daily bars", DAY)]


def rows_per_level(engine: Engine) -> dict[str, int]:
    sessions = make_session_factory(engine)
    with sessions() as session:
        out = {"ticks": session.scalar(select(func.count()).select_from(PriceTick))}
        widths = dict(
            session.execute(select(PriceBar.width, func.count()).group_by(PriceBar.width)).all()
        )
    out.update((name, widths.get(w, 0)) for name, w in LEVELS if w is not None)
    return out


def simulate_year(days: int, stocks: int, retained: bool, batch: int) -> dict:
    """Rows and bytes per stock after `days` at 5 s, and the daily passes' times."""
    symbols = list(DEFAULT_SYMBOLS[:stocks])
    first = trading_day_start(NOW - timedelta(days=days))
    retention = load_settings().retention  # the documented defaults
    growth: dict[int, tuple[int, int]] = {}
    passes: list[float] = []
    with temp_postgres(admin_url()) as url:
        upgrade(url)
        engine = make_engine(url, statement_timeout=3600)  # the bulk fills take minutes
        sessions = make_session_factory(engine)
        seed_stocks(sessions, symbols)
        started = time.perf_counter()
        if not retained:
            for d in range(0, days, 30):
                end = first + timedelta(days=min(d + 30, days))
                fill(engine, symbols, first + timedelta(days=d), end, STEP)
        for d in range(days if retained else 0):
            day = first + timedelta(days=d)
            fill(engine, symbols, day, day + timedelta(days=1), STEP)
            job = RetentionPass(
                sessions, retention, batch, lambda d=d: first + timedelta(days=d + 1)
            )
            passes.append(job.run().seconds * 1000)
            if d + 1 in (7, 30, 31, 60, 90, 180, 365) or d + 1 == days:
                growth[d + 1] = (
                    rows_per_level(engine)["ticks"],
                    table_bytes(engine, "price_ticks"),
                )
        seconds = time.perf_counter() - started
        reads = time_reads(engine, symbols, first + timedelta(days=days), days) if retained else {}
        rows = rows_per_level(engine)
        sizes = {t: table_bytes(engine, t) for t in ("price_ticks", "price_bars")}
        engine.dispose()
    return {
        "rows": {k: v / stocks for k, v in rows.items()},
        "bytes": {k: v / stocks for k, v in sizes.items()},
        "growth": growth,
        "passes": passes,
        "seconds": seconds,
        "reads": reads,
    }


RANGES = (("7D", 7), ("1M", 30), ("6M", 182), ("1Y", 365))
BUDGET = 2_000  # points per stock, as the page asks


def time_reads(engine: Engine, symbols: list[str], now, days: int) -> dict[str, tuple]:
    """The chart's read of each range that fits the simulated days: median ms, points, level."""
    sessions = make_session_factory(engine)
    kept = load_settings().retention.kept_from(now)
    out = {}
    for name, span in RANGES:
        if span > days:
            continue
        times = []
        for _ in range(5):
            with sessions() as session:
                began = time.perf_counter()
                points = read_window(
                    session, symbols, now - timedelta(days=span), now, BUDGET, kept
                )
                times.append((time.perf_counter() - began) * 1000)
        first = points[symbols[0]]
        out[name] = (statistics.median(times), len(first.times), first.resolution)
    return out


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def print_year(days: int, off: dict, on: dict) -> None:
    print(
        f"\nPer stock after {days} simulated days at {STEP} s "
        "(PostgreSQL 15; bytes: tables + indexes)"
    )
    print("| | retention off | retention on (defaults) |")
    print("|---|---:|---:|")
    for name, _ in LEVELS:
        print(f"| {name} rows | {off['rows'][name]:,.0f} | {on['rows'][name]:,.0f} |")
    for table in ("price_ticks", "price_bars"):
        print(f"| {table} | {mb(off['bytes'][table])} | {mb(on['bytes'][table])} |")
    total_off, total_on = sum(off["bytes"].values()), sum(on["bytes"].values())
    print(f"| total | {mb(total_off)} | {mb(total_on)} ({total_on / total_off:.0%}) |")
    print("\nprice_ticks with retention on, per stock, as the days go (it stops growing at 30):")
    print("| day | tick rows | price_ticks |")
    print("|---:|---:|---:|")
    for day, (ticks, size) in sorted(on["growth"].items()):
        print(f"| {day} | {ticks:,.0f} | {mb(size)} |")
    print(
        "\nThe chart's read of each range after it, retention on (read_window, kept; 2,000 points):"
    )
    print("| range | read | points per stock | level |")
    print("|---|---:|---:|---|")
    for name, (ms, points, level) in on["reads"].items():
        print(f"| {name} | {ms:.1f} ms | {points:,} | {level} |")
    steady = on["passes"][31:] or on["passes"]
    print(
        f"daily passes (1 day of ticks each): median {statistics.median(steady):.0f} ms, "
        f"max {max(steady):.0f} ms; simulated in {on['seconds']:.0f} s "
        f"(off: {off['seconds']:.0f} s)"
    )


def compare_removals(days: int, stocks: int, batch: int) -> list[dict]:
    """One pass beside the app's writes, then batched deletes against partition drops."""
    symbols = list(SYMBOLS[:stocks])
    first = trading_day_start(NOW - timedelta(days=days))
    end = first + timedelta(days=days)
    with temp_postgres(admin_url()) as url:
        upgrade(url)
        engine = make_engine(url, statement_timeout=3600)  # the bulk fills take minutes
        seed_stocks(make_session_factory(engine), symbols)
        fill(engine, symbols, first, end, STEP)
        make_partitioned_copy(engine, first, days)
        at = lambda hours: end + timedelta(hours=hours)  # noqa: E731  each writer's own times
        rows = [
            batched_arm(engine, symbols, first, batch, at(12), write=app_writer(engine)),
            batched_arm(engine, symbols, first + timedelta(days=1), batch, at(13)),
            partition_arm(engine, symbols, first, at(14), concurrently=False),
            partition_arm(engine, symbols, first + timedelta(days=1), at(15), concurrently=True),
        ]
        rows[0]["arm"] = "retention pass, app writes beside it: " + rows[0]["arm"]
        engine.dispose()
    return rows


def sqlite_pass(days: int, stocks: int, batch: int) -> list[dict]:
    """One retention pass on a SQLite file beside the poller's writes (one writer at a time)."""
    symbols = list(SYMBOLS[:stocks])
    first = trading_day_start(NOW - timedelta(days=days))
    end = first + timedelta(days=days)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/retention.sqlite"
        upgrade(url)
        engine = make_engine(url, statement_timeout=3600)  # the bulk fills take minutes
        seed_stocks(make_session_factory(engine), symbols)
        fill(engine, symbols, first, end, STEP)
        row = batched_arm(
            engine, symbols, first, batch, end + timedelta(hours=12), write=app_writer(engine)
        )
        row["arm"] = "SQLite retention pass, app writes beside it: " + row["arm"]
        engine.dispose()
    return [row]


def print_removals(stocks: int, rows: list[dict]) -> None:
    print(
        f"\nRemoving one day of ticks, {stocks} stocks at {STEP} s, "
        "a writer beside it (20 writes/s)"
    )
    print(
        "| how | rows | time | then VACUUM | longest write beside | median beside | writes "
        "| longest before |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['arm']} | {r['rows']:,} | {r['ms']:,.0f} ms | {r['vacuum_ms']:,.0f} ms "
            f"| {r['longest']:.1f} ms | {r['median']:.1f} ms | {r['writes']} "
            f"| {r['baseline']:.1f} ms |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="simulated days (365)")
    parser.add_argument("--stocks", type=int, default=1, help="stocks in the simulated year (1)")
    parser.add_argument("--removal-days", type=int, default=4, help="days for the removal cases")
    parser.add_argument(
        "--removal-stocks", default="6,100", help="stock counts for them, comma-separated (6,100)"
    )
    parser.add_argument("--batch", type=int, default=load_settings().retention_batch)
    parser.add_argument("--quick", action="store_true", help="45 days, 3 for the removals")
    args = parser.parse_args()
    if args.quick:
        args.days, args.removal_days = 45, 3
    off = simulate_year(args.days, args.stocks, False, args.batch)
    on = simulate_year(args.days, args.stocks, True, args.batch)
    print_year(args.days, off, on)
    for stocks in (int(n) for n in args.removal_stocks.split(",")):
        removals = compare_removals(args.removal_days, stocks, args.batch)
        print_removals(stocks, removals + sqlite_pass(args.removal_days, stocks, args.batch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
