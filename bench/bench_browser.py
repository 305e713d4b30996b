"""What the user's browser spends on the page: chart drawn, bytes, main-thread time per tick."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.app.conftest's flags

from bench_writes import SYMBOLS
from browser_probe import Browser
from browser_report import Case, busy_per_tick, print_table
from browser_server import TickWriter, fill_database, served
from browser_trace import heaviest_calls, trace_busy_per_tick, trace_long_tasks_per_tick
from temp_postgres import admin_url, temp_postgres

from core.settings import Settings
from tests.app.conftest import _find

# The switch the `bytes` branch adds; the "off" column needs it in this tree.
OFF_SETTING = "compress"
OFF_ENV = {"STOCKSTREAMER_COMPRESS": "false", "STOCKSTREAMER_CACHE_STATIC": "false"}


def measure(base: str, stocks: int, seconds: float, paths, save: Path | None) -> Case:
    """A new profile's first load, a reload, then `seconds` of ticks in the same tab."""
    browser = Browser(*paths, expected_traces=stocks)
    try:
        cold = browser.load(base)
        warm = browser.load(None)
        loaded = browser.probe()
        trace = browser.trace(seconds)
        if save is not None:  # open it in DevTools' Performance panel
            save.write_text(json.dumps({"traceEvents": trace}))
            print(f"  trace: {save}")
        probe = browser.probe()
        ticks = [t for t in probe["ticks"] if t[1] is not None]
        case = Case(cold, warm)
        case.tick_busy_ms = busy_per_tick(ticks, probe["longtasks"])
        after = [d for s, d in probe["longtasks"] if s >= (loaded["drawn"] or 0)]
        case.longest_task_ms = max(after, default=0.0)
        case.tick_bytes = [n for url, n in browser.responses() if "_dash-update-component" in url]
        case.tick_trace_ms, case.tick_parts_ms = trace_busy_per_tick(trace)
        case.tick_trace_long_ms = trace_long_tasks_per_tick(trace)
        case.tick_calls_ms = heaviest_calls(trace)
        case.tick_ms = [end - start for start, end in ticks]
        if probe.get("noLongtasks"):
            print(f"  no Long Tasks API: {probe['noLongtasks']}")
        return case
    finally:
        browser.close()


def run_stocks(url: str, stocks: int, args, paths, off_supported: bool) -> None:
    symbols = list(SYMBOLS[:stocks])
    started = time.perf_counter()
    fill_database(url, symbols)
    print(f"  filled {stocks} stocks × 7 days at 5 s in {time.perf_counter() - started:.0f} s")
    writer = TickWriter(url, symbols)
    writer.start()
    try:
        cases = {}
        for name, env in (("on", {}), ("off", OFF_ENV if off_supported else None)):
            if env is None:
                continue
            with served(url, symbols, env) as base:
                print(f"  {name}: measuring {base} for {args.seconds:g} s of ticks", flush=True)
                save = args.save_trace and args.save_trace / f"trace-{stocks}-{name}.json"
                cases[name] = measure(base, stocks, args.seconds, paths, save or None)
    finally:
        writer.stop()
    print_table(stocks, cases["on"], cases.get("off"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="30 s of ticks instead of 2 minutes")
    parser.add_argument("--stocks", default="6,30", help="stock counts, e.g. 6,30")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--save-trace", type=Path, help="a directory for the ticks' traces")
    args = parser.parse_args()
    if args.save_trace:
        args.save_trace.mkdir(parents=True, exist_ok=True)
    args.seconds = 32 if args.quick else 122  # a tick's window ends at the next tick
    browser = _find("STOCKSTREAMER_TEST_CHROMIUM", ("chromium", "chromium-browser"))
    driver = _find("STOCKSTREAMER_TEST_CHROMEDRIVER", ("chromedriver",))
    if not browser or not driver:
        print("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
        return 1
    off_supported = OFF_SETTING in Settings.model_fields
    if not off_supported:
        print(f"no `{OFF_SETTING}` setting in this tree: the off column is n/a")
    for stocks in [int(s) for s in args.stocks.split(",")]:
        print(f"\n== {stocks} stocks", flush=True)
        if args.sqlite:
            with tempfile.TemporaryDirectory() as directory:
                url = f"sqlite:///{os.path.join(directory, 'bench.db')}"
                run_stocks(url, stocks, args, (browser, driver), off_supported)
            continue
        with temp_postgres(admin_url()) as url:
            if url is None:
                return 1
            run_stocks(url, stocks, args, (browser, driver), off_supported)
    return 0


if __name__ == "__main__":
    sys.exit(main())
