"""Price runs outlasting their interval: one line for a late run, a warning as runs fall behind."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from jobs.metrics import PollerMetrics

log = logging.getLogger("jobs.poll")

# Skipped price runs in a row before the log says prices are falling behind. One late run
# (a history fill holding SQLite's write lock, a busy machine) skips one run and is news
# for the log, not an alarm; three in a row mean the interval is not being kept.
FALLING_BEHIND = 3


class PriceOverruns:
    """Counts price runs skipped because the one before was still going, and says so once."""

    def __init__(
        self,
        interval: float,
        metrics: PollerMetrics | None = None,
        falling_behind: int = FALLING_BEHIND,
    ) -> None:
        self.interval = interval
        self.metrics = metrics
        self.falling_behind = falling_behind
        self.in_a_row = 0  # skipped since the last run that kept its interval
        self._warned = False
        self._lock = threading.Lock()  # skips come from the scheduler's thread, runs from a worker

    def skipped(self, due: datetime | None) -> None:
        """A run due at `due` did not start: the run before it was still going."""
        if self.metrics is not None:
            self.metrics.price_runs_skipped.inc()
        with self._lock:
            self.in_a_row += 1
            count, warn = self.in_a_row, self.in_a_row >= self.falling_behind and not self._warned
            self._warned = self._warned or warn
        if count == 1:
            at = f" due at {due:%H:%M:%S}" if due is not None else ""
            log.info(
                "prices: the run%s was skipped: the run before it outlasted the %s s interval",
                at,
                f"{self.interval:g}",
            )
        if warn:
            log.warning(
                "prices are falling behind: %d runs in a row skipped, each price run outlasts "
                "the %s s interval (a longer STOCKSTREAMER_PRICE_INTERVAL or fewer symbols "
                "would keep up)",
                count,
                f"{self.interval:g}",
            )

    def finished(self, seconds: float) -> None:
        """A price run took `seconds`: within the interval, prices keep up again."""
        if seconds > self.interval:
            return
        with self._lock:
            count, warned = self.in_a_row, self._warned
            self.in_a_row, self._warned = 0, False
        if warned:
            log.info("prices keep up again after %d skipped runs", count)
