"""The simulated market: deterministic, realistic, consistent between history and live."""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from core.market import ALWAYS_OPEN, US_EQUITIES
from core.settings import DEFAULT_SYMBOLS
from jobs.providers.simulated import SimulatedMarket
from jobs.providers.simulated_catalog import KNOWN, logo_file
from jobs.validate import Limits, profile_problem, quote_problem

NOW = datetime(2026, 11, 25, 18, 30, 7, 123456, tzinfo=timezone.utc)  # a Wednesday
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "logos"


def market(seed: int = 7, hours: str = "always", now: datetime = NOW) -> SimulatedMarket:
    hours_of = {"always": ALWAYS_OPEN, "us": US_EQUITIES}
    return SimulatedMarket(seed=seed, market=hours_of[hours], clock=lambda: now)


def test_the_same_seed_gives_the_same_market_and_another_seed_another():
    symbols = ["AAPL", "GE", "ZZZZ"]
    a = market(1).fetch_quotes(symbols).items
    assert a == market(1).fetch_quotes(symbols).items
    assert [q.price for q in a] != [q.price for q in market(2).fetch_quotes(symbols).items]


def test_quotes_are_valid_simulated_and_timed_to_the_second():
    fetched = market().fetch_quotes([*DEFAULT_SYMBOLS, "XYZ", "BRK.B"])
    assert not fetched.failures
    for quote in fetched.items:
        assert quote.simulated
        assert quote.observed_at == NOW.replace(microsecond=0)
        assert quote.price == quote.price.quantize(Decimal("0.01"))
        assert quote_problem(quote, NOW, Limits(), frozenset([quote.symbol])) is None


def test_known_tickers_trade_near_their_usual_price():
    for quote in market().fetch_quotes(list(KNOWN)).items:
        base = KNOWN[quote.symbol][1]
        assert base / 3 < float(quote.price) < base * 3, quote


def test_history_agrees_with_live_prices_and_moves_at_a_realistic_scale():
    sim = market()
    start = NOW - timedelta(days=7)
    history = sim.history("NVDA", start, NOW, step=60)
    assert len(history) == 7 * 24 * 60
    assert all(start <= q.observed_at <= NOW for q in history)
    for quote in history[::997]:
        assert sim.quote_at("NVDA", quote.observed_at) == quote
    prices = [float(q.price) for q in history]
    minute_returns = [math.log(b / a) for a, b in pairwise(prices)]
    yearly = statistics.pstdev(minute_returns) * math.sqrt(365 * 24 * 60)
    # NVDA is configured at 50% a year; cent rounding adds a little noise.
    assert 0.35 < yearly < 0.75
    assert len(set(prices)) > 1000  # it moves


def test_consecutive_seconds_differ_but_only_slightly():
    sim = market()
    prices = [sim.quote_at("AAPL", NOW + timedelta(seconds=i)).price for i in range(120)]
    assert len(set(prices)) > 10
    assert max(abs(b - a) / a for a, b in pairwise(prices)) < Decimal("0.005")


def test_profiles_have_a_band_that_contains_recent_prices_and_a_shipped_logo():
    sim = market()
    for profile in sim.fetch_profiles([*DEFAULT_SYMBOLS, "QQQQ"]).items:
        assert profile_problem(profile, Limits(), frozenset([profile.symbol])) is None
        assert profile.simulated and profile.source == "simulated"
        assert profile.week52_low < profile.week52_high
        history = sim.history(profile.symbol, NOW - timedelta(days=7), NOW, step=600)
        assert all(profile.week52_low <= q.price <= profile.week52_high for q in history)
        assert profile.logo_url == f"/assets/logos/{logo_file(profile.symbol)}"
        assert (ASSETS / logo_file(profile.symbol)).is_file()
    assert sim.fetch_profiles(["AAPL"]).items[0].company_name == "Apple Inc."


@pytest.mark.parametrize("symbol", sorted(KNOWN))
def test_every_known_ticker_has_its_monogram(symbol):
    svg = (ASSETS / logo_file(symbol)).read_text()
    assert svg.startswith("<svg") and f">{symbol}</text>" in svg


def test_us_hours_repeat_the_last_trade_outside_the_session():
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=timezone.utc)
    sim = market(hours="us", now=saturday)
    # The day after Thanksgiving is a half day: the session closes at 13:00 New York.
    friday_close = datetime(2026, 11, 27, 17, 59, 59, tzinfo=timezone.utc)  # 12:59:59 New York
    (quote,) = sim.fetch_quotes(["AAPL"]).items
    assert quote.observed_at == friday_close
    assert sim.market.is_open(datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc))  # 10:00 New York
    nine_new_york = datetime(2026, 11, 27, 14, 0, tzinfo=timezone.utc)
    assert not sim.market.is_open(nine_new_york)
    history = sim.history("AAPL", saturday - timedelta(days=7), saturday, step=60)
    assert history and all(sim.market.is_open(q.observed_at) for q in history)
    # around the clock by default: a Saturday trades
    assert market(now=saturday).fetch_quotes(["AAPL"]).items[0].observed_at == saturday


def test_the_simulated_market_gives_no_previous_close():
    # The page falls back to the last stored price before the session's open.
    assert all(q.previous_close is None for q in market().fetch_quotes(["AAPL", "XYZ"]).items)
