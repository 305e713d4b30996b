"""The poller takes up a watchlist edit at its next run, without a restart, on both databases."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sqlalchemy.exc import OperationalError

from db.engine import unit_of_work
from db.watchlist import add_symbol, remove_symbol, watched_symbols
from jobs.outage import capacity_for
from jobs.poll import Poller
from jobs.providers.simulated import SimulatedMarket
from jobs.scheduler import PollingService
from jobs.watching import FollowedWatchlist
from jobs.watchlist_edits import WatchlistEdits
from tests.db.helpers import count_ticks, get_stock
from tests.jobs.helpers import settings, wait_for

NOW = datetime(2026, 12, 1, 18, 30, tzinfo=timezone.utc)
WAIT = 20.0


def test_the_poller_polls_what_the_database_lists_after_its_next_read(sessions):
    clock = [NOW]
    configured = settings(symbols="AAPL,GE", history_days=0.01, outage_buffer_seconds=60)
    poller = Poller(configured, SimulatedMarket(clock=lambda: clock[0]), sessions, lambda: clock[0])
    poller.sync_watchlist()
    assert poller.outage.capacity == capacity_for(60, 5.0, 2)
    assert poller.poll_prices().written == 2
    with unit_of_work(sessions) as session:  # another process edits the list
        add_symbol(session, "MSFT", NOW)
        remove_symbol(session, "GE", NOW)
    clock[0] = NOW + timedelta(seconds=5)
    poller.follow_watchlist()  # the service's job, every second
    result = poller.poll_prices()
    assert result.written == 2 and list(poller.symbols) == ["AAPL", "MSFT"]
    assert poller.outage.capacity == capacity_for(60, 5.0, 2)
    with sessions() as session:
        assert count_ticks(session, "GE") == 1 and count_ticks(session, "MSFT") == 1
    # The stock that joined waits for its metadata and history; the one that left does not.
    assert poller.watchlist.take_profiles() == ["MSFT"] and poller.watchlist.history_due
    poller.backfill()
    assert not poller.watchlist.history_due
    with sessions() as session:
        assert count_ticks(session, "MSFT") >= 14  # 14 minutes of history before its price
    with unit_of_work(sessions) as session:
        add_symbol(session, "NVDA", NOW)
    poller.follow_watchlist()
    assert poller.outage.capacity == capacity_for(60, 5.0, 3)  # the buffer follows the count


def test_an_unreadable_database_keeps_the_list_as_it_was():
    def unreachable():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    followed = FollowedWatchlist(["AAPL", "GE"])
    followed.loaded = True
    assert followed.follow(unreachable) is None
    assert followed.symbols == ("AAPL", "GE")


def test_the_running_poller_takes_up_an_add_and_a_remove_without_a_restart(sessions):
    configured = settings(symbols="AAPL,GE", price_interval=0.2, history_days=0.01)
    service = PollingService(configured, sessions)
    edits = WatchlistEdits(configured, sessions, SimulatedMarket())
    service.start()
    try:
        assert wait_for(lambda: _ticks(sessions, "GE") >= 15, WAIT), "no history, no prices"
        assert edits.add("msft").ok
        # Its history (14 minutes at 60 s), its live prices and its name, all without a restart.
        assert wait_for(lambda: _ticks(sessions, "MSFT") >= 16, WAIT), "MSFT not polled"
        assert wait_for(lambda: _company(sessions, "MSFT") == "Microsoft Corporation", WAIT)
        assert edits.remove("GE").ok
        assert wait_for(lambda: "GE" not in service.poller.symbols, WAIT)
        time.sleep(0.5)  # a run that had fetched GE before the edit may still write it
        stopped_at = _ticks(sessions, "GE")
        apple = _ticks(sessions, "AAPL")
        time.sleep(1.5)
        assert _ticks(sessions, "GE") == stopped_at, "a removed stock is still polled"
        assert _ticks(sessions, "AAPL") > apple
    finally:
        service.stop()
    with sessions() as session:
        assert watched_symbols(session) == ["AAPL", "MSFT"]


def test_the_settings_seed_only_a_new_database(sessions):
    first = PollingService(settings(symbols="AAPL,GE", history_days=0), sessions)
    first.poller.sync_watchlist()
    first.provider.close()
    later = PollingService(settings(symbols="NVDA,TSLA", history_days=0), sessions)
    later.poller.sync_watchlist()  # a restart with other symbols in the settings
    later.provider.close()
    assert list(later.poller.symbols) == ["AAPL", "GE"]
    with sessions() as session:
        assert watched_symbols(session) == ["AAPL", "GE"]


def _ticks(sessions, symbol: str) -> int:
    with sessions() as session:
        return count_ticks(session, symbol)


def _company(sessions, symbol: str) -> str | None:
    with sessions() as session:
        stock = get_stock(session, symbol)
        return stock.company_name if stock is not None else None
