"""The cards' read: newest price and previous close, from the provider or the last price before."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import delete

from core.records import Quote
from core.times import to_ms
from db.cards import CardPrice, card_prices
from db.engine import unit_of_work
from db.models import PriceTick
from db.watchlist import sync_watchlist
from db.writes import record_previous_closes, write_quotes

OPEN = datetime(2026, 11, 30, 14, 30, tzinfo=timezone.utc)  # Monday 09:30 New York
MINUTE = timedelta(minutes=1)


def store(sessions, quotes: list[Quote], watched: list[str] | None = None) -> None:
    """Watch the symbols, write the quotes and their previous closes, as a poll run does."""
    with unit_of_work(sessions) as session:
        sync_watchlist(session, watched or sorted({q.symbol for q in quotes}))
        write_quotes(session, quotes, OPEN)
        record_previous_closes(session, quotes)


def tick(symbol: str, price: str, at: datetime, previous: str | None = None) -> Quote:
    close = Decimal(previous) if previous is not None else None
    return Quote(symbol, Decimal(price), at, previous_close=close)


def read(sessions, symbols: list[str], session_open: datetime = OPEN) -> dict[str, CardPrice]:
    with sessions() as session:
        return card_prices(session, symbols, session_open)


def test_the_providers_previous_close_observed_in_this_session_is_used(sessions):
    store(
        sessions,
        [
            tick("AAPL", "100", OPEN - timedelta(hours=1)),
            tick("AAPL", "104.5", OPEN + 5 * MINUTE, previous="99.25"),
            tick("AAPL", "105.25", OPEN + 10 * MINUTE + timedelta(milliseconds=250)),
        ],
    )
    at = OPEN + 10 * MINUTE + timedelta(milliseconds=250)
    assert read(sessions, ["AAPL"]) == {"AAPL": CardPrice("AAPL", 105.25, to_ms(at), 99.25)}


def test_a_provider_value_from_before_the_open_is_ignored(sessions):
    store(
        sessions,
        [
            tick("AAPL", "98", OPEN - timedelta(days=1), previous="50"),  # the session before
            tick("AAPL", "100", OPEN - timedelta(hours=17)),
            tick("AAPL", "103", OPEN + MINUTE),
        ],
    )
    assert read(sessions, ["AAPL"])["AAPL"].previous_close == 100.0
    # Measured against the session before, the same stored value is this session's.
    assert read(sessions, ["AAPL"], OPEN - timedelta(days=1))["AAPL"].previous_close == 50.0


def test_without_a_provider_value_the_last_tick_before_the_open_is_the_previous_close(sessions):
    store(
        sessions,
        [
            tick("GE", "18", OPEN - timedelta(hours=2)),
            tick("GE", "18.5", OPEN - timedelta(seconds=1)),
            tick("GE", "19", OPEN),  # the open's own tick belongs to the session
            tick("GE", "19.5", OPEN + MINUTE),
        ],
    )
    card = read(sessions, ["GE"])["GE"]
    assert (card.last_price, card.last_ms, card.previous_close) == (
        19.5,
        to_ms(OPEN + MINUTE),
        18.5,
    )


def test_when_the_old_ticks_are_gone_the_last_minute_bar_before_the_open_closes(sessions):
    store(
        sessions,
        [
            tick("NVDA", "200", OPEN - 3 * MINUTE),
            tick("NVDA", "201.5", OPEN - timedelta(seconds=30)),
            tick("NVDA", "210", OPEN + timedelta(seconds=5)),
        ],
    )
    with unit_of_work(sessions) as session:
        session.execute(delete(PriceTick).where(PriceTick.observed_at < OPEN))
    card = read(sessions, ["NVDA"])["NVDA"]
    assert (card.last_price, card.previous_close) == (210.0, 201.5)


def test_no_price_at_all_is_none(sessions):
    store(sessions, [tick("AAPL", "1", OPEN + MINUTE)], watched=["AAPL", "INTC"])
    cards = read(sessions, ["INTC", "ZZZZ", "AAPL"])
    assert list(cards) == ["INTC", "ZZZZ", "AAPL"]
    assert cards["INTC"] == CardPrice("INTC", None, None, None)  # known, never priced
    assert cards["ZZZZ"] == CardPrice("ZZZZ", None, None, None)  # not even known
    assert cards["AAPL"] == CardPrice("AAPL", 1.0, to_ms(OPEN + MINUTE), None)  # nothing before


def test_thirty_symbols_with_a_day_of_history_read_in_milliseconds(sessions):
    symbols = [f"S{i:02d}" for i in range(30)]
    quotes = [
        tick(s, f"{10 + i}.{k % 100:02d}", OPEN - timedelta(hours=6) + k * MINUTE)
        for i, s in enumerate(symbols)
        for k in range(8 * 60)  # six hours before the open, two after
    ]
    store(sessions, quotes)
    cards = read(sessions, symbols)
    last = OPEN + 119 * MINUTE  # k = 479; the last before the open is k = 359
    for i, s in enumerate(symbols):
        assert cards[s] == CardPrice(s, float(f"{10 + i}.79"), to_ms(last), float(f"{10 + i}.59"))
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        read(sessions, symbols)
        timings.append(time.perf_counter() - started)
    # A few index probes per stock: milliseconds (the bound leaves room for a loaded machine).
    assert min(timings) < 0.05, timings
