"""Budgets: the start-up check and its one line, the rate limiter, and the scheduler's pacing."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from core.records import Quote
from jobs.budget import Budget, RateLimiter, Rotation, fit_price_interval
from jobs.failures import Failure, FailureKind, ProviderError
from jobs.poll import Poller
from jobs.providers.alpaca import AlpacaProvider
from jobs.providers.base import Fetched, Provider
from jobs.providers.finnhub import FinnhubProvider
from jobs.providers.twelvedata import TwelveDataProvider
from jobs.scheduler import PollingService
from tests.jobs.helpers import plan, settings

LOCAL = "http://127.0.0.1:9"  # never asked: these tests make no request


class FakeClock:
    """A monotonic clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Paced(Provider):
    """A provider with a budget that answers without a network, and can be paused."""

    name = "paced"

    def __init__(self, budget: Budget | None = None, paused: float = 0.0) -> None:
        self.budget = budget or Budget("paced", per_minute=6, setting="STOCKSTREAMER_PACED_LIMIT")
        self.paused = paused
        self.asked = 0

    def fetch_quotes(self, symbols):
        self.asked += 1
        return Fetched(failures={s: refused(s) for s in symbols})

    def fetch_profiles(self, symbols):
        return self.fetch_quotes(symbols)

    def ready_in(self) -> float:
        return self.paused


def refused(symbol: str) -> Failure:
    return Failure(FailureKind.AUTH, symbol, "paced has no key: set X")


@pytest.fixture
def adapters():
    """Each keyed adapter on its free plan's defaults."""
    made = [
        AlpacaProvider(LOCAL, ("k", "s"), budget=plan("alpaca")),
        FinnhubProvider(LOCAL, ("t",), budget=plan("finnhub")),
        TwelveDataProvider(LOCAL, ("a",), budget=plan("twelvedata")),
    ]
    yield {provider.name: provider for provider in made}
    for provider in made:
        provider.close()


def test_the_free_plans_are_declared(adapters):
    budgets = {name: p.budget for name, p in adapters.items()}
    assert (budgets["alpaca"].per_minute, budgets["alpaca"].symbols_per_request) == (200, 100)
    assert (budgets["finnhub"].per_minute, budgets["finnhub"].symbols_per_request) == (60, 1)
    twelve = budgets["twelvedata"]
    assert (twelve.per_minute, twelve.per_day, twelve.symbols_per_request) == (8, 800, 8)
    assert [b.cost(6) for b in budgets.values()] == [1, 6, 6]
    assert [b.cost(250) for b in budgets.values()] == [3, 250, 250]


def test_six_symbols_every_5s_fit_alpaca_without_a_word(adapters, caplog):
    assert fit_price_interval(adapters["alpaca"].budget, 6, 5.0) == 5.0
    assert caplog.records == []


def test_finnhub_is_stretched_with_one_clear_line(adapters, caplog):
    interval = fit_price_interval(adapters["finnhub"].budget, 6, 5.0)
    assert interval == 6.7  # 6 requests per poll within 90% of 60 a minute
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and "\n" not in record.getMessage()
    assert record.getMessage() == (
        "finnhub allows 60 requests/min, but 6 symbols every 5s would spend 72/min: polling "
        "prices every 6.7s instead (a tenth of the budget is kept for metadata); watch fewer "
        "STOCKSTREAMER_SYMBOLS, set a longer STOCKSTREAMER_PRICE_INTERVAL, or raise "
        "STOCKSTREAMER_FINNHUB_RATE_LIMIT on a paid plan"
    )


def test_twelvedata_is_held_to_its_daily_credits(adapters, caplog):
    assert fit_price_interval(adapters["twelvedata"].budget, 6, 5.0) == 720.0
    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith(
        "twelvedata allows 8 credits/min and 800/day, but 6 symbols every 5s would spend "
        "72/min and 103680/day: polling prices every 720s instead"
    )
    assert message.endswith(
        "raise STOCKSTREAMER_TWELVEDATA_RATE_LIMIT and STOCKSTREAMER_TWELVEDATA_DAILY_LIMIT "
        "on a paid plan"
    )


