"""The scheduler really fires, backfills before the first tick, and leaves no thread behind."""

from __future__ import annotations

import logging
import threading
import time

from jobs.scheduler import PollingService
from tests.db.helpers import count_ticks, get_stock
from tests.jobs.helpers import settings, wait_for

WAIT = 15.0


def test_a_sub_second_interval_writes_rows_and_shutdown_leaves_no_thread(sessions):
    before = set(threading.enumerate())
    configured = settings(
        symbols="AAPL,GE", price_interval=0.2, history_days=0.01, backfill_step=60
    )
    service = PollingService(configured, sessions)
    service.start()
    try:
        with sessions() as session:
            backfilled = lambda: count_ticks(session, "AAPL")
            assert wait_for(lambda: backfilled() >= 14, WAIT)  # 14 minutes of history
        start = _ticks(sessions)
        # Live ticks land every whole second (the simulated market's clock), several per run.
        assert wait_for(lambda: _ticks(sessions) >= start + 4, WAIT), "no live rows appeared"
        # Metadata is refreshed right after the first price run.
        assert wait_for(lambda: _company(sessions, "AAPL") == "Apple Inc.", WAIT)
        with sessions() as session:
            stock = get_stock(session, "AAPL")
            assert stock.on_watchlist and stock.simulated
        jobs = {job.id: job for job in service.scheduler.get_jobs()}
        assert set(jobs) == {"prices", "metadata"}
        assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
    finally:
        service.stop()
    assert not service.scheduler.running
    time.sleep(0.1)
    assert {t for t in threading.enumerate() if t.is_alive()} - before == set()
    after_stop = _ticks(sessions)
    time.sleep(0.6)
    assert _ticks(sessions) == after_stop, "rows were written after stop()"


def test_a_history_fill_longer_than_the_interval_skips_no_run_with_a_warning(sessions, caplog):
    """Price runs that fall due while the history fills wait quietly; the fill polls after it."""
    configured = settings(symbols="AAPL,GE", price_interval=0.1, history_days=7, backfill_step=60)
    service = PollingService(configured, sessions)
    caplog.set_level(logging.INFO)
    service.start()
    try:
        assert wait_for(lambda: _ticks(sessions) >= 2 * 7 * 1440 + 4, WAIT), "no live rows"
    finally:
        service.stop()
    messages = [(r.levelno, r.name, r.getMessage()) for r in caplog.records]
    fill = [i for i, (_, _, text) in enumerate(messages) if text.startswith("backfill:")]
    runs = [i for i, (_, _, text) in enumerate(messages) if text.startswith("prices:")]
    assert len(fill) == 1 and runs and fill[0] < runs[0], messages
    # The first price run follows the fill at once, and nothing warned (7 days take > 0.1 s).
    assert caplog.records[runs[0]].created - caplog.records[fill[0]].created < 1
    assert [m for m in messages if m[0] >= logging.WARNING] == []


def test_stopping_before_the_first_run_is_clean(sessions):
    before = set(threading.enumerate())
    service = PollingService(settings(symbols="AAPL", history_days=0), sessions)
    service.start()
    service.stop()
    assert {t for t in threading.enumerate() if t.is_alive()} - before == set()


def _ticks(sessions) -> int:
    with sessions() as session:
        return count_ticks(session)


def _company(sessions, symbol: str) -> str | None:
    with sessions() as session:
        stock = get_stock(session, symbol)
        return stock.company_name if stock else None
