"""The in-process poller: an APScheduler 3 BackgroundScheduler, started and stopped by its owner."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta, timezone

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from core.times import utc_now
from db.migrate import require_current_schema
from jobs.budget import fit_price_interval
from jobs.daily_history import DailyHistory
from jobs.metrics import PollerMetrics
from jobs.overrun import PriceOverruns
from jobs.poll import Poller
from jobs.providers.base import Provider
from jobs.providers.registry import build_provider
from jobs.results import RunResult
from jobs.retention import RetentionPass

log = logging.getLogger(__name__)
PRICE_JOB = "poll prices"
HISTORY_JOB, METADATA_JOB = "fill history and gaps", "refresh metadata when due"
WATCHLIST_JOB = "follow the watchlist"
RETENTION_JOB = "remove what retention no longer keeps"


class _ExpectedOverlap(logging.Filter):
    """APScheduler warns when a job is still running at its next time: for the history and
    metadata checks that is expected (a fill can take minutes); for prices PriceOverruns says
    it in the poller's words, and warns only when prices fall behind."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not (
            "maximum number of running instances reached" in text
            and any(
                name in text
                for name in (PRICE_JOB, HISTORY_JOB, METADATA_JOB, WATCHLIST_JOB, RETENTION_JOB)
            )
        )


EXPECTED_OVERLAP = _ExpectedOverlap()


