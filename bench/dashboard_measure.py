"""What the dashboard bench times: (a) the first load, (b) one tick, (c) the 2017 method."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from decimal import Decimal

import pandas as pd
from dashboard_report import Result
from fill_history import NOW, TICK, WEEK, base_price, delete_after
from plotly.io.json import to_json_plotly
from sqlalchemy import bindparam, text

from app.figure import base_figure
from app.page_state import LIVE, NOT_LOADED, PageState
from app.page_updates import PageUpdate, load_window, refresh
from app.patches import point_budget, window_patch
from core.records import Quote
from core.times import to_ms
from db.chart import chart_stocks, read_window
from db.engine import unit_of_work
from db.types import UTCDateTime
from db.writes import write_quotes

DAYS = 7
SLOW_MS, SLOW_RUNS = 1_000, 3
# The 2017 method: every row of the window, one query, ordered for drawing lines.
ORIGINAL_2017 = text(
    "SELECT symbol, observed_at, price FROM price_ticks WHERE observed_at > :since "
    "ORDER BY observed_at"
).bindparams(bindparam("since", type_=UTCDateTime()))


def ms_since(started: float) -> float:
    """Milliseconds since a perf_counter() reading."""
    return (time.perf_counter() - started) * 1000


def runs_after(warm_up_ms: float, repeat: int) -> int:
    """Timed runs after a warm-up: fewer when a run takes over a second (keeps the bench short)."""
    return repeat if warm_up_ms <= SLOW_MS else min(repeat, SLOW_RUNS)


def served_first_load(sessions) -> tuple[PageUpdate, str]:
    """The timed call of (a): what the page's first request computes, and the body Dash sends."""
    update = load_window(sessions, lambda: NOW, DAYS)
    return update, to_json_plotly(update.patch)  # Dash's to_json of a Patch output


def served_tick(sessions, state: PageState, at) -> tuple[PageUpdate, str]:
    """The timed call of (b): one refresh of a page following live, and the body Dash sends."""
    update = refresh(sessions, lambda: at, DAYS, state, LIVE)
    return update, to_json_plotly(update.patch)


def first_load(sessions, repeat: int) -> tuple[float, int, PageState, int]:
    """(a): load_window + Dash's JSON of its Patch; median ms, bytes, the page's state, runs."""
    samples: list[float] = []
    runs = repeat
    while len(samples) < runs + 1:  # the first run warms the pool and statement caches
        started = time.perf_counter()
        update, body = served_first_load(sessions)
        samples.append(ms_since(started))
        runs = runs_after(samples[0], repeat)
    return statistics.median(samples[1:]), len(body.encode()), update.state, runs


def first_load_parts(sessions, repeat: int) -> tuple[float, float, float, int, int]:
    """(a) split as load_window does it: read, shape, serialize; medians, rows read, points sent."""
    parts: list[tuple[float, float, float]] = []
    runs = repeat
    while len(parts) < runs + 1:
        started = time.perf_counter()
        with sessions() as session:
            stocks = chart_stocks(session)
            budget = point_budget(len(stocks))
            series = read_window(session, [s.symbol for s in stocks], NOW - WEEK, NOW, budget)
        read = ms_since(started)
        started = time.perf_counter()
        patch, _ = window_patch(stocks, series)
        shape = ms_since(started)
        started = time.perf_counter()
        to_json_plotly(patch)
        parts.append((read, shape, ms_since(started)))
        runs = runs_after(sum(parts[0]), repeat)
    parts = parts[1:]
    rows = sum(len(p.times) for p in series.values())
    sent = sum(min(len(p.times), budget) for p in series.values())
    return (*(statistics.median(p[k] for p in parts) for k in range(3)), rows, sent)


def one_tick(sessions, symbols, state, repeat: int, problems: list[str]):
    """(b): write one tick per stock (untimed), then time refresh + JSON; median ms and bytes."""
    samples, sizes = [], []
    runs = repeat
    while len(samples) < runs + 1:
        i = len(samples)
        at = NOW + (i + 1) * timedelta(seconds=TICK)
        quotes = [Quote(s, Decimal(f"{base_price(s):.4f}"), at, simulated=True) for s in symbols]
        with unit_of_work(sessions) as session:
            write_quotes(session, quotes, at)
        started = time.perf_counter()
        update, body = served_tick(sessions, state, at)
        elapsed = ms_since(started)
        if set(update.state.last_ms.values()) != {to_ms(at)}:
            problems.append(f"refresh {i} did not reach the tick just written")
        state = update.state
        samples.append(elapsed)
        sizes.append(len(body.encode()))
        runs = runs_after(samples[0], repeat)
    delete_after(sessions, NOW)  # back to the filled state for the next case
    return statistics.median(samples[1:]), int(statistics.median(sizes[1:])), runs


def original_2017(engine, runs: int) -> tuple[float, int]:
    """(c): read every row, group per stock in pandas, send a full figure with every point."""
    samples, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        with engine.connect() as connection:
            frame = pd.read_sql(
                ORIGINAL_2017,
                connection,
                params={"since": NOW - WEEK},
                parse_dates={"observed_at": {"utc": True}},
            )
        traces = [
            {
                "type": "scatter",
                "mode": "lines",
                "name": symbol,
                "x": group["observed_at"].tolist(),
                "y": group["price"].tolist(),
            }
            for symbol, group in frame.groupby("symbol", sort=True)
        ]
        del frame
        body = to_json_plotly({"data": traces, "layout": base_figure()["layout"]})
        samples.append(ms_since(started))
        size = len(body.encode())
        del traces, body  # the 100-stock figure is hundreds of MB
    return statistics.median(samples), size


def first_loads_interleaved(sessions_list, repeat: int) -> list[tuple[float, int, PageState, int]]:
    """(a) on several databases, one run of each in turn: drift on the machine hits all alike."""
    samples: list[list[float]] = [[] for _ in sessions_list]
    last: list[tuple[int, PageState]] = [(0, NOT_LOADED)] * len(sessions_list)
    for _ in range(repeat + 1):  # the first round warms pools and caches
        for i, sessions in enumerate(sessions_list):
            started = time.perf_counter()
            update, body = served_first_load(sessions)
            samples[i].append(ms_since(started))
            last[i] = (len(body.encode()), update.state)
    return [
        (statistics.median(s[1:]), size, state, repeat)
        for s, (size, state) in zip(samples, last, strict=True)
    ]


def measure(database, case, engine, sessions, symbols, args, problems, a=None) -> Result:
    """Measure (a) (unless given), its breakdown, (b) and (c) on a filled database."""
    a_ms, a_bytes, state, a_runs = a or first_load(sessions, args.repeat)
    parts = first_load_parts(sessions, args.repeat)
    b_ms, b_bytes, b_runs = one_tick(sessions, symbols, state, args.repeat, problems)
    runs = args.baseline_repeat if len(symbols) <= 10 else 1
    c_ms, c_bytes = original_2017(engine, runs)
    print(
        f"  {database} {case}: (a) {a_ms:.1f} ms, (b) {b_ms:.1f} ms, (c) {c_ms:.0f} ms", flush=True
    )
    return Result(
        database,
        case,
        len(symbols),
        a_ms,
        a_bytes,
        b_ms,
        b_bytes,
        c_ms,
        c_bytes,
        (a_runs, b_runs, runs),
        *parts,
    )
