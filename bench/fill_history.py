"""Fill a migrated database with synthetic price history on the server, and check the fill.

Ticks are made by one INSERT ... SELECT per chunk of symbols (generate_series on
PostgreSQL, a recursive CTE on SQLite): millions of rows never pass through Python.
Prices are a deterministic sum of sines plus hash noise, so every run fills the
same data. The minute bars, then the 5-minute and hourly bars from them, then the daily bars
(New York trading days) from the hours, are built with GROUP BY; a day a fill shares with an
earlier one is merged into its bar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import Engine, bindparam, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.market import trading_day_start
from core.records import StockProfile
from core.retention import DAY
from db.chart import read_window, ticks_in_window
from db.engine import unit_of_work
from db.models import PriceBar, PriceTick, Stock
from db.rollups import BAR_WIDTHS
from db.types import UTCDateTime
from db.watchlist import sync_watchlist
from db.writes import upsert_profiles
from jobs.providers.simulated_catalog import KNOWN, logo_path

# A Tuesday, 16:00 in New York: the dashboard's fixed "now" for every case.
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=timezone.utc)
WEEK = timedelta(days=7)
YEAR = timedelta(days=365)
TICK = 5  # seconds between ticks in the 7-day window
COARSE = [w for w in BAR_WIDTHS if 60 < w < DAY]  # built from the minute bars

# Relative moves: a multi-day swing, an hourly wobble and per-tick noise; the factor
# stays within [0.93, 1.07], so every price is positive.
PRICE = (
    "base * (1 + 0.05 * sin({t} / 267840.0 + phase) + 0.015 * sin({t} / 970.0 + 2 * phase)"
    " + 0.002 * ({n} - floor({n})) - 0.001)"
)
NOISE = "(sin({t} * 12.9898 + i * 78.233) * 43758.5453)"

PG_TICKS = """
INSERT INTO price_ticks (symbol, observed_at, price, fetched_at, simulated)
SELECT s.symbol, to_timestamp(k), round(CAST({price} AS numeric), 4), to_timestamp(k), true
FROM unnest(CAST(:symbols AS text[]), CAST(:bases AS float8[]), CAST(:phases AS float8[]),
            CAST(:idx AS float8[])) AS s(symbol, base, phase, i)
CROSS JOIN LATERAL generate_series(CAST(:t0 AS bigint), :t1, :step) AS k
"""
PG_MINUTES = """
INSERT INTO price_bars
    (symbol, width, start, open, high, low, close, open_at, close_at, tick_count, simulated)