METADATA_RETRY = 60.0  # seconds before a failed metadata refresh is tried again
METADATA_CHECK = 1.0  # seconds between looks at whether metadata is due: names follow prices
HISTORY_CHECK = 1.0  # seconds between looks for history to fill: a stock just added, a gap
HISTORY_RETRY = 30.0  # seconds before a fill that failed (a symbol, the database) is tried again
WATCHLIST_CHECK = 1.0  # seconds between reads of the watchlist: an edit is polled within it
RETENTION_DELAY = 60.0  # seconds after start before the first retention pass: prices first


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
        self.daily_history = DailyHistory(
            self.provider,
            sessions,
            settings.daily_history_years,
            settings.retention,
            self.poller.limits,
            self.poller.clock,
            fence=fence,
            stopping=self.poller.stopping,
            turns=self.poller.turns,
        )
        # Deletes off the hot path, in short transactions: on SQLite a price write waits
        # for one batch at most, and a pause between batches lets it in.
        self.retention = RetentionPass(
            sessions,
            settings.retention,
            settings.retention_batch,
            self.poller.clock,
            fence=fence,
            stopping=self.poller.stopping,
            pause=0.01 if settings.is_sqlite else 0.0,
        )
        # The configured interval, stretched (with one log line) to the provider's budget.
        self.price_interval = fit_price_interval(
            self.provider.budget, len(settings.symbols), settings.price_interval
        )
        self.scheduler = BackgroundScheduler(
            # Prices, history, metadata, the watchlist and retention each have a thread: none
            # of the others ever delays a price run (finding 5 of issue 11: 500 new symbols on
            # SQLite; a read of the watchlist in the price run made it late beside a fill).
            executors={"default": ThreadPoolExecutor(max_workers=5)},
            job_defaults={
                # A slow run never piles up: one instance at a time, missed runs merged.
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": max(1, int(self.price_interval)),
            },
            timezone=timezone.utc,
        )
        self._backfilled = False
        self._history_due_at = 0.0  # due once the first price run is done
        self._metadata_due_at = 0.0  # due at once
        self._prices_tried = threading.Event()
        self.overruns = PriceOverruns(self.price_interval, self.poller.metrics)

    def start(self) -> None:
        """Sync the watchlist, then poll: prices at once, history and metadata beside them.

        Raises SchemaNotCurrent, before anything is written, when the database
        schema is not at the newest revision.
        """
        try:
            require_current_schema(self.sessions)
        except Exception:  # a schema behind, or the database gone: the provider's client too
            self.provider.close()
            raise
        self.poller.sync_watchlist()
        if len(self.poller.symbols) != len(self.settings.symbols):  # the database's list
            self.price_interval = fit_price_interval(
                self.provider.budget, len(self.poller.symbols), self.settings.price_interval
            )
        now = utc_now()
        # Every job is added here: adding jobs from inside a job deadlocks with shutdown().
        # Live prices come first; the history (a new symbol's, then any gap) and the
        # metadata run in jobs and threads of their own, writing in short transactions.
        jobs = (
            (self._poll_prices, "prices", PRICE_JOB, self.price_interval),
            (
                self._fill_history,
                "history",
                HISTORY_JOB,
                min(HISTORY_CHECK, self.price_interval),
            ),
            # An edit made anywhere is polled from the next price run after this read.
            (self.poller.follow_watchlist, "watchlist", WATCHLIST_JOB, WATCHLIST_CHECK),
            (
                self._refresh_metadata,
                "metadata",
                METADATA_JOB,
                min(METADATA_CHECK, self.price_interval),
            ),
        )
        for run, job_id, name, seconds in jobs:  # all first run at once
            self.scheduler.add_job(
                run, id=job_id, name=name, trigger="interval", seconds=seconds, next_run_time=now
            )
        if self.settings.retention.active:
            self.scheduler.add_job(
                self.retention.run,
                id="retention",
                name=RETENTION_JOB,
                trigger="interval",
                seconds=self.settings.retention_interval,
                next_run_time=now
                + timedelta(seconds=min(RETENTION_DELAY, self.settings.retention_interval)),
            )
        logging.getLogger("apscheduler.scheduler").addFilter(EXPECTED_OVERLAP)  # once: same filter
        self.overruns.interval = self.price_interval  # stretched above for the database's list
        self.scheduler.add_listener(self._price_run_skipped, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        log.info(
            "poller started: provider=%s symbols=%s interval=%ss",
            self.provider.name,
            ",".join(self.poller.symbols),
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
        self.poller.stopping.set()  # a history fill or metadata run ends after its current step
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        self.provider.close()
        log.info("poller stopped")

    def _poll_prices(self) -> None:
        if self.provider.ready_in() > 0:
            # It refused the key or sent a 429: no request, and no log line, until it is time.
            return
        started = time.monotonic()
        try:
            self.poller.poll_prices()
        finally:
            self._prices_tried.set()
            self.overruns.finished(time.monotonic() - started)

    def _price_run_skipped(self, event: JobSubmissionEvent) -> None:
        if event.job_id == "prices":
            self.overruns.skipped(max(event.scheduled_run_times, default=None))

    def _fill_history(self) -> None:
        # After the first price run, as metadata: the live prices come first, and the stored
        # prices before this process's first one tell the gap since the last process polled.
        if not self._prices_tried.is_set() or time.monotonic() < self._history_due_at:
            return
        if self.provider.ready_in() > 0:
            return
        poller = self.poller
        if not self._backfilled or poller.gaps_due or poller.watchlist.history_due:
            self._backfilled = not poller.backfill().failed
            if not self._backfilled:
                self._history_due_at = time.monotonic() + HISTORY_RETRY
        if self._backfilled:  # after the ticks' own daily bars: only the days before them
            self.daily_history.fill(poller.symbols)

    def _refresh_metadata(self) -> None:
        # Checked every second, run when due: a failed refresh is retried within a minute
        # instead of leaving the page without names, logos and bands for six hours.
        # After the first price run: it goes first, and it finds out whether the provider
        # takes the key at all (a refused one pauses both).
        if not self._prices_tried.is_set():
            return
        if self.provider.ready_in() > 0:
            return
        if time.monotonic() < self._metadata_due_at:  # not due: only the stocks just added
            joined = self.poller.watchlist.take_profiles()
            if joined and self.poller.poll_metadata(joined).failed:  # all of them soon, then
                soon = time.monotonic() + METADATA_RETRY
                self._metadata_due_at = min(self._metadata_due_at, soon)
            return
        self.poller.watchlist.take_profiles()  # all of them now
        failed = self.poller.poll_metadata().failed
        retry_in = min(METADATA_RETRY, self.settings.metadata_interval)
        again = retry_in if failed else self.settings.metadata_interval
        self._metadata_due_at = time.monotonic() + again
