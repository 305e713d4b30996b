"""Poll runs: fetch -> validate -> write, with every symbol left out recorded with its reason.

A price run writes its valid items in one transaction (a run with nothing new opens
none); a metadata run writes a batch of METADATA_BATCH symbols per transaction; the
history fill (jobs/backfill.py) writes at most HISTORY_BATCH rows per transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from core.times import Clock, utc_now
from db.engine import unit_of_work
from db.locks import NotLeader
from db.writes import (
    WriteCounts,
    record_previous_closes,
    sync_watchlist,
    upsert_profiles,
    write_quotes,
)
from jobs.backfill import HistoryFill
from jobs.failures import Failure, FailureKind, ProviderError
from jobs.metrics import PollerMetrics
from jobs.outage import OutageBuffer, capacity_for, is_outage
from jobs.providers.base import Provider
from jobs.results import RunResult
from jobs.validate import (
    Limits,
    profile_problem,
    quote_problem,
    split_valid,
    without_bad_previous_closes,
)

log = logging.getLogger(__name__)

# Symbols per metadata fetch and write transaction. A refresh of 500 fetched every profile
# first (23 s for the simulated market's 52-week bands, minutes for a keyed provider at its
# rate) and wrote them all at the end in one transaction; a batch's write takes a few ms, a
# price run fits between two, and names arrive as they come. 100 is the largest request of
# the batched providers (Alpaca, IEX): smaller batches would only add requests.
METADATA_BATCH = 100


class Poller:
    """Runs price, metadata and backfill passes for the watched symbols."""

    def __init__(
        self,
        settings: Settings,
        provider: Provider,
        sessions: sessionmaker[Session],
        clock: Clock = utc_now,
        fence: Callable[[Session], None] | None = None,
        metrics: PollerMetrics | None = None,
    ) -> None:
        self.symbols: Sequence[str] = settings.symbols
        # Checked first in every write transaction: a leader that lost its lock writes nothing.
        self.fence = fence
        self.metrics = metrics
        self.provider = provider
        self.sessions = sessions
        self.clock = clock
        self.limits = Limits(
            max_price=Decimal(str(settings.max_price)),
            max_future_skew=timedelta(seconds=settings.max_future_skew),
        )
        # The last stored observation time per symbol: while the market is closed a provider
        # repeats its last trade, and that write is skipped rather than left to the unique key.
        self._last_stored: dict[str, datetime] = {}
        self.price_interval = settings.price_interval
        # Set by the service's stop(): a history fill or a metadata run ends between batches.
        self.stopping = threading.Event()
        self.history_fill = HistoryFill(
            settings, provider, sessions, self._writing, self.limits, clock, self.stopping
        )
        # Prices fetched while the database cannot take them, written when it is back.
        self.outage = OutageBuffer(
            capacity_for(settings.outage_buffer_seconds, settings.price_interval, len(self.symbols))
            if settings.outage_buffer_seconds > 0
            else 0
        )

    def sync_watchlist(self) -> None:
        """Mark exactly the configured symbols as watched."""
        with self._writing() as session:
            sync_watchlist(session, self.symbols)

    def poll_prices(self) -> RunResult:
        """Fetch the latest prices and store the valid ones."""
        return self._run("prices", self._prices)

    def poll_metadata(self) -> RunResult:
        """Fetch names, logos and 52-week bands and store the valid ones."""
        return self._run("metadata", self._metadata)

    def backfill(self) -> RunResult:
        """Fill each watched symbol's history: all of it for one with none, else the gaps."""
        return self._run("backfill", self.history_fill.run)

    @property
    def gaps_due(self) -> bool:
        """Whether an outage outlasted the buffer and left a gap to fill from history."""
        return self.history_fill.gaps_due

    # -- the passes -------------------------------------------------------------
    def _prices(self, result: RunResult) -> None:
        fetched = self.provider.fetch_quotes(self.symbols)
        result.failed.update(fetched.failures)
        now = self.clock()
        expected = frozenset(self.symbols)
        valid, result.rejected = split_valid(
            fetched.items, lambda q: quote_problem(q, now, self.limits, expected)
        )
        valid, dropped = without_bad_previous_closes(valid, self.limits)
        for symbol, reason in dropped.items():
            log.warning("prices: kept %s without its %s", symbol, reason)
        new = [
            q
            for q in valid
            if self._last_stored.get(q.symbol) != q.observed_at and not self.outage.holds(q)
        ]
        held = list(self.outage.batches())
        counts = WriteCounts()
        if new or held:  # nothing but repeats: no transaction at all
            try:
                with self._writing() as session:
                    for fetched_at, quotes in [*held, (now, new)]:  # oldest first
                        if quotes:
                            batch = write_quotes(session, quotes, fetched_at=fetched_at)
                            counts = WriteCounts(
                                counts.written + batch.written,
                                counts.duplicates + batch.duplicates,
                            )
                    record_previous_closes(session, new)
            except (SQLAlchemyError, NotLeader) as exc:
                # The lock lost with the database is taken again when it is back (see
                # jobs/election.py): until then a fenced write is held like the rest.
                if (isinstance(exc, NotLeader) or is_outage(exc)) and self.outage.capacity:
                    starting = not len(self.outage)
                    self._count_held(self.outage.hold(new, now))
                    if starting:  # one line for the outage; each run's failure is counted
                        log.error(
                            "prices: database unavailable (%s): holding prices until it is "
                            "back (room for %d)",
                            _first_line(exc) if isinstance(exc, SQLAlchemyError) else exc,
                            self.outage.capacity,
                        )
                raise
        # Remembered only once committed; a repeat counts as the duplicate it would have been.
        self._last_stored.update((q.symbol, q.observed_at) for _, qs in held for q in qs)
        self._last_stored.update((q.symbol, q.observed_at) for q in new)
        if self.history_fill.live_from is None and (new or held):
            # This process's first live price: what is stored before it tells a restart's gap.
            self.history_fill.live_from = min(
                q.observed_at for _, qs in [*held, (now, new)] for q in qs
            )
        if held and self.outage.dropped and self.outage.since is not None:
            # The dropped stretch: from the outage's start to the oldest price still held.
            oldest = min(q.observed_at for _, qs in held for q in qs)
            since = self.outage.since - timedelta(seconds=self.price_interval)
            self.history_fill.add_gap(since, oldest)
        if held:
            log.warning(
                "prices: database back: wrote the %d prices held since %s (%d oldest dropped)",
                sum(len(qs) for _, qs in held),
                self.outage.since.isoformat(timespec="seconds") if self.outage.since else "?",
                self.outage.dropped,
            )
            self.outage.clear()
            self._count_held(0)
        result.written = counts.written
        result.duplicates = counts.duplicates + len(valid) - len(new)

    def _count_held(self, dropped: int) -> None:
        if self.metrics is not None:
            self.metrics.held.set(len(self.outage))
            self.metrics.held_dropped.inc(dropped)

    def _metadata(self, result: RunResult) -> None:
        expected = frozenset(self.symbols)
        for first in range(0, len(self.symbols), METADATA_BATCH):
            if self.stopping.is_set():
                return  # the rest keep their old names until the next refresh
            batch = self.symbols[first : first + METADATA_BATCH]
            fetched = self.provider.fetch_profiles(batch)
            result.failed.update(fetched.failures)
            valid, rejected = split_valid(
                fetched.items, lambda p: profile_problem(p, self.limits, expected)
            )
            result.rejected.update(rejected)
            with self._writing() as session:
                written = upsert_profiles(session, valid, refreshed_at=self.clock())
            result.written += written  # counted once committed
            result.settled.update(batch)

    # -- bookkeeping ------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with unit_of_work(self.sessions) as session:
            if self.fence is not None:
                self.fence(session)
            yield session

    def _run(self, kind: str, body: Callable[[RunResult], None]) -> RunResult:
        result = RunResult(kind)
        started = time.perf_counter()
        try:
            body(result)
        except ProviderError as exc:
            result.failed.update(
                (s, exc.failure(s))
                for s in self.symbols
                if s not in result.failed and s not in result.settled
            )
        except NotLeader as exc:
            if kind != "prices" or not len(self.outage):  # held prices: said once already
                log.error("%s: not written, %s", kind, exc)
            self._fail_all(result, FailureKind.NOT_LEADER, str(exc))
        except SQLAlchemyError as exc:
            # The transaction rolled back: nothing of this run is stored, and it is counted.
            reason = f"{type(exc).__name__}: {_first_line(exc)}"
            self._fail_all(result, FailureKind.DATABASE, reason)
            if kind == "prices" and len(self.outage):  # said once when holding began
                log.debug("prices: still holding %d prices: %s", len(self.outage), reason)
            else:
                log.error("%s: batch rolled back, %s: %s", kind, FailureKind.DATABASE, reason)
        result.seconds = time.perf_counter() - started
        for symbol, reason in result.rejected.items():
            log.warning("%s: rejected %s: %s", kind, symbol, reason)
        reasons = {str(failure) for failure in result.failed.values()}
        held = kind == "prices" and len(self.outage) > 0
        # Runs that held their prices were said once, when holding began; they are counted.
        level = logging.DEBUG if held else logging.WARNING
        if len(result.failed) > 1 and len(reasons) == 1:
            # A provider-wide failure (a refused key, a 429) is one line, not one per symbol.
            log.log(level, "%s: failed %s: %s", kind, ",".join(result.failed), reasons.pop())
        else:
            for symbol, reason in result.failed.items():
                log.log(level, "%s: failed %s: %s", kind, symbol, reason)
        log.info(result.summary())
        if self.metrics is not None:
            self.metrics.record(
                kind,
                result.written,
                result.duplicates,
                result.rejected.values(),
                result.failed.values(),
                result.seconds,
            )
        return result

    def _fail_all(self, result: RunResult, kind: FailureKind, message: str) -> None:
        """The open transaction rolled back: every symbol not yet committed failed for this."""
        result.failed.update(
            (s, Failure(kind, s, message)) for s in self.symbols if s not in result.settled
        )


def _first_line(exc: SQLAlchemyError) -> str:
    """The driver's own message, without the SQL and parameters SQLAlchemy appends."""
    text = str(getattr(exc, "orig", None) or exc)
    return (text.strip().splitlines() or [""])[0][:200]
