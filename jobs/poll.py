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
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.settings import Settings
from core.times import Clock, utc_now
from db.deadlines import database_deadline
from db.engine import unit_of_work
from db.locks import NotLeader
from db.reachability import OutageLog
from db.writes import (
    WriteCounts,
    record_previous_closes,
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
from jobs.watching import FollowedWatchlist
from jobs.write_turns import PricesFirst

log = logging.getLogger(__name__)

# A price run's share of its interval for the database to start answering its write.
WRITE_ANSWER = 0.6
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
        # The settings' symbols seed a new database; once loaded, the database's list is polled.
        self.watchlist = FollowedWatchlist(settings.symbols)
        self._buffer_seconds = settings.outage_buffer_seconds
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
        self.turns = PricesFirst()  # price writes before the next batch of any other
        # Each kind of run says a database outage once, when it changes, every minute and
        # when it ends: runs every second must not log every second.
        self._unavailable = {
            kind: OutageLog(log, clock=lambda: self.clock().timestamp(), level=logging.ERROR)
            for kind in ("prices", "metadata", "backfill")
        }
        self.history_fill = HistoryFill(
            settings,
            lambda: self.symbols,
            provider,
            sessions,
            self._writing,
            self.limits,
            clock,
            self.stopping,
        )
        # Prices fetched while the database cannot take them, written when it is back.
        self.outage = OutageBuffer(0)
        self._resize_outage()

    @property
    def symbols(self) -> Sequence[str]:
        """The symbols polled now."""
        return self.watchlist.symbols

    def sync_watchlist(self) -> None:
        """Seed a new database's watchlist from the settings; from now on poll what it lists."""
        with self._writing() as session:
            self.watchlist.load(session, self.clock())
        self._resize_outage()

    def follow_watchlist(self) -> None:
        """Take up an edit of the watchlist once it is loaded (the service asks every second)."""
        change = self.watchlist.follow(self.sessions)
        if change is not None:
            self._resize_outage()
            self.history_fill.forget(change.added)  # one back is filled anew

    def _resize_outage(self) -> None:
        # As many seconds of prices as configured, for as many symbols as are watched now.
        seconds, symbols = self._buffer_seconds, len(self.symbols)
        self.outage.capacity = (
            capacity_for(seconds, self.price_interval, symbols) if seconds > 0 else 0
        )

    def poll_prices(self) -> RunResult:
        """Fetch the latest prices and store the valid ones."""
        return self._run("prices", self._prices)

    def poll_metadata(self, only: Sequence[str] | None = None) -> RunResult:
        """Fetch names, logos and 52-week bands (of all, or `only` these); store the valid ones."""
        return self._run("metadata", lambda result: self._metadata(result, only))

    def backfill(self) -> RunResult:
        """Fill each watched symbol's history: all of it for one with none, else the gaps."""
        return self._run("backfill", self._backfill)

    @property
    def gaps_due(self) -> bool:
        """Whether an outage outlasted the buffer and left a gap to fill from history."""
        return self.history_fill.gaps_due

    # -- the passes -------------------------------------------------------------
    def _prices(self, result: RunResult) -> None:
        asked = self.symbols  # the list may change during the run (jobs/watching.py)
        fetched = self.provider.fetch_quotes(asked)
        result.failed.update(fetched.failures)
        now = self.clock()
        expected = frozenset(asked)
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
                # A hung database fails this run within its interval, so the next runs
                # fetch on time and hold their prices; waiting on it (up to the statement
                # timeout) skipped every run until it answered, and their prices were lost.
                # Only the first round trips are bounded: writing many held prices may
                # take longer than an interval, once the database answers.
                with self._writing(
                    answer_within=WRITE_ANSWER * self.price_interval, prices=True
                ) as session:
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
                    self._count_held(self.outage.hold(new, now))
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

    def _metadata(self, result: RunResult, only: Sequence[str] | None) -> None:
        asked = self.symbols if only is None else only
        expected = frozenset(asked)
        for first in range(0, len(asked), METADATA_BATCH):
            if self.stopping.is_set():
                return  # the rest keep their old names until the next refresh
            batch = asked[first : first + METADATA_BATCH]
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

    def _backfill(self, result: RunResult) -> None:
        joined = self.watchlist.take_history()  # the stocks just added, filled now
        try:
            self.history_fill.run(result)
        except BaseException:
            self.watchlist.history_failed(joined)  # tried again with the next fill
            raise

    # -- bookkeeping ------------------------------------------------------------
    @contextmanager
    def _writing(
        self, answer_within: float | None = None, prices: bool = False
    ) -> Iterator[Session]:
        """One fenced transaction; with `answer_within`, the database must answer its first
        round trips (connection, fence) within that many seconds or the write fails.

        A price write goes first; any other waits while one is on (jobs/write_turns.py).
        """
        if not prices:
            self.turns.wait()
        with (
            self.turns.prices() if prices else nullcontext(),
            unit_of_work(self.sessions) as session,
        ):
            with database_deadline(answer_within) if answer_within else nullcontext():
                session.connection()  # a pooled connection's ping, or a new connection
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
            if kind == "prices" and len(self.outage):  # the lock went with the database
                self._unavailable[kind].failed(self._unavailable_line(kind, str(exc)))
            else:
                log.error("%s: not written, %s", kind, exc)
            self._fail_all(result, FailureKind.NOT_LEADER, str(exc))
        except SQLAlchemyError as exc:
            # The transaction rolled back: nothing of this run is stored, and it is counted.
            reason = f"{type(exc).__name__}: {_first_line(exc)}"
            self._fail_all(result, FailureKind.DATABASE, reason)
            if is_outage(exc):
                self._unavailable[kind].failed(self._unavailable_line(kind, _first_line(exc)))
                log.debug(
                    "%s: still unavailable, %d prices held: %s", kind, len(self.outage), reason
                )
            else:
                log.error("%s: batch rolled back, %s: %s", kind, FailureKind.DATABASE, reason)
        else:
            self._unavailable[kind].recovered(f"{kind}: the database answers again")
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

    def _unavailable_line(self, kind: str, cause: str) -> str:
        """What an outage means for this kind of run, in one line that stays the same."""
        if kind != "prices":
            return f"{kind}: database unavailable ({cause}): tried again at the next run"
        if self.outage.capacity:
            return (
                f"prices: database unavailable ({cause}): holding prices until it is back "
                f"(room for {self.outage.capacity})"
            )
        return (
            f"prices: database unavailable ({cause}): no buffer "
            "(STOCKSTREAMER_OUTAGE_BUFFER_SECONDS=0): the gap is filled from history later"
        )

    def _fail_all(self, result: RunResult, kind: FailureKind, message: str) -> None:
        """The open transaction rolled back: every symbol not yet committed failed for this."""
        result.failed.update(
            (s, Failure(kind, s, message)) for s in self.symbols if s not in result.settled
        )


def _first_line(exc: SQLAlchemyError) -> str:
    """The driver's own message, without the SQL and parameters SQLAlchemy appends."""
    text = str(getattr(exc, "orig", None) or exc)
    return (text.strip().splitlines() or [""])[0][:200]
