"""Daily history: years of a provider's daily bars for each watched symbol, written once.

The history job runs it after the intraday backfill, so the ticks' own daily bars
(the last week's) are in first: the provider is asked only for the days before the
first daily bar stored, back to `daily_history_years` (within the daily bars'
retention), and never for today, whose bar the live ticks keep. A provider without
daily history says so once; long ranges then start with the stored prices.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.records import DailyBar
from core.retention import DAY, Retention
from core.times import NEW_YORK, Clock
from db.daily import daily_span, write_daily_bars
from db.engine import unit_of_work
from db.locks import NotLeader
from db.reachability import failure_cause
from db.writes import mark_history
from jobs.failures import ProviderError, Rejection, RejectionKind
from jobs.providers.base import Provider
from jobs.validate import Limits, price_problem
from jobs.write_turns import PricesFirst

log = logging.getLogger(__name__)
# The history job looks every second (a stock just added); a failure waits this long.
RETRY_SECONDS = 30.0


def bar_problem(bar: DailyBar, limits: Limits) -> Rejection | None:
    """Why a daily bar cannot be stored, or None when it can."""
    for name in ("open", "high", "low", "close"):
        problem = price_problem(getattr(bar, name), limits)
        if problem:
            return Rejection(problem[0], bar.symbol, f"{bar.day} {name}: {problem[1]}")
    if not bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high:
        message = f"{bar.day}: low, open, close and high out of order"
        return Rejection(RejectionKind.MALFORMED, bar.symbol, message)
    return None


class DailyHistory:
    """Fills each symbol's daily bars once per process, in a transaction per symbol."""

    def __init__(
        self,
        provider: Provider,
        sessions: sessionmaker[Session],
        years: float,
        retention: Retention,
        limits: Limits,
        clock: Clock,
        fence: Callable[[Session], None] | None = None,
        stopping: threading.Event | None = None,
        turns: PricesFirst | None = None,
    ) -> None:
        self.provider, self.sessions, self.clock, self.fence = provider, sessions, clock, fence
        self.turns = turns
        self.years, self.retention, self.limits = years, retention, limits
        self.stopping = stopping or threading.Event()
        self.done: set[str] = set()
        self._retry_at: dict[str, float] = {}  # symbol ("" for all) -> not before (monotonic)
        self.unavailable = False  # the provider has no daily history: said once

    def fill(self, symbols: Sequence[str]) -> int:
        """Write the daily bars of the symbols not filled yet; how many were new."""
        now = time.monotonic()
        if self.unavailable or self.years <= 0 or now < self._retry_at.get("", 0.0):
            return 0
        pending = [s for s in symbols if s not in self.done and now >= self._retry_at.get(s, 0.0)]
        if not pending:
            return 0
        today = self.clock().astimezone(NEW_YORK).date()
        first = today - timedelta(days=round(self.years * 365.25))
        if (limit := self.retention.limit(DAY)) is not None:
            first = max(first, today - timedelta(days=limit.days))
        try:
            with self.sessions() as session:
                stored = daily_span(session, pending)
        except SQLAlchemyError as exc:
            log.warning("daily history: not read: %s", failure_cause(exc))
            self._retry_at[""] = time.monotonic() + RETRY_SECONDS
            return 0
        written = 0
        for symbol in pending:
            if self.stopping.is_set():
                break
            known = stored.get(symbol)
            last = known[0].astimezone(NEW_YORK).date() - timedelta(days=1) if known else today
            last = min(last, today - timedelta(days=1))
            try:
                written += self._fill_symbol(symbol, first, last)
            except ProviderError as exc:
                log.warning(
                    "daily history: %s: %s (tried again in %.0f s)", symbol, exc, RETRY_SECONDS
                )
                self._retry_at[symbol] = time.monotonic() + RETRY_SECONDS
                continue
            except (SQLAlchemyError, NotLeader) as exc:
                log.warning("daily history: not written: %s", failure_cause(exc))
                self._retry_at[""] = time.monotonic() + RETRY_SECONDS
                return written
            if self.unavailable:
                return written
            self.done.add(symbol)
        return written

    def _fill_symbol(self, symbol: str, first: date, last: date) -> int:
        if last < first:
            return 0
        bars = self.provider.daily_history(symbol, first, last)
        if bars is None:
            log.warning(
                "daily history: %s gives none: long ranges start with the prices stored",
                self.provider.name,
            )
            self.unavailable = True
            return 0
        asked = [b for b in bars if b.symbol == symbol and first <= b.day <= last]
        problems = [bar_problem(b, self.limits) for b in asked]
        valid = [b for b, problem in zip(asked, problems, strict=True) if problem is None]
        if rejected := [p for p in problems if p is not None]:
            log.warning("daily history: left out %d bars: %s", len(rejected), rejected[0])
        if self.turns is not None:
            self.turns.wait()  # a price write first (jobs/write_turns.py)
        with unit_of_work(self.sessions) as session:
            if self.fence is not None:
                self.fence(session)
            written = write_daily_bars(session, valid)
            if written:
                mark_history(session, symbol, self.clock())
        log.info("daily history: %s: %d days from %s to %s", symbol, written, first, last)
        return written
