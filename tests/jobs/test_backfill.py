"""The history fill in bounded transactions: an interrupted fill leaves no hole behind."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import pairwise

from sqlalchemy import select

from db.models import PriceTick
from jobs.backfill import HISTORY_BATCH
from jobs.failures import FailureKind
from jobs.poll import Poller
from jobs.providers.simulated import SimulatedMarket
from tests.jobs import helpers
from tests.jobs.helpers import CountingFence

NOW = datetime(2026, 11, 25, 18, 30, 0, tzinfo=timezone.utc)
WEEK = 7 * 1440 + 1  # a new symbol's week at the 60 s step, both ends included


def poller(sessions, fence: CountingFence | None = None, symbols: str = "AAPL") -> Poller:
    configured = helpers.settings(
        symbols=symbols, price_interval=5, history_days=7, backfill_step=60
    )
    market = SimulatedMarket(clock=lambda: NOW)
    return Poller(configured, market, sessions, clock=lambda: NOW, fence=fence)


def stored(sessions) -> list[datetime]:
    with sessions() as session:
        return list(session.scalars(select(PriceTick.observed_at).order_by(PriceTick.observed_at)))


def test_a_week_is_written_in_transactions_of_at_most_a_batch(sessions):
    fence = CountingFence()
    first = poller(sessions, fence)
    first.sync_watchlist()
    result = first.backfill()
    assert result.written == WEEK and not result.failed
    assert HISTORY_BATCH <= 1_000 and fence.count == 1 + -(-WEEK // HISTORY_BATCH)
    assert len(stored(sessions)) == WEEK


def test_an_interrupted_fill_leaves_the_newest_rows_and_the_next_process_adds_the_rest(sessions):
    first = poller(sessions, CountingFence(refuse=1 + 3))  # the watchlist, two batches, refused
    first.sync_watchlist()
    result = first.backfill()
    assert result.failed["AAPL"].kind == FailureKind.NOT_LEADER
    assert result.written == 2 * HISTORY_BATCH
    kept = stored(sessions)
    # The newest rows, without a hole: the rest is all before the oldest stored.
    assert kept[-1] == NOW and len(kept) == 2 * HISTORY_BATCH
    assert all(b - a == timedelta(seconds=60) for a, b in pairwise(kept))
    # The next poller (another process, or this one's next look) fills exactly the rest.
    second = poller(sessions).backfill()
    # (The oldest stored price ends the span asked for: one duplicate.)
    assert (second.written, second.duplicates) == (WEEK - 2 * HISTORY_BATCH, 1)
    assert stored(sessions) == [NOW - timedelta(minutes=m) for m in range(WEEK - 1, -1, -1)]


def test_a_failure_after_a_symbol_was_stored_keeps_it_counted(sessions):
    per_symbol = -(-WEEK // HISTORY_BATCH)
    fence = CountingFence(refuse=1 + per_symbol + 1)  # GE's first batch
    first = poller(sessions, fence, symbols="AAPL,GE")
    first.sync_watchlist()
    result = first.backfill()
    assert result.written == WEEK and set(result.failed) == {"GE"}
