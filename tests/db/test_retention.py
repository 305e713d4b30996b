"""Retention's deletes: a bounded batch of one symbol's oldest rows of one level, both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from core.records import Quote
from core.retention import HOUR, MINUTE, TICKS
from db.engine import unit_of_work
from db.models import PriceBar, PriceTick
from db.retention import delete_batch, stored_symbols
from db.watchlist import sync_watchlist
from db.writes import write_quotes

T0 = datetime(2026, 11, 2, 14, 0, tzinfo=timezone.utc)


def seed(sessions) -> list[Quote]:
    quotes = [
        Quote(s, Decimal("10") + k, T0 + timedelta(minutes=k))
        for s in ("AAPL", "GE")
        for k in range(30)
    ]
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL"])  # GE is not watched: its prices age out all the same
        write_quotes(session, quotes, T0)
    return quotes


def test_a_batch_removes_the_oldest_rows_of_one_symbol_and_level_and_no_more(sessions):
    seed(sessions)
    before = T0 + timedelta(minutes=20)
    with unit_of_work(sessions) as session:
        assert stored_symbols(session) == ["AAPL", "GE"]
        assert delete_batch(session, TICKS, "GE", before, batch=8) == 8
        assert delete_batch(session, TICKS, "GE", before, batch=8) == 8
        assert delete_batch(session, TICKS, "GE", before, batch=8) == 4  # the rest before 20 min
        assert delete_batch(session, TICKS, "GE", before, batch=8) == 0
        # A bar goes once all of it is older: the minute from 14:03 is not, until 14:04.
        assert delete_batch(session, MINUTE, "AAPL", T0 + timedelta(minutes=3.5), batch=100) == 3
        assert delete_batch(session, HOUR, "AAPL", T0 + timedelta(minutes=59), batch=100) == 0
        assert delete_batch(session, HOUR, "AAPL", T0 + timedelta(minutes=60), batch=100) == 1
    with sessions() as session:
        ge = session.scalars(select(PriceTick.observed_at).where(PriceTick.symbol == "GE")).all()
        assert sorted(ge) == [T0 + timedelta(minutes=k) for k in range(20, 30)]
        apple = session.scalars(select(PriceTick).where(PriceTick.symbol == "AAPL")).all()
        assert len(apple) == 30  # another symbol's ticks are untouched
        minutes = session.scalars(
            select(PriceBar.start).where(PriceBar.symbol == "AAPL", PriceBar.width == MINUTE)
        ).all()
        assert sorted(minutes) == [T0 + timedelta(minutes=k) for k in range(3, 30)]
        assert not session.scalars(
            select(PriceBar).where(PriceBar.symbol == "AAPL", PriceBar.width == HOUR)
        ).all()
        # GE's bars keep what its removed ticks gave.
        hour = session.scalars(
            select(PriceBar).where(PriceBar.symbol == "GE", PriceBar.width == HOUR)
        ).one()
        assert (hour.open, hour.close, hour.tick_count) == (Decimal("10"), Decimal("39"), 30)
