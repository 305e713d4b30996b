"""Gaps in the stored prices (a restart, a deploy, a leader change) filled from the provider."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from db.chart import chart_stocks
from db.models import PriceTick
from jobs.poll import Poller
from jobs.providers.base import Fetched, Provider
from jobs.providers.simulated import SimulatedMarket
from tests.jobs import helpers

START = datetime(2026, 11, 25, 18, 30, 0, tzinfo=timezone.utc)
SYMBOLS = ("AAPL", "GE")


def poller_at(sessions, seconds: int, provider: Provider | None = None) -> Poller:
    """A poller (as a process started `seconds` after START would build) on a fixed clock."""
    at = START + timedelta(seconds=seconds)
    settings = helpers.settings(symbols=",".join(SYMBOLS), price_interval=5, history_days=1)
    return Poller(
        settings, provider or SimulatedMarket(clock=lambda: at), sessions, clock=lambda: at
    )


def stored(sessions, symbol: str) -> dict[int, float]:
    with sessions() as session:
        rows = session.execute(
            select(PriceTick.observed_at, PriceTick.price)
            .where(PriceTick.symbol == symbol, PriceTick.observed_at >= START)
            .order_by(PriceTick.observed_at)
        ).all()
    return {
        round((at.astimezone(timezone.utc) - START).total_seconds()): float(p) for at, p in rows
    }


def test_a_restart_s_gap_is_filled_with_the_ticks_it_missed(sessions):
    before = poller_at(sessions, 0)
    before.sync_watchlist()
    before.backfill()  # the first start: a day of history
    for seconds in (0, 5, 10):
        poller_at(sessions, seconds).poll_prices()
    # Stopped at 10 s, started again at 300 s: 58 intervals without a price.
    after = poller_at(sessions, 300)
    result = after.backfill()
    assert not result.failed and result.written == 58 * len(SYMBOLS)
    market = SimulatedMarket()
    for symbol in SYMBOLS:
        prices = stored(sessions, symbol)
        assert list(prices) == list(range(0, 305, 5))  # every interval, none twice
        # The very prices the poller would have stored, had it run.
        assert prices[150] == float(market.quote_at(symbol, START + timedelta(seconds=150)).price)
    assert after.backfill().written == 0  # nothing missing any more
    with sessions() as session:  # exact ticks: the chart has no bars to mention
        assert {s.history_bar_seconds for s in chart_stocks(session)} == {None}


def test_a_restart_s_gap_is_filled_when_the_first_live_prices_went_before_the_fill(sessions):
    before = poller_at(sessions, 0)
    before.sync_watchlist()
    before.backfill()
    for seconds in (0, 5, 10):
        poller_at(sessions, seconds).poll_prices()
    # Started again at 300 s: its live prices come first, then the fill looks for the gap.
    after = poller_at(sessions, 300)
    after.poll_prices()
    result = after.backfill()
    assert not result.failed and result.written == 57 * len(SYMBOLS)  # 15 s … 295 s
    for symbol in SYMBOLS:
        assert list(stored(sessions, symbol)) == list(range(0, 305, 5))


def test_no_gap_no_request(sessions):
    poller = poller_at(sessions, 0)
    poller.sync_watchlist()
    poller.backfill()
    poller.poll_prices()
    calls = []

    class Counting(SimulatedMarket):
        def history(self, symbol, start, end, step=60.0):
            calls.append(symbol)
            return super().history(symbol, start, end, step)

    at = START + timedelta(seconds=5)
    assert poller_at(sessions, 5, Counting(clock=lambda: at)).backfill().written == 0
    assert calls == []


class NoHistory(Provider):
    name = "no-history"

    def fetch_quotes(self, symbols):
        return Fetched([], {})

    def fetch_profiles(self, symbols):
        return Fetched([], {})


def test_a_provider_without_history_says_so_once(sessions, caplog):
    poller = poller_at(sessions, 0, NoHistory())
    poller.sync_watchlist()
    with caplog.at_level(logging.WARNING, logger="jobs.poll"):
        poller.backfill()
        poller.backfill()
    said = [r for r in caplog.records if "gives no history" in r.getMessage()]
    assert len(said) == 1 and "no-history" in said[0].getMessage()
