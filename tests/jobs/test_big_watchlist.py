"""500 new symbols: live prices come first and keep coming while their history and metadata fill.

Not a timing benchmark (bench/bench_watchlist.py is): it asserts the order and that no
price run is starved, with the issue's own bounds (two intervals to the first prices, no
run more than one interval late), which leave ample room on a shared machine: a run of
500 simulated prices takes a tenth of a second.
"""

from __future__ import annotations

import itertools
import logging
import re
import time

from jobs.scheduler import PollingService
from tests.jobs.helpers import settings, wait_for

SYMBOLS = [f"S{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(500)]
# Short, yet two intervals leave room for the first run's cold fetch of 500 prices (0.5 s of
# CPU alone, 1.7 s seen with the machine's load at 9 on its 2 cores).
INTERVAL = 2.0
JITTER = 0.25  # seconds: a run's start as logged, against the scheduler's own times
SUMMARY = re.compile(r"^(prices|backfill|metadata): written=(\d+) .* in (\d+) ms$")


def test_500_new_symbols_get_live_prices_first_and_every_interval_while_the_rest_fills(
    sessions, caplog
):
    # A quarter of a day of history: 361 points each, 180,500 rows, in 500 transactions.
    configured = settings(
        symbols=",".join(SYMBOLS), price_interval=INTERVAL, history_days=0.25, backfill_step=60
    )
    service = PollingService(configured, sessions)
    caplog.set_level(logging.INFO, logger="jobs")
    started = time.time()  # log records carry wall-clock times
    service.start()
    try:
        both = lambda: {"backfill", "metadata"} <= {kind for kind, *_ in _runs(caplog)}
        assert wait_for(both, 240), "the history fill or the metadata run never ended"
        ended = time.time()
        assert wait_for(lambda: _runs(caplog)[-1][1] > ended, 10), "no price run after them"
    finally:
        service.stop()
    runs = _runs(caplog)
    prices = [(at, written) for kind, at, _, written in runs if kind == "prices"]
    # When each run began (its end less its own duration): the scheduler's clock, which a
    # run slower than the one before it does not shift.
    began = [at - seconds for kind, at, seconds, _ in runs if kind == "prices"]
    (fill,) = [(at - seconds, at) for kind, at, seconds, _ in runs if kind == "backfill"]
    (metadata,) = [(at - seconds, at) for kind, at, seconds, _ in runs if kind == "metadata"]
    # The first live prices, every symbol's, are written within two intervals of the start,
    # before any history or metadata run has begun.
    first, written = prices[0]
    assert written == len(SYMBOLS)
    assert first - started <= 2 * INTERVAL, f"first prices {first - started:.1f} s after start"
    assert first <= min(fill[0], metadata[0]), "history or metadata ran before the prices"
    # While both run (they take seconds), no price run is more than one interval late: a
    # start at most two intervals after the one before (one skipped run at worst), give or
    # take the scheduler's and the log clock's jitter.
    until = max(fill[1], metadata[1]) + 2 * INTERVAL
    during = [at for (at, _), start in zip(prices, began, strict=True) if start <= until]
    starts = [start for start in began if start <= until]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert max(gaps) <= 2 * INTERVAL + JITTER, f"a price run came {max(gaps) - INTERVAL:.2f} s late"
    assert during[-1] >= max(fill[1], metadata[1]), "price runs stopped while the rest filled"


def _runs(caplog) -> list[tuple[str, float, float, int]]:
    """(kind, ended at, seconds, rows written) of each run's summary line, in order."""
    found = []
    for record in list(caplog.records):
        match = SUMMARY.match(record.getMessage()) if record.name == "jobs.poll" else None
        if match:
            kind, written, ms = match.groups()
            found.append((kind, record.created, int(ms) / 1000, int(written)))
    return found
