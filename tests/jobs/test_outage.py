"""Prices fetched while the database is unreachable are held and written when it is back."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from core.records import Quote
from db.deadlines import DatabaseNotAnswering
from db.engine import make_engine, make_session_factory, unit_of_work
from db.migrate import upgrade
from db.models import PriceTick
from db.watchlist import sync_watchlist as set_watchlist
from jobs.failures import FailureKind
from jobs.metrics import PollerMetrics
from jobs.outage import OutageBuffer, capacity_for, is_outage
from jobs.poll import Poller
from jobs.providers.simulated import SimulatedMarket
from tests.jobs import helpers

START = datetime(2026, 11, 25, 18, 30, 0, tzinfo=timezone.utc)
SYMBOLS = ("AAPL", "GE", "NVDA")


def quote(symbol: str, seconds: int) -> Quote:
    return Quote(symbol, Decimal("100"), START + timedelta(seconds=seconds))


# The buffer alone.


def test_the_buffer_keeps_order_and_repeats_once_and_drops_the_oldest_past_its_bound():
    buffer = OutageBuffer(capacity=4)
    assert buffer.hold([quote("AAPL", 0), quote("GE", 0)], START) == 0
    assert buffer.hold([quote("AAPL", 0), quote("AAPL", 5)], START + timedelta(seconds=5)) == 0
    assert len(buffer) == 3 and buffer.holds(quote("AAPL", 0))
    assert buffer.hold([quote("GE", 5), quote("AAPL", 10)], START + timedelta(seconds=10)) == 1
    assert buffer.dropped == 1 and not buffer.holds(quote("AAPL", 0))
    batches = list(buffer.batches())
    assert [fetched for fetched, _ in batches] == [
        START,
        START + timedelta(seconds=5),
        START + timedelta(seconds=10),
    ]
    assert [[q.symbol for q in qs] for _, qs in batches] == [["GE"], ["AAPL"], ["GE", "AAPL"]]
    assert buffer.since == START
    buffer.clear()
    assert len(buffer) == 0 and buffer.dropped == 0 and buffer.since is None


def test_ten_minutes_of_prices_fit_the_default_bound():
    assert capacity_for(600, 5, 6) == 120 * 6
    assert capacity_for(600, 7, 1) == 86  # rounded up: never one price short
    assert capacity_for(1, 5, 0) == 1


def test_only_an_unreachable_database_starts_holding():
    assert is_outage(OperationalError("SELECT 1", {}, Exception("connection refused")))
    # Another block of this process found it hung a moment ago (db/deadlines.py).
    assert is_outage(DatabaseNotAnswering("the database did not answer a moment ago"))
    # A bad row fails again on every retry: it must not keep the other prices waiting.
    assert not is_outage(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_outage(DataError("INSERT", {}, Exception("value too long")))


# A real outage: the database refuses connections, then takes them again.


class Outage:
    """Switch a PostgreSQL database's connections off and on, as an outage does."""

    def __init__(self, admin, url: str) -> None:
        self.admin, self.name = admin, make_url(url).database

    def begin(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": self.name},
            )

    def end(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))


@pytest.fixture
def outage_setup(database_url_factory, postgres_server):
    url = database_url_factory("postgresql")
    upgrade(url)
    engine = make_engine(url)
    outage = Outage(postgres_server.engine, url)
    yield make_session_factory(engine), outage
    outage.end()
    engine.dispose()


def stored_times(sessions, symbol: str) -> list[int]:
    with sessions() as session:
        times = session.scalars(
            select(PriceTick.observed_at)
            .where(PriceTick.symbol == symbol)
            .order_by(PriceTick.observed_at)
        ).all()
    return [round((t.astimezone(timezone.utc) - START).total_seconds()) for t in times]


def polling(sessions, buffer_seconds: float):
    clock = {"now": START}
    registry = CollectorRegistry()
    poller = Poller(
        helpers.settings(
            symbols=",".join(SYMBOLS),
            price_interval=5,
            outage_buffer_seconds=buffer_seconds,
            history_days=60 / 86400,  # the gap is filled; nothing older asked for
        ),
        SimulatedMarket(clock=lambda: clock["now"]),
        sessions,
        clock=lambda: clock["now"],
        metrics=PollerMetrics(registry),
    )

    def run(seconds: int):
        clock["now"] = START + timedelta(seconds=seconds)
        return poller.poll_prices()

    return poller, run, registry