SELECT symbol, 60, date_trunc('minute', observed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
       (array_agg(price ORDER BY observed_at))[1], max(price), min(price),
       (array_agg(price ORDER BY observed_at DESC))[1], min(observed_at), max(observed_at),
       count(*), bool_or(simulated)
FROM price_ticks
WHERE symbol = ANY(CAST(:symbols AS text[])) AND observed_at >= :start AND observed_at < :end
GROUP BY 1, 3
"""
# SQLite stores the naive UTC text SQLAlchemy writes: 'YYYY-MM-DD HH:MM:SS.ffffff'.
SQLITE_TS = "strftime('%Y-%m-%d %H:%M:%S', k, 'unixepoch') || '.000000'"
SQLITE_TICKS = """
WITH RECURSIVE ks(k) AS (SELECT :t0 UNION ALL SELECT k + :step FROM ks WHERE k + :step <= :t1),
s(symbol, base, phase, i) AS (VALUES {values})
INSERT INTO price_ticks (symbol, observed_at, price, fetched_at, simulated)
SELECT s.symbol, {ts}, round({price}, 4), {ts}, 1 FROM s CROSS JOIN ks
"""
# No array_agg on SQLite: open and close are looked up by their (symbol, time) key.
SQLITE_MINUTES = """
INSERT INTO price_bars
    (symbol, width, start, open, high, low, close, open_at, close_at, tick_count, simulated)
SELECT g.symbol, 60, g.minute, o.price, g.hi, g.lo, c.price, g.open_at, g.close_at, g.n, g.sim
FROM (SELECT symbol, substr(observed_at, 1, 16) || '\\:00.000000' AS minute,
             min(observed_at) AS open_at, max(observed_at) AS close_at,
             max(price) AS hi, min(price) AS lo, count(*) AS n, max(simulated) AS sim
      FROM price_ticks WHERE observed_at >= :start AND observed_at < :end
      GROUP BY symbol, substr(observed_at, 1, 16)) AS g
JOIN price_ticks AS o ON o.symbol = g.symbol AND o.observed_at = g.open_at
JOIN price_ticks AS c ON c.symbol = g.symbol AND c.observed_at = g.close_at
"""
PG_BARS = """
INSERT INTO price_bars
    (symbol, width, start, open, high, low, close, open_at, close_at, tick_count, simulated)
SELECT symbol, w, to_timestamp(floor(date_part('epoch', start) / w) * w),
       (array_agg(open ORDER BY start))[1], max(high), min(low),
       (array_agg(close ORDER BY start DESC))[1], min(open_at), max(close_at),
       sum(tick_count), bool_or(simulated)
FROM price_bars CROSS JOIN unnest(CAST(:widths AS integer[])) AS w
WHERE symbol = ANY(CAST(:symbols AS text[])) AND width = 60 AND start >= :start AND start < :end
GROUP BY 1, 2, 3
"""
SQLITE_BUCKET = (
    "strftime('%Y-%m-%d %H:%M:%S', CAST(strftime('%s', m.start) AS integer) / w.w * w.w, "
    "'unixepoch') || '.000000'"
)
SQLITE_BARS = f"""
INSERT INTO price_bars
    (symbol, width, start, open, high, low, close, open_at, close_at, tick_count, simulated)
SELECT g.symbol, g.w, g.bucket, o.open, g.hi, g.lo, c.close, g.open_at, g.close_at, g.n, g.sim
FROM (SELECT m.symbol, w.w, {SQLITE_BUCKET} AS bucket, min(m.start) AS first,
             max(m.start) AS last, min(m.open_at) AS open_at, max(m.close_at) AS close_at,
             max(m.high) AS hi, min(m.low) AS lo, sum(m.tick_count) AS n,
             max(m.simulated) AS sim
      FROM price_bars AS m CROSS JOIN (SELECT 300 AS w UNION ALL SELECT 3600) AS w
      WHERE m.width = 60 AND m.start >= :start AND m.start < :end
      GROUP BY m.symbol, w.w, bucket) AS g
JOIN price_bars AS o ON o.symbol = g.symbol AND o.width = 60 AND o.start = g.first
JOIN price_bars AS c ON c.symbol = g.symbol AND c.width = 60 AND c.start = g.last
"""
# A day's bar merged into a stored one (a fill's first or last day shared with another fill).
DAY_MERGE = """
ON CONFLICT (symbol, width, start) DO UPDATE SET
    open = CASE WHEN excluded.open_at < price_bars.open_at THEN excluded.open
                ELSE price_bars.open END,
    close = CASE WHEN excluded.close_at > price_bars.close_at THEN excluded.close
                 ELSE price_bars.close END,
    open_at = {least}(price_bars.open_at, excluded.open_at),
    close_at = {greatest}(price_bars.close_at, excluded.close_at),
    high = {greatest}(price_bars.high, excluded.high), low = {least}(price_bars.low, excluded.low),
    tick_count = price_bars.tick_count + excluded.tick_count
"""
PG_DAYS = f"""
INSERT INTO price_bars
    (symbol, width, start, open, high, low, close, open_at, close_at, tick_count, simulated)
SELECT symbol, {DAY}, date_trunc('day', start, 'America/New_York'),
       (array_agg(open ORDER BY start))[1], max(high), min(low),
       (array_agg(close ORDER BY start DESC))[1], min(open_at), max(close_at),
       sum(tick_count), bool_or(simulated)
FROM price_bars
WHERE symbol = ANY(CAST(:symbols AS text[])) AND width = 3600 AND start >= :start AND start < :end
GROUP BY 1, 3
""" + DAY_MERGE.format(least="least", greatest="greatest")
# SQLite has no time zones: ny_day() is registered on the connection (trading_day_start).
SQLITE_DAYS = f"""
INSERT INTO price_bars
    (symbol, width, start, open, high, low, close, open_at, close_at, tick_count, simulated)
SELECT g.symbol, {DAY}, g.day, o.open, g.hi, g.lo, c.close, g.open_at, g.close_at, g.n, g.sim
FROM (SELECT symbol, ny_day(start) AS day, min(start) AS first, max(start) AS last,
             min(open_at) AS open_at, max(close_at) AS close_at, max(high) AS hi,
             min(low) AS lo, sum(tick_count) AS n, max(simulated) AS sim
      FROM price_bars WHERE width = 3600 AND start >= :start AND start < :end
      GROUP BY symbol, ny_day(start)) AS g
JOIN price_bars AS o ON o.symbol = g.symbol AND o.width = 3600 AND o.start = g.first
JOIN price_bars AS c ON c.symbol = g.symbol AND c.width = 3600 AND c.start = g.last
WHERE true
""" + DAY_MERGE.format(least="min", greatest="max")
TIMES = (bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))


def _ny_day(stored: str) -> str:
    """SQLite's stored UTC text of an instant -> that of its New York trading day's start."""
    at = datetime.fromisoformat(stored).replace(tzinfo=timezone.utc)
    return trading_day_start(at).strftime("%Y-%m-%d %H:%M:%S.000000")


def symbol_index(symbol: str) -> int:
    """A small number fixed by the symbol, so its prices are the same in every case."""
    return sum(ord(c) * 31**k for k, c in enumerate(symbol)) % 997


def base_price(symbol: str) -> float:
    """A plausible price level: the catalogue's for known tickers, else spread over 5–900."""
    return KNOWN[symbol][1] if symbol in KNOWN else 5 + (symbol_index(symbol) * 137.0) % 895


def seed_stocks(sessions: sessionmaker[Session], symbols: Sequence[str]) -> None:
    """Watch these symbols and give each a name, a logo and a 52-week band, as the app would."""
    profiles = [
        StockProfile(
            symbol=s,
            company_name=KNOWN[s][0] if s in KNOWN else f"Synthetic {s} Corp.",
            logo_url=logo_path(s),
            week52_high=Decimal(f"{base_price(s) * 1.25:.2f}"),
            week52_low=Decimal(f"{base_price(s) * 0.75:.2f}"),
            source="bench",
            simulated=True,
        )
        for s in symbols
    ]
    with unit_of_work(sessions) as session:
        sync_watchlist(session, list(symbols))
        upsert_profiles(session, profiles, NOW)


def fill(engine: Engine, symbols: Sequence[str], start: datetime, end: datetime, step: int) -> None:
    """Ticks every `step` s in [start, end) for each symbol, then their rollups."""
    t0 = int(start.timestamp())
    t1 = int(end.timestamp()) - step
    # Two chunks on two connections: PostgreSQL fills them on both cores at once.
    # SQLite has one writer, so it gets one chunk.
    workers = 2 if engine.dialect.name == "postgresql" and len(symbols) > 1 else 1
    chunks = [list(symbols[i::workers]) for i in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        for future in [
            pool.submit(_fill_chunk, engine, c, t0, t1, step, start, end) for c in chunks
        ]:
            future.result()
    _analyze(engine)


def _fill_chunk(engine, symbols, t0, t1, step, start, end) -> None:
    params = {
        "symbols": symbols,
        "bases": [base_price(s) for s in symbols],
        "phases": [symbol_index(s) * 0.7 for s in symbols],
        "idx": [float(symbol_index(s)) for s in symbols],
    }
    times = {"t0": t0, "t1": t1, "step": step}
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Only this bench transaction: a lost fill is simply redone.
            connection.execute(text("SET LOCAL synchronous_commit = off"))
            connection.execute(text("SET LOCAL work_mem = '256MB'"))
            price = PRICE.format(t="CAST(k AS float8)", n=NOISE.format(t="CAST(k AS float8)"))
            connection.execute(text(PG_TICKS.format(price=price)), {**params, **times})
            connection.execute(
                text(PG_MINUTES).bindparams(*TIMES),
                {"symbols": symbols, "start": start, "end": end},
            )
            connection.execute(
                text(PG_BARS).bindparams(*TIMES),
                {"symbols": symbols, "start": start, "end": end, "widths": COARSE},
            )
            connection.execute(
                text(PG_DAYS).bindparams(*TIMES), {"symbols": symbols, "start": start, "end": end}
            )
        else:
            values = ", ".join(f"(:s{j}, :b{j}, :p{j}, :i{j})" for j in range(len(symbols)))
            rows = {}
            for j, s in enumerate(symbols):
                rows.update(
                    {
                        f"s{j}": s,
                        f"b{j}": params["bases"][j],
                        f"p{j}": params["phases"][j],
                        f"i{j}": params["idx"][j],
                    }
                )
            price = PRICE.format(t="k", n=NOISE.format(t="k"))
            sql = SQLITE_TICKS.format(values=values, ts=SQLITE_TS, price=price)
            connection.execute(text(sql), {**rows, **times})
            connection.execute(
                text(SQLITE_MINUTES).bindparams(*TIMES), {"start": start, "end": end}
            )
            connection.execute(text(SQLITE_BARS).bindparams(*TIMES), {"start": start, "end": end})
            raw = connection.connection.driver_connection
            raw.create_function("ny_day", 1, _ny_day, deterministic=True)
            connection.execute(text(SQLITE_DAYS).bindparams(*TIMES), {"start": start, "end": end})


def _analyze(engine: Engine) -> None:
    # VACUUM as well: it sets hint bits and the visibility map, as autovacuum would have
    # on a long-running database, so the first timed read does not pay for them.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("VACUUM ANALYZE price_ticks, price_bars, stocks"))
        else:
            connection.execute(text("ANALYZE"))


def delete_after(sessions: sessionmaker[Session], moment: datetime) -> None:
    """Remove ticks and bars at or after `moment` (what a refresh benchmark appended)."""
    with unit_of_work(sessions) as session:
        session.execute(PriceTick.__table__.delete().where(PriceTick.observed_at >= moment))
        session.execute(PriceBar.__table__.delete().where(PriceBar.close_at >= moment))


def table_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Rows per table."""
    with sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Stock, PriceTick, PriceBar)
        }


def verify(sessions: sessionmaker[Session], symbols: Sequence[str], ticks_each: int) -> list[str]:
    """Check that the app's own range queries see exactly the filled 7 days (untimed)."""
    problems = []
    start = NOW - WEEK
    with sessions() as session:
        counts = ticks_in_window(session, symbols, start, NOW)
        wrong = {s: counts.get(s, 0) for s in symbols if counts.get(s, 0) != ticks_each}
        if wrong:
            problems.append(
                f"rollups count {dict(list(wrong.items())[:3])} ticks, "
                f"expected {ticks_each} per stock"
            )
        in_window = session.scalar(
            select(func.count())
            .select_from(PriceTick)
            .where(PriceTick.observed_at >= start, PriceTick.observed_at < NOW)
        )
        if in_window != ticks_each * len(symbols):
            problems.append(
                f"{in_window} ticks in the window, expected {ticks_each * len(symbols)}"
            )
        week = read_window(session, symbols, NOW - WEEK, NOW, 2_000)
        bars = {len(p.times) for p in week.values()}
        if bars != {int(WEEK.total_seconds()) // 300}:
            problems.append(f"a 7-day read gave {sorted(bars)} five-minute bars per stock")
        hour = read_window(session, symbols, NOW - timedelta(hours=1), NOW, 2_000)
        sizes = {len(p.times) for p in hour.values()}
        if sizes != {3600 // TICK}:
            problems.append(
                f"a 1-hour read gave {sorted(sizes)} ticks per stock, expected {3600 // TICK}"
            )
    return problems


def expected_minutes(span: timedelta, step: int) -> int:
    """Rollup rows per stock for ticks every `step` s over `span`."""
    return math.ceil(span.total_seconds() / max(step, 60))