def test_the_limiter_spaces_requests_within_a_minute():
    clock = FakeClock()
    limiter = RateLimiter(Budget("x", per_minute=3), clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire(1, max_wait=0)
    assert clock.slept == []
    clock.now += 10
    limiter.acquire(1, max_wait=60)  # waits for the first request to leave the window
    assert clock.slept == [50.0]
    limiter.acquire(2, max_wait=0)  # the first three have left the window
    with pytest.raises(ProviderError) as caught:
        limiter.acquire(1, max_wait=59)
    assert caught.value.kind == FailureKind.RATE_LIMITED and caught.value.retry_after == 60.0
    assert clock.slept == [50.0]  # refused at once, not after a wait
    assert str(caught.value) == "x's budget of 3 requests/min is spent for now"
    with pytest.raises(ProviderError, match="more than x allows in a minute"):
        limiter.acquire(4, max_wait=1000)


def test_rotation_starts_one_further_each_time():
    rotation = Rotation()
    orders = [rotation.order(["A", "B", "C"]) for _ in range(4)]
    assert orders == [["A", "B", "C"], ["B", "C", "A"], ["C", "A", "B"], ["A", "B", "C"]]
    assert rotation.order([]) == []


def test_the_service_polls_at_the_stretched_interval(sessions, caplog):
    configured = settings(symbols="AAPL,GE", price_interval=1, history_days=0)
    service = PollingService(configured, sessions, provider=Paced())
    assert service.price_interval == 22.3  # 2 requests per poll within 90% of 6 a minute
    assert "polling prices every 22.3s instead" in caplog.text
    service.start()
    try:
        trigger = service.scheduler.get_job("prices").trigger
        assert trigger.interval == timedelta(seconds=22.3)
    finally:
        service.stop()


def test_a_paused_provider_is_not_asked_and_nothing_is_logged(sessions, caplog):
    provider = Paced(paused=30.0)
    configured = settings(symbols="AAPL,GE", history_days=0)
    service = PollingService(configured, sessions, provider=provider)
    caplog.clear()
    for job in (service._poll_prices, service._fill_history, service._refresh_metadata):
        job()  # the scheduled jobs, run by hand
    assert provider.asked == 0 and caplog.records == []
    provider.paused = 0.0
    service._refresh_metadata()
    assert provider.asked == 0  # metadata waits for the first price run
    service._poll_prices()
    service._refresh_metadata()
    assert provider.asked == 2  # prices, then metadata (due at start)


def test_a_provider_wide_failure_is_one_log_line(sessions, caplog):
    caplog.set_level(logging.WARNING)
    result = Poller(settings(symbols="AAPL,GE,NVDA"), Paced(), sessions).poll_prices()
    assert len(result.failed) == 3
    assert [r.getMessage() for r in caplog.records] == [
        "prices: failed AAPL,GE,NVDA: auth: paced has no key: set X"
    ]


def test_different_failures_are_still_one_line_each(sessions, caplog):
    caplog.set_level(logging.WARNING)

    class Mixed(Paced):
        def fetch_quotes(self, symbols):
            return Fetched(
                items=[Quote("GE", None, None)],
                failures={
                    "AAPL": Failure(FailureKind.TIMEOUT, "AAPL", "slow"),
                    "NVDA": Failure(FailureKind.UNKNOWN_SYMBOL, "NVDA", "no"),
                },
            )

    Poller(settings(symbols="AAPL,GE,NVDA"), Mixed(), sessions).poll_prices()
    assert sorted(r.getMessage() for r in caplog.records) == [
        "prices: failed AAPL: timeout: slow",
        "prices: failed NVDA: unknown_symbol: no",
        "prices: rejected GE: price is missing",
    ]
