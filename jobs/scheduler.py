"""The in-process poller: an APScheduler 3 BackgroundScheduler, started and stopped by its owner."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from db.settings import Settings
from jobs.poll import Poller
from jobs.providers.base import Provider
from jobs.providers.registry import build_provider

log = logging.getLogger(__name__)


class PollingService:
    """Owns a provider, a poller and a scheduler; nothing runs until start()."""

    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], provider: Provider | None = None
    ) -> None:
        self.settings = settings
        self.provider = provider or build_provider(settings)
        self.poller = Poller(settings, self.provider, sessions)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={
                # A slow run never piles up: one instance at a time, missed runs merged.
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": max(1, int(settings.price_interval)),
            },
            timezone=timezone.utc,
        )

    @property
    def running(self) -> bool:
        """Whether the scheduler is started."""
        return self.scheduler.running

    def start(self) -> None:
        """Sync the watchlist, then backfill and refresh metadata once, then poll on intervals."""
        self.poller.sync_watchlist()
        self.scheduler.add_job(
            self._startup, id="startup", name="backfill and first metadata", trigger="date",
            run_date=datetime.now(timezone.utc),
        )
        self.scheduler.start()
        log.info(
            "poller started: provider=%s symbols=%s interval=%ss",
            self.provider.name, ",".join(self.settings.symbols), self.settings.price_interval,
        )

    def stop(self, wait: bool = True) -> None:
        """Stop the scheduler (waiting for a running job) and close the provider."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        self.provider.close()
        log.info("poller stopped")

    def _startup(self) -> None:
        # History goes in before the first live tick, or a symbol would look as if it had history.
        try:
            self.poller.backfill()
            self.poller.poll_metadata()
        finally:
            self._schedule_intervals()

    def _schedule_intervals(self) -> None:
        now = datetime.now(timezone.utc)
        self.scheduler.add_job(
            self.poller.poll_prices, id="prices", name="poll prices", trigger="interval",
            seconds=self.settings.price_interval, next_run_time=now,
        )
        self.scheduler.add_job(
            self.poller.poll_metadata, id="metadata", name="refresh metadata", trigger="interval",
            seconds=self.settings.metadata_interval,
        )
