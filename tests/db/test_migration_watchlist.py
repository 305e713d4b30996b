"""Revision 0007 moves the watched flag into the watchlist table; its downgrade moves it back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import inspect, text

from db.engine import make_engine, make_session_factory, unit_of_work
from db.migrate import upgrade
from db.watchlist import remove_symbol, watch_entries
from tests.db.helpers import count_ticks, downgrade

T0 = datetime(2026, 11, 30, 15, tzinfo=timezone.utc)
BEFORE = "0005"  # the revision 0007 was written on


def test_existing_watched_stocks_stay_watched_in_symbol_order_and_downgrade_restores(
    database_url_factory, backend
):
    url = database_url_factory(backend)
    upgrade(url, BEFORE)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:  # as the app left it at 0005
            for symbol, watched in (("NVDA", True), ("AAPL", True), ("GE", False), ("INTC", True)):
                connection.execute(
                    text("INSERT INTO stocks (symbol, on_watchlist) VALUES (:s, :w)"),
                    {"s": symbol, "w": watched},
                )
            connection.execute(
                text(
                    "INSERT INTO price_ticks (symbol, observed_at, price, fetched_at) "
                    "VALUES ('GE', :at, 10, :at)"
                ),
                {"at": T0 if backend == "postgresql" else T0.replace(tzinfo=None)},
            )
        upgrade(url)
        assert "on_watchlist" not in {c["name"] for c in inspect(engine).get_columns("stocks")}
        sessions = make_session_factory(engine)
        with sessions() as session:
            entries = watch_entries(session)
            assert [e.symbol for e in entries] == ["AAPL", "INTC", "NVDA"]
            assert [e.position for e in entries] == [0, 1, 2]
            assert count_ticks(session, "GE") == 1  # a stock not watched keeps its prices
        with unit_of_work(sessions) as session:
            remove_symbol(session, "INTC", T0 + timedelta(days=1))

        downgrade(url, BEFORE)
        assert "watchlist" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            watched = connection.execute(
                text("SELECT symbol FROM stocks WHERE on_watchlist ORDER BY symbol")
            ).scalars()
            assert list(watched) == ["AAPL", "NVDA"]
            assert connection.execute(text("SELECT count(*) FROM price_ticks")).scalar() == 1
    finally:
        engine.dispose()
