"""A price run outlasting its interval: one info line; a warning only when runs fall behind."""

from __future__ import annotations

import logging
from dataclasses import asdict

from prometheus_client import CollectorRegistry

from jobs.metrics import PollerMetrics
from jobs.scheduler import PollingService
from tests.fakes.iex_server import FakeIEX
from tests.jobs.helpers import iex_settings, serving, wait_for

iex_server = serving(FakeIEX)
INTERVAL = 0.3
SLOW = 0.5  # seconds the fake waits before answering a batch: longer than the interval


def _lines(caplog, level: int) -> list[str]:
    """The price runs' lines at this level (IEX has no history: the fill's warnings aside)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == level
        and r.name in ("jobs.poll", "apscheduler.scheduler")
        and not r.getMessage().startswith("backfill")
    ]


def _slowly(fake: FakeIEX, times: int | None):
    """The fake's own quotes for the two symbols, answered after SLOW seconds."""
    normal = asdict(fake.respond("/stable/stock/market/batch?symbols=AAPL,MSFT&types=quote"))
    return fake.fail(**{**normal, "delay": SLOW, "times": times, "route": "batch"})


def _skipped(caplog) -> list[str]:
    return [line for line in _lines(caplog, logging.INFO) if "was skipped" in line]


def test_one_late_run_is_one_line_and_runs_falling_behind_warn_once(
    iex_server, sessions, database_url, caplog
):
    configured = iex_settings(
        iex_server, ["AAPL", "MSFT"], database_url, price_interval=INTERVAL, history_days=0
    )
    registry = CollectorRegistry()
    service = PollingService(configured, sessions, metrics=PollerMetrics(registry))
    assert service.price_interval == INTERVAL  # not stretched by the provider's budget
    caplog.set_level(logging.INFO)
    # The first batch is the first price run (metadata waits for it): it alone is slow.
    _slowly(iex_server, times=1)
    service.start()
    try:
        assert wait_for(lambda: _skipped(caplog), 10), "no line for the skipped run"
        assert wait_for(lambda: len(iex_server.seen("batch")) >= 6, 10)
        # One late run is news, not an alarm: no warning from the poller or from APScheduler.
        assert _lines(caplog, logging.WARNING) == [], caplog.text
        assert len(_skipped(caplog)) == 1, caplog.text
        assert "outlasted the 0.3 s interval" in _skipped(caplog)[0]

        # Every run slow: each skips the next one, and prices fall behind.
        slow = _slowly(iex_server, times=None)
        behind = lambda: [w for w in _lines(caplog, logging.WARNING) if "falling behind" in w]
        assert wait_for(behind, 15), caplog.text
        skipped_then = registry.get_sample_value("stockstreamer_price_runs_skipped_total")
        assert wait_for(
            lambda: (
                registry.get_sample_value("stockstreamer_price_runs_skipped_total")
                >= skipped_then + 3
            ),
            15,
        )
        assert len(behind()) == 1, caplog.text  # said once, not at every skip
        assert "3 runs in a row skipped" in behind()[0]
        assert "STOCKSTREAMER_PRICE_INTERVAL" in behind()[0]

        slow.times = 0  # the upstream is quick again
        kept_up = lambda: [i for i in _lines(caplog, logging.INFO) if "keep up again" in i]
        assert wait_for(kept_up, 10), caplog.text
    finally:
        service.stop()
    assert not any("maximum number of running instances" in line for line in caplog.messages)
    assert [w for w in _lines(caplog, logging.WARNING) if "falling behind" not in w] == []