def test_a_minute_long_outage_loses_no_price(outage_setup, caplog):
    sessions, outage = outage_setup
    poller, run, registry = polling(sessions, buffer_seconds=600)
    poller.sync_watchlist()
    assert run(0).written == 3
    outage.begin()
    with caplog.at_level(logging.DEBUG, logger="jobs.poll"):
        for seconds in range(5, 65, 5):  # twelve runs while the database is gone
            result = run(seconds)
            assert result.written == 0 and {f.kind for f in result.failed.values()} == {
                FailureKind.DATABASE
            }
    assert len(poller.outage) == 12 * 3
    assert registry.get_sample_value("stockstreamer_outage_held_prices") == 36
    holding = [r for r in caplog.records if "holding prices" in r.getMessage()]
    assert len(holding) == 1 and holding[0].levelno == logging.ERROR  # one line, not twelve
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="jobs.poll"):
        # A minute on, one reminder, so that a reader of the log sees it is still down.
        assert run(65).written == 0
        for kind in (poller.backfill, poller.poll_metadata):  # the other runs say it once too
            kind()
            kind()
        outage.end()
        back = run(70)
    said = [r.getMessage() for r in caplog.records]
    reminder = [m for m in said if "holding prices" in m]
    assert len(reminder) == 1 and reminder[0].endswith("(room for 360) (for 60 s)")
    assert len([m for m in said if "backfill: database unavailable" in m]) == 1
    assert len([m for m in said if "metadata: database unavailable" in m]) == 1
    assert "prices: the database answers again (after 65 s)" in said
    assert back.written == (13 + 1) * 3 and back.duplicates == 0 and back.failed == {}
    for symbol in SYMBOLS:
        assert stored_times(sessions, symbol) == list(range(0, 75, 5))  # not one second missing
    assert len(poller.outage) == 0
    assert registry.get_sample_value("stockstreamer_outage_held_prices") == 0
    assert run(75).written == 3


def test_an_outage_past_the_bound_drops_the_oldest_and_counts_them(outage_setup, caplog):
    sessions, outage = outage_setup
    poller, run, registry = polling(sessions, buffer_seconds=20)  # four runs of room
    poller.sync_watchlist()
    run(0)
    outage.begin()
    with caplog.at_level(logging.WARNING, logger="jobs.outage"):
        for seconds in range(5, 55, 5):  # ten runs
            run(seconds)
    assert registry.get_sample_value("stockstreamer_outage_dropped_prices_total") == 6 * 3
    assert len([r for r in caplog.records if "buffer full" in r.getMessage()]) == 1
    outage.end()
    assert run(55).written == (4 + 1) * 3
    for symbol in SYMBOLS:
        assert stored_times(sessions, symbol) == [0, 35, 40, 45, 50, 55]
    # The dropped stretch is filled from the provider's history, with the very ticks missed.
    assert poller.gaps_due
    filled = poller.backfill()
    assert filled.written == 6 * 3 and not filled.failed and not poller.gaps_due
    for symbol in SYMBOLS:
        assert stored_times(sessions, symbol) == list(range(0, 60, 5))


# A hung database (SIGSTOP): the cluster is the tests' own (tests/own_postgres.py).


def test_a_hung_database_delays_no_price_run_and_loses_no_price(own_postgres):
    upgrade(own_postgres.url)
    engine = make_engine(own_postgres.url)
    sessions = make_session_factory(engine)
    clock = {"now": START}
    poller = Poller(
        helpers.settings(symbols=",".join(SYMBOLS), price_interval=1, history_days=60 / 86400),
        SimulatedMarket(clock=lambda: clock["now"]),
        sessions,
        clock=lambda: clock["now"],
    )

    def run(seconds: int):
        clock["now"] = START + timedelta(seconds=seconds)
        started = time.monotonic()
        result = poller.poll_prices()
        took = time.monotonic() - started
        time.sleep(max(0.0, 1 - took))  # the next run comes an interval later, as scheduled
        return result, took

    try:
        # The cluster's database is shared by the session's tests: this one's list, exactly.
        with unit_of_work(sessions) as session:
            set_watchlist(session, SYMBOLS)
        poller.sync_watchlist()
        assert run(0)[0].written == 3
        with own_postgres.frozen():
            for seconds in range(1, 5):
                result, took = run(seconds)
                # Each run ends within its interval, so the next second is fetched on time
                # (waiting on the hung server skipped every run until it answered: all lost).
                assert took < 1.0, f"run {seconds} took {took:.1f} s"
                assert result.written == 0 and len(poller.outage) == 3 * seconds
        back, _ = run(5)
        assert back.written == 5 * 3 and back.failed == {}
        for symbol in SYMBOLS:
            assert [t for t in stored_times(sessions, symbol) if 0 <= t < 600] == list(range(6))
    finally:
        engine.dispose()
