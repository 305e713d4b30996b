"""Idempotent price writes and the bars they maintain, on both databases."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, select

from core.records import Quote, StockProfile
from db.engine import unit_of_work
from db.models import PriceBar, Stock
from db.queries import latest_observation
from db.rollups import BAR_WIDTHS
from db.watchlist import sync_watchlist
from db.writes import upsert_profiles, write_quotes
from tests.db.helpers import (
    as_reference,
    bars_between,
    count_ticks,
    reference_bars,
    ticks_between,
    watched_stocks,
)

T0 = datetime(2026, 11, 27, 15, 0, 0, tzinfo=timezone.utc)


def q(symbol: str, seconds: float, price: str) -> Quote:
    return Quote(symbol, Decimal(price), T0 + timedelta(seconds=seconds))


def test_a_repeated_observation_is_stored_once(sessions):
    batch = [q("AAPL", 0, "174.97"), q("MSFT", 0, "401.10")]
    with unit_of_work(sessions) as session:
        first = write_quotes(session, batch, fetched_at=T0)
    with unit_of_work(sessions) as session:
        second = write_quotes(session, batch, fetched_at=T0 + timedelta(seconds=5))
    assert (first.written, first.duplicates) == (2, 0)
    assert (second.written, second.duplicates) == (0, 2)
    with sessions() as session:
        assert count_ticks(session) == 2
        ticks = ticks_between(session, ["AAPL"], T0 - timedelta(hours=1))
        assert [(t.price, t.observed_at, t.fetched_at) for t in ticks] == [
            (Decimal("174.970000"), T0, T0)  # the first fetch wins
        ]
        assert ticks[0].observed_at.tzinfo is not None


def test_duplicates_inside_one_batch_count_once(sessions):
    with unit_of_work(sessions) as session:
        counts = write_quotes(session, [q("AAPL", 0, "1.00"), q("AAPL", 0, "1.00")], T0)
    assert (counts.written, counts.duplicates) == (1, 1)
    with sessions() as session:
        (bar,) = bars_between(session, ["AAPL"], 60, T0)
        assert bar.tick_count == 1


def test_two_writers_at_once_store_each_observation_once(sessions):
    batch = [q(s, i, "10.5") for s in ("AAPL", "GE", "NVDA") for i in range(0, 300, 5)]
    barrier = threading.Barrier(4)
    results = []

    def writer() -> None:
        barrier.wait()
        # Each thread has its own session: sessions never cross threads.
        with unit_of_work(sessions) as session:
            results.append(write_quotes(session, batch, T0))

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.written for r in results) == len(batch)
    assert sum(r.duplicates for r in results) == 3 * len(batch)
    with sessions() as session:
        assert count_ticks(session) == len(batch)
        for width in BAR_WIDTHS:
            total = select(func.sum(PriceBar.tick_count)).where(PriceBar.width == width)
            assert session.scalar(total) == len(batch)
        raw = ticks_between(session, ["AAPL", "GE", "NVDA"], T0)
        bars = session.scalars(select(PriceBar)).all()
    for width in BAR_WIDTHS:
        expected = reference_bars(raw, width)
        assert {(b.symbol, b.start): as_reference(b) for b in bars if b.width == width} == expected


def test_rollups_equal_what_the_raw_ticks_give(sessions):
    prices = ["10.00", "12.50", "9.75", "11.00", "11.25", "13.00", "8.00", "10.10"]
    ticks = [q("AAPL", i * 17, p) for i, p in enumerate(prices)]
    # Out of order and over several runs, with repeats, as retries would deliver them.
    for part in (ticks[5:], ticks[:3], ticks[2:6], ticks):
        with unit_of_work(sessions) as session:
            write_quotes(session, part, T0)
    with sessions() as session:
        bars = bars_between(session, ["AAPL"], 60, T0 - timedelta(minutes=1))
        raw = ticks_between(session, ["AAPL"], T0 - timedelta(minutes=1))
    expected = reference_bars(raw, 60)
    assert [("AAPL", b.start) for b in bars] == sorted(expected)
    assert {("AAPL", b.start): as_reference(b) for b in bars} == expected


def test_latest_observation_leaves_out_a_symbol_without_history(sessions):
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "GE"])
        write_quotes(session, [q("AAPL", 0, "1"), q("AAPL", 30, "2")], T0)
    with sessions() as session:
        assert latest_observation(session, ["AAPL", "GE"]) == {"AAPL": T0 + timedelta(seconds=30)}


def test_watchlist_sync_keeps_the_history_of_unwatched_stocks(sessions):
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "GE"])
        write_quotes(session, [q("GE", 0, "1")], T0)
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "NVDA"])
    with sessions() as session:
        watched = [stock.symbol for stock in watched_stocks(session)]
        assert sorted(watched) == ["AAPL", "NVDA"]
        assert count_ticks(session, "GE") == 1


def test_profiles_update_what_they_carry_and_keep_the_rest(sessions):
    with unit_of_work(sessions) as session:
        upsert_profiles(
            session,
            [
                StockProfile(
                    "AAPL",
                    "Apple Inc.",
                    "https://x.test/a.png",
                    Decimal("200"),
                    Decimal("150"),
                    "iex",
                )
            ],
            T0,
        )
    later = T0 + timedelta(hours=6)
    with unit_of_work(sessions) as session:
        upsert_profiles(
            session,
            [StockProfile("AAPL", week52_high=Decimal("210"), week52_low=Decimal("151"))],
            later,
        )
    with sessions() as session:
        stock = session.get(Stock, "AAPL")
        assert stock.company_name == "Apple Inc."
        assert stock.logo_url == "https://x.test/a.png"
        assert (stock.week52_high, stock.week52_low) == (Decimal("210"), Decimal("151"))
        assert stock.profile_updated_at == T0
        assert stock.week52_updated_at == later


def test_a_failed_batch_stores_nothing(sessions):
    good = q("AAPL", 0, "1")
    bad = Quote("AAPL", Decimal("-1"), T0 + timedelta(seconds=1))  # violates price > 0
    try:
        with unit_of_work(sessions) as session:
            write_quotes(session, [good, bad], T0)
    except Exception as exc:
        assert "price" in str(exc).lower() or "constraint" in str(exc).lower()
    else:  # pragma: no cover
        raise AssertionError("the database accepted a negative price")
    with sessions() as session:
        assert count_ticks(session) == 0
        assert session.scalar(select(func.count()).select_from(PriceBar)) == 0


def test_colour_slots_are_given_once_and_kept(sessions):
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["GE", "AAPL", "NVDA"])
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["NVDA", "TSLA", "GE"])  # AAPL leaves, TSLA arrives
    with sessions() as session:
        slots = dict(session.execute(select(Stock.symbol, Stock.color_slot)).all())
    assert (slots["AAPL"], slots["GE"], slots["NVDA"]) == (0, 1, 2)  # first sync, symbol order
    assert slots["TSLA"] == 0  # the lowest slot no watched stock holds


def test_times_are_stored_to_the_millisecond_so_a_retry_is_still_a_duplicate(sessions):
    at = T0 + timedelta(microseconds=123_456)
    with unit_of_work(sessions) as session:
        first = write_quotes(session, [Quote("AAPL", Decimal("1"), at)], T0)
    with unit_of_work(sessions) as session:
        again = write_quotes(
            session, [Quote("AAPL", Decimal("1"), at + timedelta(microseconds=400))], T0
        )
    assert (first.written, again.duplicates) == (1, 1)
    with sessions() as session:
        (tick,) = ticks_between(session, ["AAPL"], T0)
    assert tick.observed_at == T0 + timedelta(microseconds=123_000)


def test_bars_of_every_width_equal_what_the_raw_ticks_give(sessions):
    ticks = [
        Quote(
            s,
            Decimal(f"{100 + (i * 37) % 23}.{i % 100:02d}"),
            T0 + timedelta(seconds=i * 47),
            s == "GE" and i % 3 == 0,
        )
        for s in ("GE", "NVDA")
        for i in range(160)
    ]
    for part in (ticks[100:], ticks[:60], ticks[40:120], ticks):  # out of order, with repeats
        with unit_of_work(sessions) as session:
            write_quotes(session, part[::-1], T0)
    with sessions() as session:
        raw = ticks_between(session, ["GE", "NVDA"], T0 - timedelta(hours=2))
        bars = session.scalars(select(PriceBar).order_by(PriceBar.width, PriceBar.start)).all()
        # Each bar is found by its key as the app binds it: on SQLite the start the
        # database computed is the same text that UTCDateTime writes.
        for bar in bars:
            key = (PriceBar.symbol == bar.symbol, PriceBar.width == bar.width)
            found = select(func.count()).where(*key, PriceBar.start == bar.start)
            assert session.scalar(found) == 1
    assert {b.width for b in bars} == set(BAR_WIDTHS)
    for width in BAR_WIDTHS:
        expected = reference_bars(raw, width)
        mine = [b for b in bars if b.width == width]
        assert sorted((b.symbol, b.start) for b in mine) == sorted(expected)
        assert {(b.symbol, b.start): as_reference(b) for b in mine} == expected
    # Every third GE tick is simulated: a bar is simulated when any of its ticks is.
    assert {b.simulated for b in bars if b.symbol == "GE"} == {False, True}
    assert all(b.simulated for b in bars if b.symbol == "GE" and b.width == 3600)
    assert {b.simulated for b in bars if b.symbol == "NVDA"} == {False}


def test_daily_bars_are_new_york_trading_days_not_utc_days(sessions):
    # Summer (UTC-4) then winter (UTC-5): New York midnight is 04:00 UTC, then 05:00 UTC.
    summer = datetime(2026, 7, 14, 3, 59, 30, tzinfo=timezone.utc)  # 23:59:30 on the 13th in NY
    winter = datetime(2026, 12, 2, 4, 30, tzinfo=timezone.utc)  # 23:30 on the 1st in NY
    ticks = [
        Quote("AAPL", Decimal("10"), summer - timedelta(hours=6)),  # 13th, 18:00 NY
        Quote("AAPL", Decimal("12"), summer),  # 13th, UTC already the 14th
        Quote("AAPL", Decimal("11"), summer + timedelta(minutes=1)),  # 14th, 00:00:30 NY
        Quote("AAPL", Decimal("9"), winter),  # 1st in NY
        Quote("AAPL", Decimal("8"), winter + timedelta(minutes=31)),  # 2nd in NY (05:01 UTC)
    ]
    with unit_of_work(sessions) as session:
        write_quotes(session, ticks[::-1], T0)  # newest first: open and close still right
    with sessions() as session:
        days = bars_between(session, ["AAPL"], 86400, summer - timedelta(days=2))
    ny_midnight = [
        datetime(2026, 7, 13, 4, tzinfo=timezone.utc),
        datetime(2026, 7, 14, 4, tzinfo=timezone.utc),
        datetime(2026, 12, 1, 5, tzinfo=timezone.utc),
        datetime(2026, 12, 2, 5, tzinfo=timezone.utc),
    ]
    assert [b.start for b in days] == ny_midnight
    first = days[0]
    assert (first.open, first.high, first.low, first.close, first.tick_count) == (
        Decimal("10"),
        Decimal("12"),
        Decimal("10"),
        Decimal("12"),
        2,
    )
    assert [b.tick_count for b in days] == [2, 1, 1, 1]
