"""Time the dashboard's 7-day first load and one tick's refresh vs the 2017 full-figure method."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench_writes import SYMBOLS
from dashboard_measure import first_loads_interleaved, measure, ms_since
from dashboard_report import Result, print_report, print_today
from fill_history import (
    NOW,
    TICK,
    WEEK,
    YEAR,
    expected_minutes,
    fill,
    seed_stocks,
    table_counts,
    verify,
)
from page_served import ServedPage
from page_today import compare_with_today, today_tree
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from temp_postgres import admin_url, run_bench, temp_postgres

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade


def fill_and_check(engine, sessions, symbols, label, start, end, step, problems) -> None:
    """Fill, print how long it took and the row counts, and check the window is all there."""
    started = time.perf_counter()
    fill(engine, symbols, start, end, step)
    counts = ", ".join(f"{t} {n:,}" for t, n in table_counts(sessions).items())
    print(f"  filled {label} in {ms_since(started) / 1000:.1f} s: {counts}", flush=True)
    settle(engine)
    problems += [
        f"{label}: {p}" for p in verify(sessions, symbols, int(WEEK.total_seconds()) // TICK)
    ]


def settle(engine) -> None:
    """Let the fill's writes reach the disk before timing, so they do not slow the reads.

    After millions of rows PostgreSQL's checkpointer would otherwise spread its
    writes over the next minutes, right across the measurements.
    """
    if engine.dialect.name == "postgresql":
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("CHECKPOINT"))  # needs pg_checkpoint (CI grants it)
        except SQLAlchemyError:
            print("  (no CHECKPOINT privilege: timings may include the fill's writes)")
    os.sync()
    time.sleep(2)


def run_database(
    database: str, url: str, n: int, args, problems: list[str], year_url: str | None = None
) -> tuple[list[Result], list]:
    """A fresh database with n stocks × 7 days; with `year_url`, a second one that also holds
    an older year, whose first loads are timed in turn with the first one's. Then the first
    database serves today's page and the new one in turn (page_today.py)."""
    databases = [(url, False)] + ([(year_url, True)] if year_url else [])
    engines, sessions_list = [], []
    try:
        for db_url, with_year in databases:
            upgrade(db_url)
            engine = make_engine(db_url)
            sessions = make_session_factory(engine)
            engines.append(engine)
            sessions_list.append(sessions)
            symbols = list(SYMBOLS[:n])
            seed_stocks(sessions, symbols)
            fill_and_check(
                engine,
                sessions,
                symbols,
                f"{n} stocks × 7 days @ {TICK} s",
                NOW - WEEK,
                NOW,
                TICK,
                problems,
            )
            if with_year:
                step = args.year_step
                fill_and_check(
                    engine,
                    sessions,
                    symbols,
                    f"+ 1 older year @ {step} s for {n} stocks",
                    NOW - WEEK - YEAR,
                    NOW - WEEK,
                    step,
                    problems,
                )
        pages = [ServedPage(sessions) for sessions in sessions_list]
        loads = first_loads_interleaved(pages, args.repeat) if year_url else [None]
        labels = [f"{n} stocks, 7 days", f"{n} stocks, 7 days + 1 year @ {args.year_step} s"]
        results = [
            measure(
                database,
                labels[i],
                engines[i],
                sessions_list[i],
                list(SYMBOLS[:n]),
                args,
                problems,
                pages[i],
                a=loads[i],
            )
            for i in range(len(databases))
        ]
        if year_url:
            rows = expected_minutes(YEAR, args.year_step) + expected_minutes(WEEK, TICK)
            results[-1].note = f"{rows:,} rollup rows per stock"
        symbols = list(SYMBOLS[:n])
        today = compare_with_today(
            database, url, sessions_list[0], symbols, args.tree, args.repeat, problems
        )
        return results, today
    finally:
        for engine in engines:
            engine.dispose()


def stock_counts(text_value: str) -> tuple[int, ...]:
    """`6,30` as (6, 30): each a count of stocks between 1 and len(SYMBOLS)."""
    try:
        counts = tuple(int(part) for part in text_value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text_value!r}") from None
    if not all(1 <= n <= len(SYMBOLS) for n in counts):
        raise argparse.ArgumentTypeError(f"each count must be 1 to {len(SYMBOLS)}: {text_value!r}")
    return counts


def main() -> int:
    """Fill, measure and report every case; non-zero only if the fill or a refresh was wrong."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--stocks",
        type=stock_counts,
        default=None,
        help="comma-separated stock counts to measure, e.g. 6,30 (default 6,100; --quick: 6)",
    )
    parser.add_argument("--quick", action="store_true", help="6 stocks only (unless --stocks)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-year", action="store_true", help="no extra year of history")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of (a) and (b)")
    parser.add_argument(
        "--baseline-repeat",
        type=int,
        default=3,
        help="timed runs of (c) at 6 stocks (1 at 100 stocks)",
    )
    parser.add_argument(
        "--year-step",
        type=int,
        default=60,
        help="seconds between ticks in the older year (default 60)",
    )
    args = parser.parse_args()
    args.repeat, args.baseline_repeat = max(1, args.repeat), max(1, args.baseline_repeat)
    # SIGTERM unwinds like Ctrl-C, so the finally blocks drop the temporary databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = admin_url()
    # As app/wsgi.py does once the app is built: long-lived objects out of the GC's way.
    gc.collect()
    gc.freeze()
    sizes = args.stocks or ((6,) if args.quick else (6, 100))
    problems: list[str] = []
    results: list[Result] = []
    today: list = []
    with today_tree() as args.tree:
        for n in sizes:
            year = n <= 10 and not args.skip_year
            if not args.skip_postgres:
                with temp_postgres(server) as url, temp_postgres(server) as year_url:
                    if url is not None:
                        measured, against = run_database(
                            "PostgreSQL", url, n, args, problems, year_url if year else None
                        )
                        results, today = results + measured, today + against
            if not args.skip_sqlite:
                with tempfile.TemporaryDirectory() as tmp:
                    url = f"sqlite:///{Path(tmp) / 'dashboard.db'}"
                    year_url = f"sqlite:///{Path(tmp) / 'dashboard-year.db'}" if year else None
                    measured, against = run_database("SQLite", url, n, args, problems, year_url)
                    results, today = results + measured, today + against
    print_report(results, args)
    print_today(sorted(today, key=lambda r: (r.database, r.stocks)))
    for problem in problems:
        print(f"CORRECTNESS FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    run_bench(main)
