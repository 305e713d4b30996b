"""The watchlist in the database, on PostgreSQL and SQLite: order, seeding, removal, colours."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from core.records import Quote
from db.chart import chart_stocks
from db.engine import unit_of_work
from db.models import Stock, Watchlist
from db.watchlist import (
    add_symbol,
    ever_watched,
    remove_symbol,
    seed_watchlist,
    sync_watchlist,
    watch_entries,
    watched_symbols,
)
from db.writes import write_quotes
from tests.db.helpers import count_ticks

T0 = datetime(2026, 12, 1, 15, tzinfo=timezone.utc)
LATER = T0 + timedelta(hours=1)


def slots(sessions) -> dict[str, int | None]:
    with sessions() as session:
        return dict(session.execute(select(Stock.symbol, Stock.color_slot)).all())


def test_a_new_database_is_seeded_once_and_then_the_database_is_the_truth(sessions):
    with unit_of_work(sessions) as session:
        assert seed_watchlist(session, ["NVDA", "AAPL", "GE"], T0)
    with unit_of_work(sessions) as session:
        # Another list in the settings later changes nothing: the list exists.
        assert not seed_watchlist(session, ["MSFT"], LATER)
        assert watched_symbols(session) == ["AAPL", "GE", "NVDA"]  # seeded in symbol order
    with unit_of_work(sessions) as session:
        for symbol in ("AAPL", "GE", "NVDA"):
            remove_symbol(session, symbol, LATER)
    with unit_of_work(sessions) as session:
        # Emptied is not new: the rows of the removed stocks say it was set up.
        assert not seed_watchlist(session, ["MSFT"], LATER)
        assert watched_symbols(session) == []


def test_an_added_stock_goes_last_and_one_added_back_returns_to_its_place(sessions):
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "GE", "NVDA"], T0)
    with unit_of_work(sessions) as session:
        assert add_symbol(session, "MSFT", LATER)
        assert not add_symbol(session, "AAPL", LATER)  # watched already
        assert remove_symbol(session, "GE", LATER)
        assert not remove_symbol(session, "GE", LATER)  # not watched any more
        assert not remove_symbol(session, "TSLA", LATER)  # never watched
    with sessions() as session:
        assert watched_symbols(session) == ["AAPL", "NVDA", "MSFT"]
        assert ever_watched(session, "GE") and not ever_watched(session, "TSLA")
        removed = session.get(Watchlist, "GE")
        assert removed.removed_at == LATER and removed.added_at == T0
    with unit_of_work(sessions) as session:
        assert add_symbol(session, "GE", LATER + timedelta(minutes=1))
    with sessions() as session:
        assert watched_symbols(session) == ["AAPL", "GE", "NVDA", "MSFT"]
        entry = next(e for e in watch_entries(session) if e.symbol == "GE")
        assert entry.added_at == LATER + timedelta(minutes=1)


def test_removing_keeps_the_prices_and_adding_back_shows_them_again(sessions):
    quotes = [Quote("GE", Decimal("10.5"), T0 + timedelta(seconds=5 * k)) for k in range(4)]
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "GE"], T0)
        write_quotes(session, quotes, T0)
    with unit_of_work(sessions) as session:
        remove_symbol(session, "GE", LATER)
    with sessions() as session:
        assert [s.symbol for s in chart_stocks(session)] == ["AAPL"]
        assert count_ticks(session, "GE") == 4
    with unit_of_work(sessions) as session:
        add_symbol(session, "GE", LATER)
    with sessions() as session:
        assert [s.symbol for s in chart_stocks(session)] == ["AAPL", "GE"]
        assert count_ticks(session, "GE") == 4


def test_an_undo_gets_its_colour_back_unless_another_stock_took_it(sessions):
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "GE", "NVDA"], T0)
    assert [slots(sessions)[s] for s in ("AAPL", "GE", "NVDA")] == [0, 1, 2]
    with unit_of_work(sessions) as session:
        remove_symbol(session, "GE", LATER)
    with unit_of_work(sessions) as session:
        add_symbol(session, "GE", LATER)  # the undo
    assert slots(sessions)["GE"] == 1
    with unit_of_work(sessions) as session:
        remove_symbol(session, "GE", LATER)
        add_symbol(session, "MSFT", LATER)  # takes the free slot 1
    with unit_of_work(sessions) as session:
        add_symbol(session, "GE", LATER + timedelta(minutes=1))
    taken = slots(sessions)
    assert taken["MSFT"] == 1  # the stock watched longer keeps its colour
    assert taken["GE"] == 3  # the lowest slot no watched stock holds
    assert len({taken[s] for s in ("AAPL", "GE", "NVDA", "MSFT")}) == 4


def test_the_page_reads_the_database_order_and_where_history_starts(sessions):
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["NVDA", "AAPL"], T0)
        add_symbol(session, "GE", LATER, history_starts_at=LATER)
    with sessions() as session:
        stocks = chart_stocks(session)
    assert [s.symbol for s in stocks] == ["AAPL", "NVDA", "GE"]
    assert [s.history_starts_at for s in stocks] == [None, None, LATER]
