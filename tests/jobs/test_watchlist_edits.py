"""The watchlist's checks, on both databases: each refused input, and nothing written then."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.records import Quote
from db.engine import make_engine, make_session_factory, unit_of_work
from db.migrate import upgrade
from db.watchlist import take_edit_turn, watch_entries, watched_symbols
from db.writes import write_quotes
from jobs.providers.finnhub import FinnhubProvider
from jobs.providers.simulated import SimulatedMarket
from jobs.watchlist_edits import WatchlistEdits, format_problem, normalise, symbols_that_fit
from tests.db.helpers import count_ticks, stored_rows
from tests.fakes.finnhub_server import TOKEN, FakeFinnhub
from tests.jobs.helpers import keyed_on, plan, serving, settings

NOW = datetime(2026, 12, 1, 15, tzinfo=timezone.utc)

finnhub = serving(FakeFinnhub)
finnhub_of = keyed_on("finnhub", FinnhubProvider, (TOKEN,))


def edits_on(sessions, lookups=None, **overrides) -> WatchlistEdits:
    configured = settings(**{"symbols": "AAPL,GE", **overrides})
    return WatchlistEdits(configured, sessions, lookups or SimulatedMarket(), clock=lambda: NOW)


def stored(sessions) -> tuple[list, list]:
    with sessions() as session:
        return (
            stored_rows(session, "watchlist", "symbol"),
            stored_rows(session, "stocks", "symbol"),
        )


def test_a_symbol_is_trimmed_and_upper_cased_and_its_format_checked():
    assert normalise("  brk.b ") == "BRK.B"
    assert format_problem(" aapl ") is None and format_problem("BF-B") is None
    assert format_problem("   ") == "Type a symbol, such as AAPL"
    for bad in ("A$B", "1ABC", "TOOLONGSYM", "AB..C", "ÄPPL"):
        assert format_problem(bad).startswith(f'"{normalise(bad)}" is not a ticker symbol')
    assert "…" in format_problem("X" * 100)  # a long input is cut, not echoed whole


def test_an_add_and_a_remove_are_written_and_said(sessions):
    edits = edits_on(sessions)
    added = edits.add("  msft ")
    assert (added.ok, added.message, added.symbol, added.reason) == (True, "Added MSFT", "MSFT", "")
    assert not added.history_starts_now  # the simulated market fills a week of history
    removed = edits.remove("ge")
    assert removed.ok and removed.message == "Removed GE; its prices are kept"
    with sessions() as session:
        assert watched_symbols(session) == ["AAPL", "MSFT"]
    assert [e.symbol for e in edits.entries()] == ["AAPL", "MSFT"]


@pytest.mark.parametrize(
    ("action", "text", "reason", "message"),
    [
        ("add", "a$b", "malformed", '"A$B" is not a ticker symbol'),
        ("add", "", "malformed", "Type a symbol, such as AAPL"),
        ("add", " aapl", "watched", "AAPL is already on the watchlist"),
        ("add", "ZZZZ", "unknown", "ZZZZ: simulated knows no such symbol"),
        ("remove", "MSFT", "not_watched", "MSFT is not on the watchlist"),
        ("remove", "$$", "malformed", '"$$" is not a ticker symbol'),
    ],
)
def test_each_refused_input_says_why_in_one_line_and_writes_nothing(
    sessions, action, text, reason, message
):
    edits = edits_on(sessions)
    edits.entries()  # the seeded list
    before = stored(sessions)
    result = getattr(edits, action)(text)
    assert not result.ok and result.reason == reason
    assert result.message.startswith(message) and "\n" not in result.message
    assert stored(sessions) == before


def test_a_full_watchlist_refuses_one_more(sessions):
    edits = edits_on(sessions, max_symbols=3)
    assert edits.add("MSFT").ok
    before = stored(sessions)
    full = edits.add("NVDA")
    assert (full.ok, full.reason) == (False, "full")
    assert full.message == (
        "NVDA: the watchlist is full (3 of 3 symbols, STOCKSTREAMER_MAX_SYMBOLS); remove one first"
    )
    assert stored(sessions) == before


def test_the_provider_budget_says_how_many_fit(sessions, finnhub, finnhub_of):
    # 60 requests a minute, 90% of it for prices, one request per symbol every 5 s: 4 fit.
    assert symbols_that_fit(plan("finnhub"), 5.0, 30) == 4
    assert symbols_that_fit(plan("finnhub"), 10.0, 30) == 9
    assert symbols_that_fit(None, 5.0, 30) == 30
    edits = edits_on(sessions, finnhub_of(), symbols="AAPL,GE,NVDA,MSFT", provider="finnhub")
    edits.entries()
    before = stored(sessions)
    over = edits.add("AMZN")
    assert (over.ok, over.reason) == (False, "budget")
    assert over.message == (
        "AMZN: finnhub's budget (60 requests/min) fits 4 symbols every 5 s and 4 are watched; "
        "remove one, or set a longer STOCKSTREAMER_PRICE_INTERVAL"
    )
    assert stored(sessions) == before
    assert finnhub.seen() == []  # refused before any lookup


def test_a_provider_without_history_starts_the_history_now(sessions, finnhub, finnhub_of):
    edits = edits_on(sessions, finnhub_of(), symbols="AAPL", provider="finnhub")
    added = edits.add("NVDA")
    assert added.ok and added.history_starts_now
    assert added.message == "Added NVDA; finnhub gives no history, so its history starts now"
    unknown = edits.add("ZZZZ")
    assert unknown.message == "ZZZZ: finnhub knows no such symbol" and unknown.reason == "unknown"
    with sessions() as session:
        entries = {e.symbol: e for e in watch_entries(session)}
    assert entries["NVDA"].history_starts_at == NOW and entries["AAPL"].history_starts_at is None
    assert [r.symbols for r in finnhub.seen()] == [["NVDA"], ["ZZZZ"]]


def test_a_provider_that_cannot_be_asked_refuses_the_add_and_writes_nothing(
    sessions, finnhub, finnhub_of
):
    edits = edits_on(sessions, finnhub_of(), symbols="AAPL", provider="finnhub")
    edits.entries()
    before = stored(sessions)
    finnhub.fail(status=503, body="maintenance")
    result = edits.add("NVDA")
    assert (result.ok, result.reason) == (False, "provider")
    assert result.message.startswith("NVDA: could not ask finnhub (http_5xx: ")
    assert result.message.endswith("; nothing changed")
    assert stored(sessions) == before


def test_an_undo_is_adding_back_without_a_lookup_and_the_prices_are_still_there(
    sessions, finnhub, finnhub_of
):
    edits = edits_on(sessions, finnhub_of(), symbols="AAPL,GE", provider="finnhub")
    edits.entries()
    with unit_of_work(sessions) as session:
        write_quotes(session, [Quote("GE", Decimal("10"), NOW - timedelta(minutes=1))], NOW)
    assert edits.remove("GE").ok
    back = edits.add("GE")
    assert back.ok and back.message == "Added GE"  # its stored prices: history does not start now
    assert finnhub.seen() == []  # it was known when it was first watched
    with sessions() as session:
        assert watched_symbols(session) == ["AAPL", "GE"] and count_ticks(session, "GE") == 1


def test_two_processes_adding_at_once_cannot_both_take_the_last_place(database_url_factory):
    url = database_url_factory("postgresql")
    upgrade(url)
    engines = [make_engine(url) for _ in range(3)]
    try:
        holder, *workers = [make_session_factory(engine) for engine in engines]
        edits = [edits_on(sessions, max_symbols=3) for sessions in workers]
        edits[0].entries()  # AAPL and GE: one place left
        results: dict[str, object] = {}
        with unit_of_work(holder) as session:
            take_edit_turn(session)  # an edit in progress elsewhere
            threads = [
                threading.Thread(target=lambda e=e, s=s: results.update({s: e.add(s)}))
                for e, s in zip(edits, ("MSFT", "NVDA"), strict=True)
            ]
            for thread in threads:
                thread.start()
            time.sleep(0.5)  # both passed the first check and wait for their turn
            assert results == {}
        for thread in threads:
            thread.join(10)
        assert sorted(r.reason for r in results.values()) == ["", "full"]
        with workers[0]() as session:
            assert len(watched_symbols(session)) == 3
    finally:
        for engine in engines:
            engine.dispose()
