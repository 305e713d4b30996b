"""The poller's and readiness's reads: each symbol's oldest and newest tick, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from core.records import Quote
from db.engine import unit_of_work
from db.queries import latest_observation, observation_span
from db.watchlist import sync_watchlist
from db.writes import write_quotes

T0 = datetime(2026, 11, 27, 15, 0, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def stored(sessions) -> None:
    """AAPL at 0, 30 and 60 s; GE at 90 s only; NVDA watched without a tick."""
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "GE", "NVDA"])
        quotes = [("AAPL", 0), ("AAPL", 30), ("AAPL", 60), ("GE", 90)]
        write_quotes(session, [Quote(s, Decimal("10"), at(t)) for s, t in quotes], T0)


def test_the_span_is_each_symbol_s_oldest_and_newest_tick(sessions):
    stored(sessions)
    with sessions() as session:
        span = observation_span(session, ["AAPL", "GE", "NVDA"])
        assert span == {"AAPL": (at(0), at(60)), "GE": (at(90), at(90))}
        assert latest_observation(session, ["AAPL", "GE", "NVDA"]) == {
            "AAPL": at(60),
            "GE": at(90),
        }
        assert latest_observation(session, ["GE"]) == {"GE": at(90)}


def test_the_newest_before_a_time_leaves_out_what_came_after_it(sessions):
    # A restarted poller's first live price at 45 s: the gap is after the newest tick before it.
    stored(sessions)
    with sessions() as session:
        span = observation_span(session, ["AAPL", "GE", "NVDA"], before=at(45))
    # GE's only tick is after: its oldest is known, no tick before.
    assert span == {"AAPL": (at(0), at(30)), "GE": (at(90), None)}
