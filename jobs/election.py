"""Exactly one poller per deployment: every process runs an election, only the lock holder polls.

A background thread tries the lock every `check_interval` seconds; the holder
starts a PollingService whose writes are fenced by the lock, and stops it at
once when another process holds the lock. A lock lost with the database itself
(the server down or unreachable: nobody can hold it or write) does not stop the
leader: it keeps fetching, holds the prices (jobs/outage.py) and takes the lock
again when the database is back, then writes them. With check_interval at most
half the price interval, a dead leader is replaced within two price intervals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from db.locks import PollerLock, poller_lock
from db.migrate import SchemaNotCurrent
from db.reachability import OutageLog, failure_cause
from jobs.metrics import PollerMetrics
from jobs.scheduler import PollingService

log = logging.getLogger(__name__)


class ElectedPoller:
    """Runs `make_service()` only while this process holds `lock`."""

    def __init__(
        self,
        lock: PollerLock,
        make_service: Callable[[PollerLock], PollingService],
        check_interval: float,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self._lock = lock
        self._make_service = make_service
        self._interval = check_interval
        self._on_change = on_change or (lambda leading: None)
        self._service: PollingService | None = None
        self._stop = threading.Event()
        self._complained_at = -1e9
        self._outage = OutageLog(log)
        self._thread: threading.Thread | None = None
        self._cut_off = False  # leading, the lock lost with the database: polling on

    @property
    def is_leader(self) -> bool:
        """Whether this process is polling now."""
        return self._service is not None

    def start(self) -> None:
        """Start campaigning in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._campaign, name="poller-election", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop polling (if leading), release the lock and end the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        self._step_down(wait=True)
        self._lock.release()

    def _campaign(self) -> None:
        while not self._stop.is_set():
            try:
                if self._service is None:
                    if self._lock.try_acquire():
                        self._take_over()
                elif not self._lock.still_held():
                    self._lost()
            except DBAPIError as exc:
                # Expected in an outage, said once, no traceback. It comes from a take-over
                # (no service runs yet); a leader polls on through an outage (see _lost).
                self._outage.failed(f"poller election: the database failed ({failure_cause(exc)})")
            except Exception:  # the election must outlive any one failure
                log.exception("poller election step failed")
                self._step_down()
            self._stop.wait(self._interval)

    def _lost(self) -> None:
        """The lock is gone: take it again, poll on through an outage, or step down."""
        if self._lock.try_acquire():
            if self._cut_off:
                log.warning("poller lock taken again: the database is back, held prices follow")
            self._cut_off = False
        elif self._lock.unreachable:
            if not self._cut_off:
                log.error(
                    "poller lock lost with the database: polling on and holding prices "
                    "until it is back"
                )
            self._cut_off = True
        else:
            log.error("poller lock lost: another process polls now; this one stops")
            self._cut_off = False
            self._step_down()

    def _take_over(self) -> None:
        service = self._make_service(self._lock)
        try:
            service.start()
        except SchemaNotCurrent as exc:
            # Let another process (perhaps of the new release) have the lock, and say so
            # once a minute rather than on every try.
            self._lock.release()
            if time.monotonic() - self._complained_at > 60:
                log.error("the poller does not start: %s", exc)
                self._complained_at = time.monotonic()
            return
        self._service = service
        self._outage.recovered("poller election: the database answers again")
        log.info("this process is now the poller")
        self._on_change(True)

    def _step_down(self, wait: bool = False) -> None:
        service, self._service = self._service, None
        if service is not None:
            if held := len(service.poller.outage):
                # The new leader's run after its start covers them (and writes are idempotent).
                log.warning("%d held prices not written: this process no longer polls", held)
            # On a lost lock, no wait: a write in flight is fenced and rolls back by itself.
            service.stop(wait=wait)
            self._on_change(False)
            log.info("this process no longer polls")


def build_election(
    settings: Settings, sessions: sessionmaker[Session], metrics: PollerMetrics | None = None
) -> ElectedPoller:
    """An election for this deployment's database, polling with fenced writes when it wins."""

    def make_service(lock: PollerLock) -> PollingService:
        return PollingService(settings, sessions, fence=lock.fence, metrics=metrics)

    def on_change(leading: bool) -> None:
        if metrics is not None:
            metrics.is_poller.set(1 if leading else 0)

    lock = poller_lock(
        settings.database_url,
        connect_timeout=settings.db_connect_timeout,
        statement_timeout=settings.db_statement_timeout,
    )
    return ElectedPoller(lock, make_service, settings.election_interval, on_change)
