"""The poller's Prometheus metrics, created by the composition root (not at import).

Under gunicorn, PROMETHEUS_MULTIPROC_DIR makes every worker write its values to
files there, and /metrics adds them up; without it they live in this process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
        rejected: dict[str, str],
        failed: dict[str, str],
        seconds: float,
    ) -> None:
        """Add one run's outcome."""
        self.written.inc(written)
        self.duplicates.inc(duplicates)
        for reason in rejected.values():
            self.rejections.labels(reason=reason_kind(reason)).inc()
        for reason in failed.values():
            self.fetch_errors.labels(kind=reason.split(":", 1)[0]).inc()
        self.run_seconds.labels(run=run).observe(seconds)


def reason_kind(reason: str) -> str:
    """A short, bounded label for a rejection reason (no values, so few label sets)."""
    for kind in (
        "missing",
        "not finite",
        "not positive",
        "absurd",
        "future",
        "time zone",
        "malformed",
        "not asked",
        "logo",
        "52-week",
    ):
        if kind in reason:
            return kind.replace(" ", "_")
    return "other"
