"""The scheduler really fires, backfills before the first tick, and leaves no thread behind."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import func, select

from core.times import utc_now
from db.models import PriceBar, PriceTick
from jobs.scheduler import PollingService
from tests.db.helpers import count_ticks, get_stock, watched_stocks
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
        # Metadata is refreshed at start, beside the first price runs.
        assert wait_for(lambda: _company(sessions, "AAPL") == "Apple Inc.", WAIT)
        with sessions() as session:
            stock = get_stock(session, "AAPL")
            assert stock in watched_stocks(session) and stock.simulated
        jobs = {job.id: job for job in service.scheduler.get_jobs()}
        assert set(jobs) == {"prices", "history", "metadata", "watchlist", "retention"}
        assert all(job.max_instances == 1 and job.coalesce for job in jobs.values())
    finally:
        service.stop()
    assert not service.scheduler.running
    time.sleep(0.1)
    assert {t for t in threading.enumerate() if t.is_alive()} - before == set()
    after_stop = _ticks(sessions)
    time.sleep(0.6)
    assert _ticks(sessions) == after_stop, "rows were written after stop()"


def test_live_prices_come_first_and_a_long_history_fill_delays_no_run(sessions, caplog):
    """The first price run does not wait for the history, and runs go on while it fills."""
    configured = settings(symbols="AAPL,GE", price_interval=0.5, history_days=7, backfill_step=60)
    service = PollingService(configured, sessions)
    caplog.set_level(logging.INFO)
    started = time.time()  # log records carry wall-clock times
    service.start()
    try:
        assert wait_for(lambda: _ticks(sessions) >= 2 * 7 * 1440 + 4, WAIT), "no history"
        assert wait_for(lambda: _runs(caplog) >= 3, WAIT)
    finally:
        service.stop()
    records = [r for r in caplog.records if r.name == "jobs.poll"]
    fill = [r for r in records if r.getMessage().startswith("backfill:")]
    runs = [r for r in records if r.getMessage().startswith("prices:")]
    assert fill and runs
    # The first live price is stored within two intervals of the start, history or not.
    assert runs[0].created - started < 2 * 0.5, "the first price run waited"
    assert runs[0].created < fill[0].created, "the price run waited for the history"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    # Both symbols' history reaches back the seven days, before their first live price.
    with sessions() as session:
        assert count_ticks(session, "AAPL") >= 7 * 1440


def _runs(caplog) -> int:
    return sum(1 for r in caplog.records if r.getMessage().startswith("prices:"))


def test_stopping_during_a_long_history_fill_takes_seconds_not_minutes(sessions):
    symbols = ",".join(f"S{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(80))
    configured = settings(symbols=symbols, price_interval=1, history_days=7, backfill_step=60)
    service = PollingService(configured, sessions)
    service.start()
    try:
        assert wait_for(lambda: _ticks(sessions) > 2 * 7 * 1440, WAIT), "no history yet"
    finally:
        began = time.monotonic()
        service.stop()
    # 80 symbols' week take far longer; the fill ends after the symbol it is writing.
    assert time.monotonic() - began < 10
    assert _ticks(sessions) < 80 * 7 * 1440


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


def test_the_elected_service_fills_daily_history_and_removes_old_ticks(sessions):
    """After the minute history, years of daily bars; then retention, in a job of its own."""
    configured = settings(
        symbols="AAPL",
        price_interval=0.5,
        history_days=0.05,  # 72 minutes of history at 60 s
        retain_ticks=0.02,  # 28.8 minutes of ticks kept
        retention_interval=0.5,
        daily_history_years=1,
    )
    service = PollingService(configured, sessions)
    service.start()
    try:
        assert wait_for(lambda: _daily_bars(sessions) >= 365, WAIT), "no daily history"
        cut = lambda: utc_now() - timedelta(days=0.02, seconds=5)
        assert wait_for(lambda: _oldest_tick(sessions) > cut(), WAIT), "old ticks stayed"
        assert _daily_bars(sessions) in (366, 367)  # a year to yesterday, and the ticks' days
    finally:
        service.stop()


def _daily_bars(sessions) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(PriceBar).where(PriceBar.width == 86400)
        return session.scalar(query)


def _oldest_tick(sessions):
    with sessions() as session:
        return session.scalar(select(func.min(PriceTick.observed_at)))
