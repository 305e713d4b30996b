"""The URL as the page's memory: defaults, views, ranges, custom bounds, hidden stocks, notices."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.query import COMPARE, PRICE, RANGES, PageQuery, parse_query, parse_wall, wall_text
from tests.app.page_helpers import stock

WEEK = timedelta(days=7)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_no_query_is_compare_over_the_last_day_with_every_stock_and_no_notice():
    for search in (None, "", "?"):
        query, notices = parse_query(search, WEEK)
        assert query == PageQuery() and notices == []
        assert (query.view, query.range, query.hidden, query.custom) == (
            COMPARE,
            "1D",
            frozenset(),
            False,
        )
        assert query.span() == timedelta(days=1) and query.to_search() == ""


@pytest.mark.parametrize("view", [COMPARE, PRICE])
@pytest.mark.parametrize("key", list(RANGES))
def test_each_view_and_range_reads_back_without_a_notice(view, key):
    query, notices = parse_query(f"?view={view}&range={key}", timedelta(days=1826))
    assert (query.view, query.range, query.custom, notices) == (view, key, False, [])
    assert query.span() == RANGES[key] and query.start is None and query.end is None


def test_case_does_not_matter_for_view_range_and_symbols():
    query, notices = parse_query("?view=PRICE&range=5d&hide=ge,aapl", WEEK)
    assert query == PageQuery(PRICE, "5D", hidden=frozenset({"GE", "AAPL"})) and notices == []


@pytest.mark.parametrize(
    ("start", "end", "utc_start", "utc_end"),
    [
        # Winter: New York is UTC-5.
        ("2026-11-30T10:00:00", "2026-11-30T12:00:00", (2026, 11, 30, 15), (2026, 11, 30, 17)),
        # Summer: UTC-4.
        ("2026-07-01T09:30:00", "2026-07-01T16:00:00", (2026, 7, 1, 13, 30), (2026, 7, 1, 20)),
        # Across the end of daylight saving time (2026-11-01 02:00 EDT -> 01:00 EST).
        ("2026-10-31T12:00:00", "2026-11-02T12:00:00", (2026, 10, 31, 16), (2026, 11, 2, 17)),
    ],
)
def test_a_custom_range_is_new_york_wall_time_read_as_utc(start, end, utc_start, utc_end):
    utc_start, utc_end = utc(*utc_start), utc(*utc_end)
    query, notices = parse_query(f"?view=price&start={start}&end={end}", WEEK)
    assert notices == [] and query.custom and query.view == PRICE
    assert (query.start, query.end) == (utc_start, utc_end)
    assert query.span() == utc_end - utc_start
    assert (wall_text(query.start), wall_text(query.end)) == (start, end)


def test_custom_bounds_win_over_a_preset_and_an_offset_is_honoured():
    query, notices = parse_query(
        "?range=1H&start=2026-11-30T10:00:00%2B00:00&end=2026-11-30T11:00:00", WEEK
    )
    assert notices == [] and query.custom
    assert (query.start, query.end) == (utc(2026, 11, 30, 10), utc(2026, 11, 30, 16))


def test_hidden_stocks_are_a_set_of_tickers():
    query, notices = parse_query("?hide=GE,,AAPL, NVDA ,GE", WEEK)
    assert query.hidden == {"GE", "AAPL", "NVDA"} and notices == []
    assert query.to_search() == "?hide=AAPL,GE,NVDA"


@pytest.mark.parametrize(
    ("search", "expected", "notice"),
    [
        ("?view=candles", PageQuery(), "Unknown view “candles”: showing Compare."),
        ("?view=price&range=2W", PageQuery(PRICE), "Unknown range “2W”: showing the last 1 day."),
        ("?range=custom", PageQuery(), "Unknown range “CUSTOM”: showing the last 1 day."),
        (
            "?start=2026-11-30T12:00:00&end=2026-11-30T10:00:00",
            PageQuery(),
            "That start and end do not make a range: showing the last 1 day.",
        ),
        (
            "?start=2026-11-30T10:00:00&end=2026-11-30T10:00:00",
            PageQuery(),
            "That start and end do not make a range: showing the last 1 day.",
        ),
        (
            "?start=yesterday&end=2026-11-30T10:00:00",
            PageQuery(),
            "That start and end do not make a range: showing the last 1 day.",
        ),
        (
            "?start=2026-11-30T10:00:00",
            PageQuery(),
            "That start and end do not make a range: showing the last 1 day.",
        ),
        (
            "?end=2026-13-40T10:00:00&view=price",
            PageQuery(PRICE),
            "That start and end do not make a range: showing the last 1 day.",
        ),
        (
            "?hide=GE,<script>,aapl",
            PageQuery(hidden=frozenset({"GE", "AAPL"})),
            "Ignored “<SCRIPT>” in the hidden stocks.",
        ),
    ],
)
def test_a_bad_value_falls_back_to_the_default_with_a_notice(search, expected, notice):
    query, notices = parse_query(search, WEEK)
    assert query == expected and notices == [notice]


def test_a_range_longer_than_the_database_serves_falls_back():
    query, notices = parse_query("?range=7D", timedelta(days=5))
    assert query.range == "1D" and notices == ["Unknown range “7D”: showing the last 1 day."]
    assert parse_query("?range=5D", timedelta(days=5)) == (PageQuery(range="5D"), [])


def test_every_bad_value_has_its_own_notice_and_a_long_one_is_cut_short():
    query, notices = parse_query("?view=" + "x" * 100 + "&range=9Y&hide=1BAD", WEEK)
    assert query == PageQuery()
    assert len(notices) == 3
    assert notices[0] == f"Unknown view “{'x' * 23}…”: showing Compare."
    assert "9Y" in notices[2] and "1BAD" in notices[1]


@pytest.mark.parametrize(
    "query",
    [
        PageQuery(),
        PageQuery(PRICE),
        PageQuery(range="1H"),
        PageQuery(PRICE, "7D", hidden=frozenset({"GE", "BRK.B"})),
        PageQuery().with_custom(utc(2026, 11, 30, 15), utc(2026, 11, 30, 17, 30, 5)),
        PageQuery(PRICE, hidden=frozenset({"AAPL"})).with_custom(
            utc(2026, 7, 1, 13, 30), utc(2026, 7, 3, 20)
        ),
    ],
)
def test_the_query_string_reads_back_as_the_same_query(query):
    search = query.to_search()
    assert parse_query(search, WEEK) == (query, [])
    assert parse_query(search.lstrip("?"), WEEK) == (query, [])


def test_the_query_string_names_only_what_differs_from_the_defaults():
    assert PageQuery(PRICE, "1H").to_search() == "?view=price&range=1H"
    custom = PageQuery().with_custom(utc(2026, 11, 30, 15), utc(2026, 11, 30, 16))
    assert custom.to_search() == "?start=2026-11-30T10:00:00&end=2026-11-30T11:00:00"


def test_toggling_a_stock_hides_it_then_shows_it_again():
    query = PageQuery(hidden=frozenset({"GE"}))
    assert query.toggled("AAPL").hidden == {"GE", "AAPL"}
    assert query.toggled("GE").hidden == frozenset()
    assert query.toggled("AAPL").toggled("AAPL") == query


def test_a_preset_drops_custom_bounds_and_custom_keeps_the_rest():
    start, end = utc(2026, 11, 30, 15), utc(2026, 11, 30, 16)
    custom = PageQuery(PRICE, "1H", hidden=frozenset({"GE"})).with_custom(start, end)
    assert custom == PageQuery(PRICE, "custom", start, end, frozenset({"GE"}))
    assert custom.custom and custom.span() == timedelta(hours=1)
    back = custom.with_range("5D")
    assert back == PageQuery(PRICE, "5D", hidden=frozenset({"GE"})) and not back.custom
    assert custom.with_view(COMPARE).start == start


def test_wall_text_and_parse_wall_are_new_york_wall_clock():
    assert wall_text(utc(2026, 11, 27, 20)) == "2026-11-27T15:00:00"
    assert parse_wall("2026-11-27T15:00:00") == utc(2026, 11, 27, 20)
    assert parse_wall("2026-11-27 15:00") == utc(2026, 11, 27, 20)
    assert parse_wall("not a time") is None and parse_wall("") is None


def test_a_custom_range_in_the_hour_that_happens_twice_reads_back_as_the_same_range():
    # 2026-11-01: New York's 01:00-02:00 happens first in EDT (UTC-4), then in EST (UTC-5).
    for start, end in [
        (utc(2026, 11, 1, 6, 10), utc(2026, 11, 1, 6, 40)),  # both in the second 01:xx (EST)
        (utc(2026, 11, 1, 5, 50), utc(2026, 11, 1, 6, 10)),  # 01:50 EDT to 01:10 EST
    ]:
        query = PageQuery().with_custom(start, end)
        assert parse_query(query.to_search(), WEEK) == (query, [])
    assert wall_text(utc(2026, 11, 1, 6, 10)) == "2026-11-01T01:10:00-05:00"
    assert wall_text(utc(2026, 11, 1, 5, 10)) == "2026-11-01T01:10:00-04:00"
    assert wall_text(utc(2026, 11, 1, 7, 10)) == "2026-11-01T02:10:00"


def test_the_shown_stocks_and_the_live_bounds_come_from_the_query():
    query = PageQuery(range="1H", hidden=frozenset({"GE"}))
    stocks = [stock("AAPL", 0), stock("GE", 1), stock("NVDA", 2)]
    assert [s.symbol for s in query.shown(stocks)] == ["AAPL", "NVDA"]
    assert query.live_bounds(10_000_000) == (10_000_000 - 3_600_000, 10_000_000)
