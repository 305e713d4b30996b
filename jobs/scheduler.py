"""The in-process poller: an APScheduler 3 BackgroundScheduler, started and stopped by its owner."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta, timezone

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from core.times import utc_now
from db.migrate import require_current_schema
from jobs.budget import fit_price_interval
from jobs.metrics import PollerMetrics
from jobs.poll import Poller, RunResult
from jobs.providers.base import Provider
from jobs.providers.registry import build_provider

log = logging.getLogger(__name__)


METADATA_RETRY = 60.0  # seconds before a failed metadata refresh is tried again


class PollingService:
    """Owns a provider, a poller and a scheduler; nothing runs until start()."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        provider: Provider | None = None,
        fence: Callable[[Session], None] | None = None,
        metrics: PollerMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.provider = provider or build_provider(settings)
        self.poller = Poller(settings, self.provider, sessions, fence=fence, metrics=metrics)
        # The configured interval, stretched (with one log line) to the provider's budget.
        self.price_interval = fit_price_interval(
            self.provider.budget, len(settings.symbols), settings.price_interval
        )
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={
                # A slow run never piles up: one instance at a time, missed runs merged.
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": max(1, int(self.price_interval)),
            },
            timezone=timezone.utc,
        )
        self._backfilled = False
        self._first_run_done = threading.Event()
        self._metadata_retry_at: float | None = 0.0  # due on the first run

    def start(self) -> None:
        """Sync the watchlist, then poll: the first run fills the history, then prices and metadata.

        Raises SchemaNotCurrent, before anything is written, when the database
        schema is not at the newest revision.
        """
        try:
            require_current_schema(self.sessions)
        except Exception:  # a schema behind, or the database gone: the provider's client too
            self.provider.close()
            raise
        self.poller.sync_watchlist()
        now = utc_now()
        # Every job is added here: adding jobs from inside a job deadlocks with shutdown().
        # The history fill is a one-off job of its own: it can take longer than a price
        # interval, and a "prices" run falling due while it ran would be skipped by
        # APScheduler with a WARNING (max_instances is checked before coalescing applies).
        self.scheduler.add_job(
            self._first_run,
            id="first run",
            name="fill the history, then poll prices",
            trigger="date",
            run_date=now,
            misfire_grace_time=None,  # however late the scheduler gets to it, it runs
        )
        self.scheduler.add_job(
            self._next_run,
            id="prices",
            name="poll prices",
            trigger="interval",
            seconds=self.price_interval,
            next_run_time=now + timedelta(seconds=self.price_interval),
        )
        self.scheduler.add_job(
            self._refresh_metadata,
            id="metadata",
            name="refresh metadata",
            trigger="interval",
            seconds=self.settings.metadata_interval,
        )
        self.scheduler.start()
        log.info(
            "poller started: provider=%s symbols=%s interval=%ss",
            self.provider.name,
            ",".join(self.settings.symbols),
            self.price_interval,
        )

    def run_once(self) -> RunResult:
        """One price run without the scheduler: sync the watchlist, poll, close the provider."""
        try:
            self.poller.sync_watchlist()
            return self.poller.poll_prices()
        finally:
            self.provider.close()

    def stop(self, wait: bool = True) -> None:
        """Stop the scheduler (waiting for a running job) and close the provider."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        self.provider.close()
        log.info("poller stopped")

    def _first_run(self) -> None:
        try:
            self._poll_prices()
        finally:
            self._first_run_done.set()

    def _next_run(self) -> None:
        # Until the first run is over, a run that falls due is skipped quietly: the first
        # run polls prices itself as soon as the history is in.
        if self._first_run_done.is_set():
            self._poll_prices()

    def _poll_prices(self) -> None:
        if self.provider.ready_in() > 0:
            # It refused the key or sent a 429: no request, and no log line, until it is time.
            return
        if not self._backfilled:
            # History goes in before the first live tick, or a symbol would seem to have some.
            self._backfilled = not self.poller.backfill().failed
        self.poller.poll_prices()
        # After the prices, so that a new leader's first tick is not held up by it.
        if self._metadata_retry_at is not None and time.monotonic() >= self._metadata_retry_at:
            self._refresh_metadata()

    def _refresh_metadata(self) -> None:
        # A failed refresh is retried within a minute instead of leaving the page
        # without names, logos and bands until the next 6-hourly run.
        failed = self.poller.poll_metadata().failed
        retry_in = min(METADATA_RETRY, self.settings.metadata_interval)
        self._metadata_retry_at = time.monotonic() + retry_in if failed else None
