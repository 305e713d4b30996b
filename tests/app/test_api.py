"""The JSON API through the real app's Flask server, on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import brotli
import pytest

from app.api_shapes import decimal_text, utc_text
from app.patches import point_budget
from core.market import US_EQUITIES
from db.chart import chart_stocks, read_window
from db.engine import make_engine, make_session_factory, unit_of_work
from db.watchlist import sync_watchlist
from tests.app.api_helpers import all_rows, app_client, follow, get_json, keys, write_prices
from tests.app.page_helpers import NOW, SYMBOLS, ManualClock, seed
from tests.app.service_helpers import free_port
from tests.db.helpers import bars_between, ticks_between

DAY = timedelta(days=1)
LEVELS = {
    "tick": "tick",
    "minute": "1m",
    "5 minutes": "5m",
    "hour": "1h",
    "day": "1d",
}  # chart -> API


def z(moment: datetime) -> str:
    """A time as a query parameter."""
    return quote(utc_text(moment))


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def client(database_url, sessions, clock):
    return app_client(database_url, sessions, clock)


def test_stocks_lists_the_watchlist_with_what_the_cards_show(sessions, client, clock):
    seed(sessions, NOW - 2 * DAY, NOW)
    clock.now = NOW + timedelta(seconds=2)
    body = get_json(client, "/api/v1/stocks")
    assert body["as_of"] == "2026-11-27T20:00:02.000Z"
    assert body["market"] == {"open": True, "status": "Simulated market · trades around the clock"}
    assert [s["symbol"] for s in body["stocks"]] == [s.symbol for s in chart_stocks(sessions())]
    aapl, ge = body["stocks"]
    # The last price stored before New York's midnight (05:00 UTC): the 1,979th minute.
    assert aapl == {
        "symbol": "AAPL",
        "name": "Apple Inc.",
        "last_price": "101.75",  # seed: 100 + (2880 % 17) / 4
        "last_time": "2026-11-27T20:00:00.000Z",
        "previous_close": "101.75",  # 100 + (1979 % 17) / 4
        "week52": {"low": "90.00", "high": "160.00"},
        "freshness": {"age_seconds": 2.0, "state": "live"},
    }
    assert ge["last_price"] == "151.75" and ge["week52"] == {"low": "140.00", "high": "220.00"}
    clock.now = NOW + timedelta(seconds=16)  # three 5 s intervals without a price
    stale = get_json(client, "/api/v1/stocks")["stocks"][0]["freshness"]
    assert stale == {"age_seconds": 16.0, "state": "stale"}


def test_stocks_say_closed_and_no_price_yet(database_url, sessions, clock):
    seed(sessions, NOW - DAY, NOW)
    with unit_of_work(sessions) as session:
        sync_watchlist(session, [*SYMBOLS, "NVDA"])
    clock.now = datetime(2026, 11, 28, 15, tzinfo=timezone.utc)  # a Saturday
    body = get_json(app_client(database_url, sessions, clock, US_EQUITIES), "/api/v1/stocks")
    assert body["market"]["open"] is False
    fresh = {s["symbol"]: s["freshness"] for s in body["stocks"]}
    assert fresh["AAPL"] == {"age_seconds": 68400.0, "state": "closed"}
    nvda = next(s for s in body["stocks"] if s["symbol"] == "NVDA")
    assert nvda["freshness"] == {"age_seconds": None, "state": "none"}
    assert nvda["last_price"] is None and nvda["week52"] == {"low": None, "high": None}


def test_prices_by_default_are_the_watchlist_over_the_last_day(sessions, client):
    seed(sessions, NOW - 2 * DAY, NOW - timedelta(minutes=1))
    body = get_json(client, "/api/v1/prices")
    assert body["symbols"] == SYMBOLS and body["resolution"] == "tick"
    assert (body["start"], body["end"]) == ("2026-11-26T20:00:00.000Z", "2026-11-27T20:00:00.000Z")
    stored = ticks_between(sessions(), SYMBOLS, NOW - DAY, NOW)
    expected = [
        {"symbol": t.symbol, "time": utc_text(t.observed_at), "price": decimal_text(t.price)}
        for t in stored
    ]
    assert body["data"] == expected and body["count"] == len(expected) == 2 * 1440
    assert body["cursor"] is None and body["next"] is None and body["limit"] == 10_000


def test_prices_take_offsets_and_give_the_bars_stored(sessions, client):
    seed(sessions, NOW - DAY, NOW)
    start, end = NOW - timedelta(hours=6), NOW - timedelta(hours=1)
    local = quote(start.astimezone(timezone(timedelta(hours=-5))).isoformat())  # 10:00-05:00
    body = get_json(client, f"/api/v1/prices?symbols=ge&start={local}&end={z(end)}&resolution=5m")
    stored = [b for b in bars_between(sessions(), ["GE"], 300, start) if b.start < end]
    assert len(stored) == 60 and body["symbols"] == ["GE"] and body["resolution"] == "5m"
    assert body["data"] == [
        {
            "symbol": "GE",
            "time": utc_text(b.start),
            "open": decimal_text(b.open),
            "high": decimal_text(b.high),
            "low": decimal_text(b.low),
            "close": decimal_text(b.close),
            "ticks": b.tick_count,
        }
        for b in stored
    ]


@pytest.mark.parametrize(
    ("span", "level"),
    [
        (timedelta(hours=1), "tick"),
        (DAY, "1m"),
        (7 * DAY, "5m"),
        (30 * DAY, "1h"),
        (365 * DAY, "1d"),
    ],
)
def test_auto_picks_the_level_the_chart_reads(sessions, client, span, level):
    seed(sessions, NOW - timedelta(days=3), NOW, step=30)
    start = NOW - span
    body = get_json(client, f"/api/v1/prices?start={z(start)}&end={z(NOW)}&limit=1")
    chart = read_window(sessions(), SYMBOLS, start, NOW, point_budget(len(SYMBOLS)))
    assert {LEVELS[p.resolution] for p in chart.values()} == {body["resolution"]} == {level}


@pytest.mark.parametrize(("resolution", "limit"), [("tick", 700), ("1m", 700), ("1h", 7)])
def test_pages_followed_by_cursor_equal_one_big_read(sessions, client, resolution, limit):
    seed(sessions, NOW - 2 * DAY, NOW)
    url = f"/api/v1/prices?symbols=GE,AAPL&resolution={resolution}&end={z(NOW)}"
    pages = follow(client, f"{url}&limit={limit}")
    whole = get_json(client, url)
    assert len(pages) > 3 and whole["next"] is None
    assert all(p["count"] == limit for p in pages[:-1]) and 0 < pages[-1]["count"] <= limit
    assert all_rows(pages) == whole["data"] and len(whole["data"]) > 2 * limit
    assert keys(whole["data"]) == sorted(set(keys(whole["data"])))  # by symbol, then time


def test_a_write_between_pages_skips_nothing_and_repeats_nothing(sessions, client):
    seed(sessions, NOW - timedelta(hours=2), NOW - timedelta(minutes=10))
    url = f"/api/v1/prices?symbols=AAPL,GE&resolution=tick&start={z(NOW - 3 * DAY)}&end={z(NOW)}"
    before = keys(get_json(client, url)["data"])
    late = [
        ("AAPL", "1.5", NOW - timedelta(minutes=5)),  # after the cursor
        ("GE", "2.5", NOW - timedelta(minutes=5)),
        ("GE", "3.5", NOW - timedelta(hours=2, seconds=30)),  # a symbol not reached yet
    ]
    behind = ("AAPL", "4.5", NOW - timedelta(hours=2) + timedelta(seconds=30))

    pages = follow(client, f"{url}&limit=50", between=lambda: write_prices(sessions, *late, behind))
    paged = keys(all_rows(pages))
    assert len(pages) == 5 and paged == sorted(set(paged))  # in key order: nothing twice
    assert set(before) <= set(paged)  # nothing stored before the first page is skipped
    assert set(paged) - set(before) == {(s, utc_text(at)) for s, _, at in late}
    # A write behind the cursor (a symbol and time already passed) is for the next read.
    assert (behind[0], utc_text(behind[2])) not in paged
    assert (behind[0], utc_text(behind[2])) in keys(get_json(client, url)["data"])


def test_a_cursor_keeps_the_end_and_level_of_its_first_page(sessions, client, clock):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    clock.now = NOW + timedelta(microseconds=250)  # "now" ends the window: at NOW + 1 ms
    first = get_json(client, "/api/v1/prices?symbols=AAPL&limit=20")
    end = utc_text(NOW + timedelta(milliseconds=1))
    assert first["resolution"] == "tick" and first["end"] == end and f"end={end}" in first["next"]
    clock.now = NOW + timedelta(minutes=30)
    write_prices(sessions, *[("AAPL", "9.5", NOW + timedelta(minutes=m)) for m in range(1, 10)])
    pages = follow(client, f"/api/v1/prices?symbols=AAPL&limit=20&cursor={first['cursor']}")
    rows = first["data"] + all_rows(pages)
    assert len(rows) == 61 and rows[-1]["time"] == utc_text(NOW)  # nothing after the end
    assert {p["resolution"] for p in pages} == {"tick"} and {p["end"] for p in pages} == {end}


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("symbols=AAPL,ZZZZ", 404, "symbols"),
        ("symbols=AAPL;DROP", 400, "symbols"),
        ("start=2026-11-27T10:00:00", 400, "start"),
        ("end=tomorrow", 400, "end"),
        ("start=2026-11-27T10:00:00Z&end=2026-11-27T09:00:00Z", 400, "start"),
        ("resolution=weekly", 400, "resolution"),
        ("limit=10001", 400, "limit"),
        ("cursor=AAAA", 400, "cursor"),
        ("from=2026-11-27T10:00:00Z", 400, "from"),
    ],
)
def test_a_bad_parameter_answers_json_naming_it(sessions, client, query, status, parameter):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    body = get_json(client, f"/api/v1/prices?{query}", status)
    assert body["parameter"] == parameter and body["error"] and set(body) == {"error", "parameter"}


def test_what_is_not_the_api_answers_json_too(client):
    assert get_json(client, "/api/v1/quotes", 404) == {"error": "no such endpoint: /api/v1/quotes"}
    refused = client.post("/api/v1/prices")
    assert refused.status_code == 405
    assert refused.get_json() == {"error": "the API only reads: use GET"}
    assert refused.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert client.post("/").status_code == 405 and client.post("/").mimetype == "text/html"


def test_a_database_that_cannot_be_reached_is_a_503_without_a_trace(clock, tmp_path):
    url = f"postgresql+psycopg2://nobody:secret@127.0.0.1:{free_port()}/none"
    engine = make_engine(url, connect_timeout=1)
    try:
        client = app_client(url, make_session_factory(engine), clock)
        for path in ("/api/v1/stocks", "/api/v1/prices?symbols=AAPL"):
            body = get_json(client, path, 503)
            assert body == {"error": "the database cannot be reached; try again in a moment"}
        download = client.get("/download.csv")
        assert download.status_code == 503 and "cannot be reached" in download.text
        assert "Traceback" not in download.text and "secret" not in download.text
    finally:
        engine.dispose()


def test_a_large_answer_is_compressed_and_still_not_kept(sessions, client):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    response = client.get("/api/v1/prices", headers={"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "br"
    assert response.headers["Cache-Control"] == "no-store"
    assert len(response.data) * 5 < len(brotli.decompress(response.data))
