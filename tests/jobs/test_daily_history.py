"""Daily history: the simulated market's (deterministic), Alpaca's through the fake, and the job
that writes it once below the ticks' own daily bars."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from core.market import US_EQUITIES, day_start
from core.retention import DAY, KEEP_EVERYTHING, Retention
from core.times import NEW_YORK
from db.engine import unit_of_work
from db.models import PriceBar
from db.watchlist import sync_watchlist
from db.writes import write_quotes
from jobs.daily_history import DailyHistory
from jobs.providers.alpaca import AlpacaProvider
from jobs.providers.base import Provider
from jobs.providers.finnhub import FinnhubProvider
from jobs.providers.simulated import SimulatedMarket
from jobs.validate import Limits
from tests.fakes.alpaca_server import KEY_ID, SECRET_KEY, FakeAlpaca, bar, daily_bars
from tests.jobs.helpers import keyed_on, serving

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)
alpaca = serving(FakeAlpaca)
provider_of = keyed_on("alpaca", AlpacaProvider, (KEY_ID, SECRET_KEY), clock=lambda: NOW)

DIGEST = """
import hashlib, sys
from datetime import date
from core.market import US_EQUITIES
from jobs.providers.simulated import SimulatedMarket
market = SimulatedMarket(seed=7, market=US_EQUITIES)
bars = market.daily_history("ZQXT", date(2022, 1, 1), date(2024, 12, 31))
print(hashlib.sha256(repr(bars).encode()).hexdigest(), len(bars))
"""


def test_simulated_daily_history_is_the_same_in_every_process_and_agrees_with_its_ticks():
    market = SimulatedMarket(seed=7, market=US_EQUITIES)
    bars = market.daily_history("ZQXT", date(2022, 1, 1), date(2024, 12, 31))
    again = SimulatedMarket(seed=7, market=US_EQUITIES).daily_history(
        "ZQXT", date(2024, 6, 1), date(2024, 6, 30)
    )
    assert again == [b for b in bars if date(2024, 6, 1) <= b.day <= date(2024, 6, 30)]
    done = subprocess.run(
        [sys.executable, "-c", DIGEST], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == [hashlib.sha256(repr(bars).encode()).hexdigest(), str(len(bars))]
    other = SimulatedMarket(seed=8, market=US_EQUITIES).daily_history(
        "ZQXT", date(2024, 6, 1), date(2024, 6, 30)
    )
    assert [b.close for b in other] != [b.close for b in again]
    # Sessions only (251 + 250 + 252 in those years), each from its open to its close, in order.
    assert len(bars) == 753 and all(b.day.weekday() < 5 for b in bars)
    for b in bars[:40]:
        assert b.open == market.quote_at("ZQXT", b.open_at).price
        assert b.close == market.quote_at("ZQXT", b.close_at).price
        assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
        assert b.open_at.astimezone(NEW_YORK).time().isoformat() == "09:30:00"
        assert b.simulated
    assert bars[0].day == date(2022, 1, 3)  # the 1st was a Saturday (New Year observed Fri 31st)


def test_alpaca_daily_bars_are_dated_by_their_new_york_session_across_pages(alpaca, provider_of):
    alpaca.daily["AAPL"] = daily_bars(date(2025, 1, 31), 120, 200.0)
    alpaca.page_size = 25
    bars = provider_of().daily_history("AAPL", date(2024, 11, 1), date(2025, 1, 15))
    sessions = {s.day: s for s in US_EQUITIES.trading_days(date(2024, 11, 1), date(2025, 1, 15))}
    # Weekday bars that are sessions (the fake also sends holidays: no session, left out).
    assert [b.day for b in bars] == sorted(sessions)
    assert all(
        (b.open_at, b.close_at) == (sessions[b.day].opens, sessions[b.day].last_second)
        for b in bars
    )
    pages = alpaca.seen("bars")
    assert len(pages) > 1 and pages[0].query["timeframe"] == ["1Day"]
    assert pages[0].query["start"] == ["2024-11-01T04:00:00Z"]  # New York midnight, summer time
    assert pages[0].query["end"] == ["2025-01-16T04:59:59Z"]  # the 15th's last second, winter


def filler(provider, sessions, years: float = 1.0, retention: Retention = KEEP_EVERYTHING):
    return DailyHistory(provider, sessions, years, retention, Limits(), clock=lambda: NOW)


def ohlc(bar: PriceBar) -> tuple:
    return (bar.start, bar.open, bar.high, bar.low, bar.close, bar.tick_count)


def daily(session) -> list[PriceBar]:
    query = select(PriceBar).where(PriceBar.width == DAY).order_by(PriceBar.symbol, PriceBar.start)
    return list(session.scalars(query))


def test_the_job_fills_the_days_before_the_ticks_once_and_leaves_the_ticks_bars(sessions):
    market = SimulatedMarket(seed=3, clock=lambda: NOW)
    ticks = market.history("AAPL", NOW - timedelta(days=2), NOW, step=600)
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "GE"])
        write_quotes(session, ticks, NOW)
    with sessions() as session:
        ticks_bars = [ohlc(b) for b in daily(session)]  # the 3 New York days the ticks touch
    job = filler(market, sessions)
    written = job.fill(["AAPL", "GE"])
    with sessions() as session:
        stored = daily(session)
    apple = [b for b in stored if b.symbol == "AAPL"]
    ge = [b for b in stored if b.symbol == "GE"]
    today = NOW.astimezone(NEW_YORK).date()
    # GE has no ticks: a year up to yesterday; AAPL up to the day before its first tick's day.
    assert ge[0].start == day_start(today - timedelta(days=365)) and ge[-1].start == day_start(
        today - timedelta(days=1)
    )
    assert [ohlc(b) for b in apple[-3:]] == ticks_bars  # untouched by the provider's days
    before = apple[:-3]
    assert before[-1].start == ticks_bars[0][0] - timedelta(days=1)
    assert written == len(before) + len(ge) == 363 + 365  # to the 24th; to the 26th
    expected = market.daily_history("GE", today - timedelta(days=365), today - timedelta(days=1))
    assert [(b.open, b.high, b.low, b.close, b.open_at, b.close_at) for b in ge] == [
        (e.open, e.high, e.low, e.close, e.open_at, e.close_at) for e in expected
    ]
    assert job.fill(["AAPL", "GE"]) == 0  # once per process
    assert filler(market, sessions).fill(["AAPL", "GE"]) == 0  # and a new one finds them stored


def test_the_daily_bars_retention_bounds_what_is_asked(sessions):
    market = SimulatedMarket(seed=3, clock=lambda: NOW)
    written = filler(market, sessions, years=5, retention=Retention({DAY: 30})).fill(["GE"])
    assert written == 30


def test_a_provider_without_daily_history_says_so_once(sessions, caplog):
    class NoDaily(SimulatedMarket):
        def daily_history(self, symbol, first, last):
            return None

    job = filler(NoDaily(), sessions)
    with caplog.at_level(logging.WARNING):
        assert job.fill(["GE", "AAPL"]) == 0
        assert job.fill(["GE", "AAPL"]) == 0
    said = [r.getMessage() for r in caplog.records if "daily history" in r.getMessage()]
    assert said == ["daily history: simulated gives none: long ranges start with the prices stored"]
    assert FinnhubProvider.daily_history is Provider.daily_history  # Finnhub's: the default, None


def test_bad_alpaca_bars_are_left_out_and_the_rest_written(alpaca, provider_of, sessions):
    alpaca.daily["AAPL"] = daily_bars(date(2026, 11, 25), 20, 200.0)
    alpaca.daily["AAPL"][3] = bar(alpaca.daily["AAPL"][3]["t"], 200, 190, 210, 200)  # high < low
    alpaca.daily["AAPL"][4] = bar(alpaca.daily["AAPL"][4]["t"], 200, 201, -1, 200)
    written = filler(provider_of(), sessions).fill(["AAPL"])
    with sessions() as session:
        stored = daily(session)
    good = [b for i, b in enumerate(alpaca.daily["AAPL"]) if i not in (3, 4)]
    sessions_ = {s.day for s in US_EQUITIES.trading_days(date(2026, 11, 1), date(2026, 11, 26))}
    good = [
        b
        for b in good
        if datetime.fromisoformat(b["t"].replace("Z", "+00:00")).astimezone(NEW_YORK).date()
        in sessions_
    ]
    assert written == len(stored) == len(good) > 10
    assert all(b.low <= b.high and b.low > 0 for b in stored)
    assert {b.close for b in stored} == {
        Decimal(str(round(b["c"], 6))).quantize(Decimal("0.000001")) for b in good
    }
