"""The history fill: a new symbol's week, what came before its first live price, and the gaps.

A gap is the time between a symbol's newest stored price and this process's first live
one (a restart, a deploy, a leader change), or a stretch of an outage whose held prices
were dropped. Rows are written in transactions of at most HISTORY_BATCH, so a price
run never waits long behind one (SQLite has a single writer).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from core.records import Quote
from core.retention import TICKS
from core.settings import Settings
from core.times import Clock
from db.queries import observation_span
from db.writes import mark_history, write_quotes
from jobs.failures import Rejection
from jobs.providers.base import Provider
from jobs.results import RunResult
from jobs.validate import Limits, quote_problem, split_valid

log = logging.getLogger("jobs.poll")  # the fill's lines read as the poller's, as before

# Rows per write transaction. A new symbol's week at the 60 s step is 10,080 rows, which
# held SQLite's one write lock about 0.4 s, and a price run waited that long behind it;
# 1,000 rows (with their bars) commit in about 40 ms on SQLite and on PostgreSQL.
HISTORY_BATCH = 1_000

Span = tuple[datetime, datetime | None]  # a symbol's oldest stored price, its newest before ours


class HistoryFill:
    """Fills each watched symbol's missing history from the provider, in short transactions.

    Whole-or-nothing per symbol is not needed, but contiguity is: what is stored of a
    symbol must reach without a hole from its oldest price to its newest, because the
    next fill looks only before the oldest and after the newest. So history before the
    oldest price is written newest rows first (an interrupted fill leaves the rest
    before the oldest), and a gap oldest rows first (the rest stays after the newest).
    """

    def __init__(
        self,
        settings: Settings,
        symbols: Callable[[], Sequence[str]],
        provider: Provider,
        sessions: sessionmaker[Session],
        writing: Callable[[], AbstractContextManager[Session]],
        limits: Limits,
        clock: Clock,
        stopping: threading.Event,
    ) -> None:
        self._symbols = symbols  # the watchlist as the poller follows it
        self.provider, self.sessions, self._writing = provider, sessions, writing
        self.limits, self.clock = limits, clock
        # History older than the ticks' retention would only be removed again.
        kept = settings.retention.limit(TICKS) or timedelta.max
        self.history = min(timedelta(days=settings.history_days), kept)
        self.backfill_step = settings.backfill_step
        # Longer than two intervals without a price is a gap.
        self.missing = timedelta(seconds=2 * settings.price_interval)
        # Gaps are filled at the provider's finest step, never finer than polling stores.
        self.gap_step = max(provider.history_step, settings.price_interval)
        # The oldest live price this process wrote: the stored ones before it tell a restart's gap.
        self.live_from: datetime | None = None
        self.stopping = stopping  # set by the service's stop(): the fill ends between symbols
        self._gaps: list[tuple[datetime, datetime]] = []  # outage stretches whose prices went
        self._done: set[str] = set()  # symbols whose history before their first price is in
        self._no_history_said = False

    @property
    def symbols(self) -> Sequence[str]:
        """The symbols watched now."""
        return self._symbols()

    def forget(self, symbols: Sequence[str]) -> None:
        """Fill these anew (a stock added back): what came before their first price too."""
        self._done.difference_update(symbols)

    @property
    def gaps_due(self) -> bool:
        """Whether an outage outlasted the buffer and left a gap to fill from history."""
        return bool(self._gaps)

    def add_gap(self, start: datetime, end: datetime) -> None:
        """An outage's stretch whose prices were dropped, for the next fill."""
        self._gaps.append((start, end))

    def run(self, result: RunResult) -> None:
        """Fill every watched symbol: all of its history for one with none, else the gaps."""
        now = self.clock()
        with self.sessions() as session:
            stored = observation_span(session, self.symbols, before=self.live_from)
        gaps, self._gaps = self._gaps, []
        try:
            self._fill(result, now, stored, gaps)
        except BaseException:
            self._gaps = gaps + self._gaps  # tried again with the next fill
            raise

    def _spans(
        self, symbol: str, span: Span | None, now: datetime, gaps: list[tuple[datetime, datetime]]
    ) -> list[tuple[datetime, datetime, float, bool]]:
        """(start, end, step, newest first) of what this symbol misses, from its stored span."""
        earliest = now - self.history
        if span is None:
            return [(earliest, now, self.backfill_step, True)]  # a new symbol: all its history
        oldest, newest = span
        live = self.live_from or now
        after = [(newest, live)] if newest is not None and live - newest > self.missing else []
        spans = [
            (max(a, earliest), b, self.gap_step, False) for a, b in [*gaps, *after] if b > earliest
        ]
        if symbol not in self._done and oldest - earliest > self.missing:
            # Live prices went first (they never wait for history): what came before.
            spans.insert(0, (earliest, oldest, self.backfill_step, True))
        return spans

    def _fill(
        self,
        result: RunResult,
        now: datetime,
        stored: dict[str, Span],
        gaps: list[tuple[datetime, datetime]],
    ) -> None:
        expected = frozenset(self.symbols)
        for symbol in self.symbols:
            if self.stopping.is_set():
                self._gaps = gaps + self._gaps  # for whichever process polls next
                return
            for start, end, step, newest_first in self._spans(
                symbol, stored.get(symbol), now, gaps
            ):
                quotes = self.provider.history(symbol, start, end, step=step)
                if quotes is None:
                    if not self._no_history_said:
                        log.warning(
                            "backfill: %s gives no history: gaps stay until prices arrive",
                            self.provider.name,
                        )
                        self._no_history_said = True
                    return
                valid, rejected = split_valid(
                    quotes, lambda q: quote_problem(q, now, self.limits, expected)
                )
                if rejected:
                    first = next(iter(rejected.values()))
                    message = f"{len(rejected)} history points: {first.message}"
                    result.rejected[symbol] = Rejection(first.kind, symbol, message)
                bars = round(step) if self.provider.history_is_bars else None
                ordered = sorted(valid, key=lambda q: q.observed_at)
                self._write(result, symbol, ordered, now, newest_first, bars)
            self._done.add(symbol)  # asked once per process: a provider's history ends
            result.settled.add(symbol)

    def _write(
        self,
        result: RunResult,
        symbol: str,
        quotes: list[Quote],
        now: datetime,
        newest_first: bool,
        bars: int | None,
    ) -> None:
        if newest_first:  # cut from the newest end, each batch still in time order
            ends = range(len(quotes), 0, -HISTORY_BATCH)
            batches = [quotes[max(0, end - HISTORY_BATCH) : end] for end in ends]
        else:
            starts = range(0, len(quotes), HISTORY_BATCH)
            batches = [quotes[start : start + HISTORY_BATCH] for start in starts]
        for batch in batches:
            with self._writing() as session:
                counts = write_quotes(session, batch, fetched_at=now)
                if counts.written:  # open pages draw it; the hover names a provider's bars
                    mark_history(session, symbol, now, bars)
            result.written += counts.written  # counted once committed
            result.duplicates += counts.duplicates
