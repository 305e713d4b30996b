"""What the dashboard bench times: (a) the first load, (b) one tick, (c) the 2017 method."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from decimal import Decimal

import pandas as pd
from dashboard_report import Result
from fill_history import NOW, TICK, WEEK, base_price, delete_after
from page_served import THEME, ServedPage
from plotly.io.json import to_json_plotly
from sqlalchemy import bindparam, text

from app.cards import card_frame
from app.figure import layout
from app.page_updates import title_of
from app.panels import price_view
from app.patches import downsample, point_budget
from app.query import COMPARE, parse_query
from app.views import Frame, compare_view
from core.records import Quote
from core.times import to_ms
from db.chart import chart_stocks, read_window
from db.engine import unit_of_work
from db.types import UTCDateTime
from db.writes import write_quotes

SEVEN_DAYS = "?view=compare&range=7D"  # (a): the 7 days today's page shows, in the Compare view
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


def served_first_load(page: ServedPage, search: str = SEVEN_DAYS) -> tuple[float, str]:
    """The timed call of a first load: a new tab's request for `search`; ms and Dash's body."""
    started = time.perf_counter()
    body = page.load(search)
    return ms_since(started), body


def served_tick(page: ServedPage, at) -> tuple[float, str]:
    """The timed call of (b): one interval of the tab at clock `at`; ms and Dash's body."""
    page.now = at
    started = time.perf_counter()
    body = page.tick()
    return ms_since(started), body


def first_load(page: ServedPage, repeat: int) -> tuple[float, int, int]:
    """(a): Compare 7D through on_update, as Dash serves it; median ms, bytes, runs."""
    samples: list[float] = []
    runs = repeat
    while len(samples) < runs + 1:  # the first run warms the pool and statement caches
        elapsed, body = served_first_load(page)
        samples.append(elapsed)
        runs = runs_after(samples[0], repeat)
    page.keep(body)
    return statistics.median(samples[1:]), len(body.encode()), runs


def load_parts_once(page: ServedPage, search: str) -> tuple[float, float, float, int, int]:
    """One load split as Page.load does it: read, shape, JSON (ms); rows read, points sent."""
    served = page.page
    query, _ = parse_query(search, served.longest)
    now = served.clock()
    started = time.perf_counter()
    with served.sessions() as session:
        stocks = chart_stocks(session)
        budget = point_budget(len(stocks))
        symbols = [s.symbol for s in stocks]
        series = read_window(session, symbols, now - query.span(), now, budget)
        numbers = served._numbers(session, stocks, now, query)  # the cards' read
    read = ms_since(started)
    started = time.perf_counter()
    sent = {k: downsample(v, budget) for k, v in series.items()}
    edge = max(p.times[-1] for p in sent.values() if p.times)
    bounds = (edge - int(query.span().total_seconds() * 1000), edge)
    build = compare_view if query.view == COMPARE else price_view
    drawn = build(Frame(stocks, sent, bounds, THEME, title_of(query)))
    cards = [card_frame(s) for s in stocks]
    shape = ms_since(started)
    started = time.perf_counter()
    to_json_plotly({"figure": drawn.figure, "numbers": numbers, "cards": cards})
    rows = sum(len(p.times) for p in series.values())
    return read, shape, ms_since(started), rows, sum(len(p.times) for p in sent.values())


def load_parts(page: ServedPage, repeat: int, search: str = SEVEN_DAYS):
    """A load's parts, medians of `repeat` runs after a warm-up; rows read and points sent."""
    parts = [load_parts_once(page, search)]
    runs = runs_after(sum(parts[0][:3]), repeat)
    parts += [load_parts_once(page, search) for _ in range(runs)]
    medians = (statistics.median(p[k] for p in parts[1:]) for k in range(3))
    return (*medians, *parts[-1][3:])


def write_tick(sessions, symbols, at) -> None:
    """One new tick per stock at `at`, as the poller writes it (untimed)."""
    quotes = [Quote(s, Decimal(f"{base_price(s):.4f}"), at, simulated=True) for s in symbols]
    with unit_of_work(sessions) as session:
        write_quotes(session, quotes, at)


def one_tick(page: ServedPage, sessions, symbols, repeat: int, problems: list[str]):
    """(b): write one tick per stock (untimed), then time the tab's tick; median ms and bytes."""
    samples, sizes = [], []
    runs = repeat
    while len(samples) < runs + 1:
        i = len(samples)
        at = NOW + (i + 1) * timedelta(seconds=TICK)
        write_tick(sessions, symbols, at)
        elapsed, body = served_tick(page, at)
        if set(page.keep(body).values()) != {to_ms(at)}:
            problems.append(f"tick {i} did not reach the tick just written")
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
        body = to_json_plotly({"data": traces, "layout": layout(THEME, "Stocks")})
        samples.append(ms_since(started))
        size = len(body.encode())
        del traces, body  # the 100-stock figure is hundreds of MB
    return statistics.median(samples), size


def first_loads_interleaved(pages: list[ServedPage], repeat: int) -> list[tuple[float, int, int]]:
    """(a) on several databases, one run of each in turn: drift on the machine hits all alike."""
    samples: list[list[float]] = [[] for _ in pages]
    bodies = [""] * len(pages)
    for _ in range(repeat + 1):  # the first round warms pools and caches
        for i, page in enumerate(pages):
            elapsed, bodies[i] = served_first_load(page)
            samples[i].append(elapsed)
    for page, body in zip(pages, bodies, strict=True):
        page.keep(body)
    return [
        (statistics.median(s[1:]), len(body.encode()), repeat)
        for s, body in zip(samples, bodies, strict=True)
    ]


def measure(database, case, engine, sessions, symbols, args, problems, page, a=None) -> Result:
    """Measure (a) (unless given, then `page` holds its view), its parts, (b) and (c)."""
    a_ms, a_bytes, a_runs = a or first_load(page, args.repeat)
    parts = load_parts(page, args.repeat)
    b_ms, b_bytes, b_runs = one_tick(page, sessions, symbols, args.repeat, problems)
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
