"""The poller's Prometheus metrics, created by the composition root (not at import).

Under gunicorn, PROMETHEUS_MULTIPROC_DIR makes every worker write its values to
files there, and /metrics adds them up; without it they live in this process.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from jobs.failures import Failure, Rejection

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class PollerMetrics:
    """Counters and histograms a poll run updates."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.written = Counter(
            "stockstreamer_prices_written", "Price observations stored.", registry=registry
        )
        self.duplicates = Counter(
            "stockstreamer_duplicates_skipped",
            "Observations already stored, skipped.",
            registry=registry,
        )
        self.rejections = Counter(
            "stockstreamer_rejections",
            "Values refused by validation, by reason.",
            ["reason"],
            registry=registry,
        )
        self.fetch_errors = Counter(
            "stockstreamer_fetch_errors",
            "Symbols a fetch could not get, by kind of failure.",
            ["kind"],
            registry=registry,
        )
        self.run_seconds = Histogram(
            "stockstreamer_poll_run_seconds",
            "Duration of one poll run (fetch, validate, write), by kind of run.",
            ["run"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.price_runs_skipped = Counter(
            "stockstreamer_price_runs_skipped",
            "Price runs not started because the run before was still going at their time.",
            registry=registry,
        )
        self.held = Gauge(
            "stockstreamer_outage_held_prices",
            "Prices fetched while the database could not take them, waiting to be written.",
            registry=registry,
            multiprocess_mode="livemax",
        )
        self.held_dropped = Counter(
            "stockstreamer_outage_dropped_prices",
            "Held prices dropped, oldest first, because the outage outlasted the buffer.",
            registry=registry,
        )
        self.is_poller = Gauge(
            "stockstreamer_is_poller",
            "1 in the process that holds the poller lock.",
            registry=registry,
            multiprocess_mode="livemax",
        )

    def record(
        self,
        run: str,
        written: int,
        duplicates: int,
        rejected: Iterable[Rejection],
        failed: Iterable[Failure],
        seconds: float,
    ) -> None:
        """Add one run's outcome; each label is a kind's value (a few, never a value seen)."""
        self.written.inc(written)
        self.duplicates.inc(duplicates)
        for rejection in rejected:
            self.rejections.labels(reason=rejection.kind.value).inc()
        for failure in failed:
            self.fetch_errors.labels(kind=failure.kind.value).inc()
        self.run_seconds.labels(run=run).observe(seconds)
