"""Long ranges' first loads (1M, 6M, 1Y, 5Y) against the 7-day one: server time and bytes.

A database per backend holds five years of a deployment with retention on its defaults
(ranges_history.py); the page is the registered Dash callback (page_served.ServedPage)
offering every range up to 5Y and reading only what retention keeps. Run under the lock:

    flock /work/notes/bench.lock .venv/bin/python bench/bench_ranges.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import tempfile
from pathlib import Path

from bench_writes import SYMBOLS
from fill_history import NOW
from page_served import ServedPage
from ranges_history import FIVE_YEARS, default_retention, fill_deployment
from ranges_measure import RangeLoad, WireBytes, describe, search_of, timed_loads
from temp_postgres import admin_url, run_bench, temp_postgres

from app.query import COMPARE, PRICE
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade

RANGES = ["7D", "1M", "6M", "1Y", "5Y"]
TARGETS = ("1Y", "5Y")  # issue 12: bytes ≤ the 7D load's, time ≤ 2× its


def run_database(database: str, url: str, stocks: int, args) -> list[tuple[str, RangeLoad]]:
    """Fill one database, then time every view and range on it; (label, case) per row."""
    print(f"{database}, {stocks} stocks:", flush=True)
    upgrade(url)
    engine = make_engine(url, statement_timeout=3600)  # the bulk fills take minutes
    try:
        sessions = make_session_factory(engine)
        retention = default_retention()
        symbols = list(SYMBOLS[:stocks])
        problems = fill_deployment(
            engine, sessions, symbols, args.year_step, args.old_step, retention
        )
        for problem in problems:
            print(f"FILL CHECK FAILED: {problem}", file=sys.stderr)
        args.problems += problems
        page = ServedPage(sessions, FIVE_YEARS, retention)
        cases = [RangeLoad(view, key, []) for view in args.views for key in RANGES]
        bodies = timed_loads(page, cases, args.repeat)
        wire = WireBytes()
        for case in cases:
            describe(page, case, bodies[search_of(case.view, case.range)], wire)
        return [(f"{database} {stocks}", case) for case in cases]
    finally:
        engine.dispose()


def kb(size: int) -> str:
    return f"{size / 1000:,.1f}"


def print_table(rows: list[tuple[str, RangeLoad]], args) -> None:
    """One table, each range's ratios to the 7D load of the same database, stocks and view."""
    weeks = {(label, c.view): c for label, c in rows if c.range == "7D"}
    print(
        "\n| database, stocks | view | range | level read | rows read / stock | points / stock "
        "| median ms | p95 ms | KB | gzip KB | br KB | figure KB | time ×7D | KB ×7D | br ×7D |"
    )
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, c in rows:
        week = weeks[(label, c.view)]
        print(
            f"| {label} | {c.view} | {c.range} | {c.level} | {c.rows:,} | {c.points:,} "
            f"| {c.median:.1f} | {c.p95:.1f} | {kb(c.raw)} | {kb(c.gzip)} | {kb(c.brotli)} "
            f"| {kb(c.figure)} | {c.median / week.median:.2f} | {c.raw / week.raw:.2f} "
            f"| {c.brotli / week.brotli:.2f} |"
        )
    print(
        f"\nA new tab's first request per view and range (on_update through Dash's wrapper), "
        f"{args.repeat} timed runs each after a warm-up round, ranges in turns; ms exclude "
        "compression (app/http_bytes.py packs a view's answer once for the viewers sharing it). "
        "KB = 1,000 bytes of the answer's body: raw, gzip and brotli as the app sends it; "
        "figure = the chart's figure alone (raw). Clock fixed at "
        f"{NOW:%Y-%m-%d %H:%M} UTC (a Tuesday's close)."
    )
    for label, c in rows:
        if c.range in TARGETS:
            week = weeks[(label, c.view)]
            ok_bytes = c.raw <= week.raw and c.brotli <= week.brotli
            ok_time = c.median <= 2 * week.median
            print(
                f"{'PASS' if ok_bytes and ok_time else 'MISS'} {label} {c.view} {c.range}: "
                f"bytes {c.raw / week.raw:.2f}× raw, {c.brotli / week.brotli:.2f}× br of 7D "
                f"(≤ 1), time {c.median / week.median:.2f}× (≤ 2)"
            )


def main() -> int:
    """Fill, measure and print; exit status 1 only when a fill check failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stocks", default="6", help="comma-separated stock counts (e.g. 6,30)")
    parser.add_argument("--repeat", type=int, default=15, help="timed first loads per range")
    parser.add_argument("--year-step", type=int, default=60, help="tick step 1 year–30 days ago")
    parser.add_argument("--old-step", type=int, default=3600, help="tick step 5–1 years ago")
    parser.add_argument("--views", default="compare,price", help="compare, price or both")
    parser.add_argument("--quick", action="store_true", help="--repeat 5 --year-step 600")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.year_step = 5, 600
    args.problems = []
    args.views = [v for v in (COMPARE, PRICE) if v in args.views.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: databases dropped
    gc.collect()
    gc.freeze()  # as app/wsgi.py does once the app is built
    rows: list[tuple[str, RangeLoad]] = []
    for stocks in (int(n) for n in args.stocks.split(",")):
        if not args.skip_postgres:
            with temp_postgres(admin_url()) as url:
                if url is not None:
                    rows += run_database("PostgreSQL", url, stocks, args)
        if not args.skip_sqlite:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'ranges.db'}"
                rows += run_database("SQLite", url, stocks, args)
    print_table(rows, args)
    return 1 if args.problems else 0


if __name__ == "__main__":
    run_bench(main)
