"""Retention over 400 simulated days on both databases: the tables stop growing, the bars keep
what their ticks gave, and nothing newer than each level's limit is lost."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.records import Quote
from core.retention import DAY, FIVE_MINUTES, HOUR, MINUTE, TICKS, Retention
from db.engine import unit_of_work
from db.locks import NotLeader
from db.models import PriceBar, PriceTick
from db.watchlist import sync_watchlist
from db.writes import write_quotes
from jobs.retention import RetentionPass
from tests.db.helpers import as_reference, count_ticks, reference_bars

START = datetime(2025, 10, 1, 4, 0, tzinfo=timezone.utc)
SYMBOLS = ("AAPL", "GE")
# Ticks and minutes at their defaults; 5-minute and hourly bars cut early so that every
# level is seen to stop growing within 400 days (their default is 5 years).
RETENTION = Retention({TICKS: 30, MINUTE: 365, FIVE_MINUTES: 200, HOUR: 300})
DAYS, EVERY = 400, 5  # a retention pass every 5 simulated days


def day_of_ticks(day: int) -> list[Quote]:
    """Twelve ticks a day per symbol, two hours apart, at a minute that moves every day."""
    base = START + timedelta(days=day, minutes=(day * 7) % 60, seconds=day % 60)
    return [
        Quote(s, Decimal(f"{50 + (day * 13 + k * 5 + i) % 40}.{(day + k) % 100:02d}"), at)
        for i, s in enumerate(SYMBOLS)
        for k in range(12)
        for at in [base + timedelta(hours=2 * k)]
    ]


def bar_counts(session: Session) -> dict[int, int]:
    rows = session.execute(select(PriceBar.width, func.count()).group_by(PriceBar.width)).all()
    return dict(rows)


@pytest.mark.timeout(300)
def test_400_days_of_retention_keep_each_level_to_its_limit(sessions):
    with unit_of_work(sessions) as session:
        sync_watchlist(session, SYMBOLS)
    written: list[Quote] = []
    now = START
    retention = RetentionPass(sessions, RETENTION, batch=50, clock=lambda: now)
    history: list[tuple[int, int, dict[int, int]]] = []  # day, ticks, bars per width
    for day in range(DAYS):
        ticks = day_of_ticks(day)
        with unit_of_work(sessions) as session:
            write_quotes(session, ticks, fetched_at=ticks[-1].observed_at)
        written += ticks
        now = START + timedelta(days=day + 1)
        if day % EVERY == EVERY - 1:
            result = retention.run()
            assert result.finished
            with sessions() as session:
                history.append((day, count_ticks(session), bar_counts(session)))
    assert result.batches > sum(result.removed.values()) // 50  # in bounded batches

    # The tables stop growing once each level's limit is reached (12 ticks a day each).
    def steady(after: int, count) -> set[int]:
        return {count(ticks, bars) for day, ticks, bars in history if day >= after}

    per_pass = 12 * len(SYMBOLS) * EVERY
    assert max(steady(40, lambda t, b: t)) <= 30 * 12 * len(SYMBOLS) + per_pass
    assert max(steady(40, lambda t, b: t)) - min(steady(40, lambda t, b: t)) <= per_pass
    for width, limit in ((MINUTE, 365), (FIVE_MINUTES, 200), (HOUR, 300)):
        counts = steady(limit + 10, lambda t, b, w=width: b[w])
        assert max(counts) - min(counts) <= per_pass, width
        assert max(counts) <= limit * 12 * len(SYMBOLS) + per_pass, width
    assert history[-1][2][DAY] == DAYS * len(SYMBOLS)  # daily bars are kept for good

    # Exactly what each level keeps: nothing newer than its limit lost, nothing older left.
    kept = RETENTION.kept_from(now)
    with sessions() as session:
        stored = session.scalars(
            select(PriceTick).order_by(PriceTick.symbol, PriceTick.observed_at)
        )
        assert [(t.symbol, t.observed_at, t.price) for t in stored] == sorted(
            (q.symbol, q.observed_at, q.price) for q in written if q.observed_at >= kept[TICKS]
        )
        for width in (MINUTE, FIVE_MINUTES, HOUR, DAY):
            # What the ticks gave, all of them, before most were removed.
            # A bar is removed only once all of it is older than the limit.
            expected = {
                key: bar
                for key, bar in reference_bars(written, width).items()
                if kept[width] is None or key[1] + timedelta(seconds=width) > kept[width]
            }
            bars = session.scalars(select(PriceBar).where(PriceBar.width == width))
            assert {(b.symbol, b.start): as_reference(b) for b in bars} == expected, width


def test_a_pass_keeps_everything_within_the_limits_and_a_second_pass_removes_nothing(sessions):
    ticks = [q for day in range(40) for q in day_of_ticks(day)]
    with unit_of_work(sessions) as session:
        sync_watchlist(session, SYMBOLS)
        write_quotes(session, ticks, START)
    now = START + timedelta(days=40)
    retention = RetentionPass(sessions, RETENTION, batch=7, clock=lambda: now)
    first, second = retention.run(), retention.run()
    cut = now - timedelta(days=30)
    assert first.removed == {TICKS: sum(q.observed_at < cut for q in ticks)}
    assert second.removed == {} and second.batches == 2 * 4  # one empty look per symbol, level
    with sessions() as session:
        assert count_ticks(session) == sum(q.observed_at >= cut for q in ticks)
    forever = RetentionPass(sessions, Retention(), batch=7, clock=lambda: now + timedelta(days=999))
    assert forever.run().batches == 0  # nothing is ever removed: not even looked at


def test_a_poller_that_lost_its_lock_deletes_nothing(sessions):
    ticks = [q for day in range(40) for q in day_of_ticks(day)]
    with unit_of_work(sessions) as session:
        sync_watchlist(session, SYMBOLS)
        write_quotes(session, ticks, START)

    def fence(session: Session) -> None:
        raise NotLeader("another process holds the poller lock")

    now = START + timedelta(days=40)
    result = RetentionPass(sessions, RETENTION, 50, lambda: now, fence=fence).run()
    assert not result.finished and result.removed == {}
    with sessions() as session:
        assert count_ticks(session) == len(ticks)
