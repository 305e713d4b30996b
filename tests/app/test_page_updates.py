"""What the page's callback computes, as plain functions on seeded PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from dash import Patch

from app.figure import THEMES
from app.page_state import NOT_LOADED, PageState
from app.page_updates import ALL_HIDDEN, NO_PRICES, NO_STOCKS, Page, notes
from app.patches import POINT_BUDGET, fingerprint
from app.query import RANGE_NAMES, RANGES, PageQuery
from core.market import ALWAYS_OPEN, US_EQUITIES
from core.records import Quote
from core.times import from_ms, to_exchange_ms, to_ms
from db.chart import chart_stocks
from db.engine import unit_of_work
from db.watchlist import sync_watchlist
from db.writes import mark_history, upsert_profiles, write_quotes
from tests.app.page_helpers import NOW, PROFILES, SYMBOLS, ManualClock, ops, seed, stock

WEEK = timedelta(days=7)
FIVE_YEARS = timedelta(days=1826)
CUSTOM = "?start=2026-11-27T10:00:00&end=2026-11-27T11:30:00"  # 15:00-16:30 UTC


def seeded_price(k: int, i: int) -> float:
    """The price page_helpers.seed writes for SYMBOLS[k] at its i-th step."""
    return 100 + k * 50 + (i % 17) / 4


def add(sessions, *quotes: tuple[str, str, timedelta]) -> None:
    """Write quotes (symbol, price, time after NOW) as the poller would."""
    rows = [Quote(s, Decimal(p), NOW + after, True) for s, p, after in quotes]
    with unit_of_work(sessions) as session:
        write_quotes(session, rows, max(q.observed_at for q in rows))


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def page(sessions, clock):
    return Page(sessions, clock, ALWAYS_OPEN, FIVE_YEARS, refresh_seconds=5, price_seconds=5)


def names(figure) -> list[str]:
    return [t["name"] for t in figure["data"]]


def reloaded(update) -> bool:
    """Whether an answer draws the whole view (a figure) rather than appending (a Patch)."""
    return isinstance(update.figure, dict) and update.query is not None


def test_the_first_load_is_compare_over_the_last_day_up_to_the_newest_point(sessions, page):
    seed(sessions, NOW - timedelta(days=2), NOW - timedelta(minutes=1))  # the last price 1 min ago
    update = page.load("", None)
    figure, state = update.figure, update.state
    assert isinstance(figure, dict) and names(figure) == SYMBOLS
    newest = NOW - timedelta(minutes=1)
    left = to_ms(newest - timedelta(days=1))
    assert figure["layout"]["xaxis"]["range"] == to_exchange_ms([left, to_ms(newest)])
    assert figure["layout"]["title"]["text"] == "Compare · last 1 day"
    for trace in figure["data"]:
        assert 0 < len(trace["x"]) <= POINT_BUDGET and trace["y"][0] == 0.0
        assert min(trace["x"]) >= to_exchange_ms([left])[0]
        assert trace["x"][-1] == to_exchange_ms([to_ms(newest)])[0]  # the right edge
        assert type(trace["x"]) is list and type(trace["y"]) is list
    assert state.loaded and (state.search, state.theme, state.preset) == ("", "light", "1D")
    assert state.last_ms == dict.fromkeys(SYMBOLS, to_ms(newest))
    assert state.since_ms == to_ms(NOW - timedelta(days=1))
    assert set(state.base) == set(SYMBOLS) and list(state.y) == ["yaxis"]
    assert state.fingerprint == fingerprint([s for s in chart_stocks(sessions())])
    assert PageState.from_store(state.to_store()) == state
    assert update.messages == [] and update.simulated and update.query == PageQuery()
    assert [frame[0] for frame in update.cards] == SYMBOLS
    assert update.height == figure["layout"]["height"]


@pytest.mark.parametrize("view", ["compare", "price"])
@pytest.mark.parametrize("key", list(RANGES))
def test_each_view_and_range_draws_that_range_and_names_it(sessions, page, view, key):
    seed(sessions, NOW - timedelta(days=8), NOW, step=600)
    update = page.load(f"?view={view}&range={key}", "dark")
    lay = update.figure["layout"]
    span = RANGES[key]
    assert lay["xaxis"]["range"] == to_exchange_ms([to_ms(NOW - span), to_ms(NOW)])
    assert lay["title"]["text"] == f"{view.title()} · last {RANGE_NAMES[key]}"
    assert lay["paper_bgcolor"] == THEMES["dark"]["paper"] and update.state.theme == "dark"
    assert update.state.preset == key and update.state.since_ms == to_ms(NOW - span)
    if view == "price":
        assert [t["yaxis"] for t in update.figure["data"]] == ["y", "y2"]
        assert lay["xaxis2"]["matches"] == "x"
        assert {s["name"] for s in lay["shapes"]} == {"band-AAPL", "band-GE"}
        assert update.state.base == {} and set(update.state.y) == {"yaxis", "yaxis2"}
    else:
        assert set(update.state.base) == set(SYMBOLS)


def test_a_custom_range_draws_exactly_its_bounds_and_keeps_the_preset(sessions, page):
    seed(sessions, NOW - timedelta(hours=6), NOW)
    update = page.load("?view=price" + CUSTOM.replace("?", "&"), "light", preset="5D")
    lay = update.figure["layout"]
    start, end = NOW - timedelta(hours=5), NOW - timedelta(hours=3, minutes=30)
    assert lay["xaxis"]["range"] == to_exchange_ms([to_ms(start), to_ms(end)])
    assert lay["title"]["text"] == "Price · Nov 27 10:00 – 11:30 ET (custom range)"
    for trace in update.figure["data"]:
        assert trace["x"][0] == to_exchange_ms([to_ms(start)])[0]
        assert trace["x"][-1] == to_exchange_ms([to_ms(end)])[0]
        assert len(trace["x"]) == 91  # a minute apart, both ends in
    assert update.state.preset == "5D" and update.state.since_ms == to_ms(start)
    assert update.query.custom and update.numbers["live"] is False


def test_a_load_is_downsampled_to_the_point_budget(sessions, page):
    seed(sessions, NOW - timedelta(days=1, hours=1), NOW, step=5)  # 18,721 ticks per stock
    for trace in page.load("", None).figure["data"]:
        assert POINT_BUDGET // 2 < len(trace["x"]) <= POINT_BUDGET


def test_a_hidden_stock_is_not_drawn_but_keeps_its_card(sessions, page):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    for view in ("compare", "price"):
        update = page.load(f"?view={view}&hide=GE", None)
        assert names(update.figure) == ["AAPL"] and set(update.state.last_ms) == {"AAPL"}
        text = str(update.figure)
        assert "band-GE" not in text and "logo-GE" not in text
        # The card stays (page.js marks it hidden from numbers["hidden"]).
        assert [frame[0] for frame in update.cards] == SYMBOLS
        assert update.numbers["hidden"] == ["GE"]
        assert set(update.numbers["cards"]) == set(SYMBOLS)  # every card has its numbers
        stocks = chart_stocks(sessions())
        assert update.state.fingerprint == fingerprint(stocks[:1])


def test_every_stock_hidden_says_how_to_show_one(sessions, page):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    update = page.load("?hide=AAPL,GE", None)
    assert update.figure["data"] == [] and update.messages == [ALL_HIDDEN]
    assert update.state.loaded and len(update.cards) == 2


def test_no_stocks_and_no_prices_say_so(sessions, page):
    empty = page.load("", None)
    assert empty.figure["data"] == [] and empty.messages == [NO_STOCKS] and empty.cards == []
    assert empty.numbers["cards"] == {} and not empty.simulated
    with unit_of_work(sessions) as session:
        sync_watchlist(session, SYMBOLS)
    update = page.load("?view=price", None)
    assert names(update.figure) == SYMBOLS and update.state.last_ms == {}
    assert update.messages == [NO_PRICES, "No 52-week range yet for AAPL, GE."]
    assert update.numbers["cards"] == {s: [None] * 5 for s in SYMBOLS}


def test_a_bad_url_value_draws_the_default_with_a_notice(sessions, page):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    update = page.load("?view=candles&range=2W", None)
    assert update.query == PageQuery() and names(update.figure) == SYMBOLS
    assert update.messages == [
        "Unknown view “candles”: showing Compare.",
        "Unknown range “2W”: showing the last 1 day.",
    ]


def test_a_tick_appends_only_the_new_points(sessions, page, clock):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    first = page.load("", None).state
    add(
        sessions,
        ("AAPL", "123.45", timedelta(seconds=5)),
        ("AAPL", "123.50", timedelta(seconds=10)),
    )
    clock.now = NOW + timedelta(seconds=10)
    update = page.tick(first, "", None)
    assert isinstance(update.figure, Patch) and update.query is None and update.cards is None
    changes = ops(update.figure)
    assert ("data",) not in changes  # never the whole figure
    base = first.base["AAPL"]
    expected = [round((p / base - 1) * 100, 3) for p in (123.45, 123.5)]
    assert changes[("data", 0, "y")] == ("Extend", expected)
    edge = to_ms(NOW + timedelta(seconds=10))
    assert changes[("data", 0, "x")] == (
        "Extend",
        to_exchange_ms([to_ms(NOW + timedelta(seconds=5)), edge]),
    )
    assert ("data", 1, "x") not in changes  # GE has nothing new
    assert changes[("layout", "xaxis", "range")] == (
        "Assign",
        to_exchange_ms([edge - 86_400_000, edge]),
    )
    state = update.state
    assert state.last_ms == {"AAPL": edge, "GE": to_ms(NOW)}
    assert (state.since_ms, state.base, state.fingerprint) == (
        first.since_ms,
        first.base,
        first.fingerprint,
    )
    again = page.tick(state, "", None)
    assert ops(again.figure) == {} and again.state == state  # nothing twice


def test_a_price_tick_widens_the_panel_it_falls_outside_of(sessions, page, clock):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    first = page.load("?view=price", None).state
    add(sessions, ("GE", "400", timedelta(seconds=5)))
    clock.now = NOW + timedelta(seconds=5)
    update = page.tick(first, "?view=price", None)
    changes = ops(update.figure)
    assert changes[("data", 1, "y")] == ("Extend", [400.0])
    _, (lo, hi) = changes[("layout", "yaxis2", "range")]
    assert lo == first.y["yaxis2"][0] and hi > 400.0
    assert ("layout", "yaxis", "range") not in changes
    assert update.state.y == {**first.y, "yaxis2": [lo, hi]}


def test_a_tick_with_a_sub_millisecond_time_is_appended_once(sessions, page, clock):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    state = page.load("", None).state
    add(sessions, ("GE", "151", timedelta(seconds=5, microseconds=123_456)))
    clock.now = NOW + timedelta(seconds=6, microseconds=999_999)
    once = page.tick(state, "", None)
    stored = to_ms(NOW + timedelta(seconds=5, microseconds=123_000))
    assert ops(once.figure)[("data", 1, "x")] == ("Extend", to_exchange_ms([stored]))
    assert once.state.last_ms["GE"] == stored
    assert ("data", 1, "x") not in ops(page.tick(once.state, "", None).figure)


def test_a_custom_range_in_the_past_gets_no_points_and_keeps_its_axes(sessions, page, clock):
    seed(sessions, NOW - timedelta(hours=6), NOW)  # 3.5 hours of prices after the range's end
    state = page.load(CUSTOM, None).state
    add(sessions, ("AAPL", "500", timedelta(seconds=5)))
    clock.now = NOW + timedelta(days=2)  # a custom range never ages
    update = page.tick(state, CUSTOM, None)
    assert ops(update.figure) == {} and update.state == state  # nothing it could show
    assert update.numbers["live"] is False and update.numbers["cards"]["AAPL"][0] == 500.0


def test_a_custom_range_reaching_past_now_gets_new_points_but_keeps_its_axes(sessions, page, clock):
    seed(sessions, NOW - timedelta(hours=6), NOW)
    search = "?start=2026-11-27T14:00:00&end=2026-11-27T16:00:00"  # 19:00-21:00 UTC
    state = page.load(search, None).state
    add(sessions, ("AAPL", "500", timedelta(seconds=5)))
    clock.now = NOW + timedelta(seconds=5)
    update = page.tick(state, search, None)
    changes = ops(update.figure)
    assert set(changes) == {("data", 0, "x"), ("data", 0, "y")}  # far outside y: still kept
    assert update.state.last_ms["AAPL"] == to_ms(clock.now) and update.state.y == state.y


def test_a_tick_picks_up_a_new_stock_by_drawing_the_view_again(sessions, page, clock):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    state = page.load("?view=price", None).state
    with unit_of_work(sessions) as session:
        sync_watchlist(session, [*SYMBOLS, "NVDA"])
    update = page.tick(state, "?view=price", None)
    assert reloaded(update) and names(update.figure) == [*SYMBOLS, "NVDA"]
    assert len(update.cards) == 3 and update.state.fingerprint != state.fingerprint


def test_history_written_behind_the_page_draws_the_view_again_with_it(sessions, page):
    # The page opened on the live tail alone; the provider's history arrives behind it.
    seed(sessions, NOW - timedelta(minutes=5), NOW)
    opened = page.load("?range=1D", None)
    older = [Quote("AAPL", Decimal("111"), NOW - timedelta(hours=h)) for h in (3, 2, 1)]
    with unit_of_work(sessions) as session:
        write_quotes(session, older, fetched_at=NOW)
        mark_history(session, "AAPL", NOW)
    update = page.tick(opened.state, "?range=1D", None)
    assert reloaded(update) and update.state.fingerprint != opened.state.fingerprint
    drawn = update.figure["data"][0]
    assert len(drawn["x"]) == len(opened.figure["data"][0]["x"]) + 3  # the hours before, too
    assert page.tick(update.state, "?range=1D", None).query is None  # then ticks as before


def test_new_metadata_draws_the_view_again_with_the_band_and_logo(sessions, page):
    seed(sessions, NOW - timedelta(hours=1), NOW, profiles=False)
    state = page.load("?view=price", None)
    assert state.figure["layout"]["shapes"] == [] and state.figure["layout"]["images"] == []
    assert state.messages == ["No 52-week range yet for AAPL, GE."]
    with unit_of_work(sessions) as session:
        upsert_profiles(session, [PROFILES[1]], NOW)
    update = page.tick(state.state, "?view=price", None)
    assert reloaded(update) and update.messages == ["No 52-week range yet for AAPL."]
    lay = update.figure["layout"]
    assert [s["name"] for s in lay["shapes"]] == ["band-GE"]
    assert [i["name"] for i in lay["images"]] == ["logo-GE"]


@pytest.mark.parametrize("view", ["compare", "price"])
def test_a_stocks_first_price_draws_the_view_again(sessions, page, clock, view):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    with unit_of_work(sessions) as session:
        sync_watchlist(session, [*SYMBOLS, "NVDA"])
    search = f"?view={view}"
    state = page.load(search, None).state
    assert "NVDA" not in state.last_ms
    add(sessions, ("NVDA", "180", timedelta(seconds=5)))
    clock.now = NOW + timedelta(seconds=5)
    update = page.tick(state, search, None)
    # Compare needs its baseline; Price its own axis fitted to the price, not $0-$1.
    assert reloaded(update) and update.state.last_ms["NVDA"] == to_ms(clock.now)
    lo, hi = update.state.y["yaxis" if view == "compare" else "yaxis3"]
    assert lo < (0.0 if view == "compare" else 180.0) < hi and hi - lo < 5.0


def test_a_tick_draws_again_when_the_url_or_the_theme_changed(sessions, page):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    state = page.load("", None).state
    for search, theme in [("?view=price", None), ("?hide=GE", "light"), ("", "dark")]:
        update = page.tick(state, search, theme)
        assert reloaded(update) and update.state.search == search
        assert update.state.theme == ("dark" if theme == "dark" else "light")
    assert not reloaded(page.tick(state, "", "light"))  # None and "light" are the same theme


@pytest.mark.parametrize(
    "store", [None, {"ok": True, "garbage": 1}, "junk", {"ok": True, "last": "x"}]
)
def test_a_tick_on_a_state_the_page_cannot_read_draws_the_view_again(sessions, page, store):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    state = PageState.from_store(store)
    assert state == NOT_LOADED
    update = page.tick(state, "?view=price", None)
    assert reloaded(update) and update.state.loaded and update.messages == []


@pytest.mark.parametrize(
    "change",
    [
        {"y": {}},  # no axis to widen
        {"y": {"yaxis2": [1.0, 2.0]}},
        {"last": {"AAPL": 10**17}},  # after the year 9999
        {"since": 10**17},
    ],
)
def test_a_well_formed_store_that_does_not_fit_the_page_draws_the_view_again(
    sessions, page, clock, change
):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    store = {**page.load("", None).state.to_store(), **change}
    add(sessions, ("AAPL", "120", timedelta(seconds=5)))
    clock.now = NOW + timedelta(seconds=5)
    update = page.tick(PageState.from_store(store), "", None)  # no error: a new view
    assert reloaded(update) and update.state.last_ms["AAPL"] == to_ms(clock.now)


def test_a_page_following_live_draws_again_once_its_window_aged_a_tenth(sessions, page, clock):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    state = page.load("?range=1H", None).state
    clock.now = NOW + timedelta(minutes=5)
    assert not reloaded(page.tick(state, "?range=1H", None))
    clock.now = NOW + timedelta(minutes=7)  # more than 6 minutes: a tenth of an hour
    update = page.tick(state, "?range=1H", None)
    assert reloaded(update) and update.state.since_ms == to_ms(clock.now - timedelta(hours=1))


def test_previous_close_and_card_numbers_agree_with_the_seeded_rows(sessions, page):
    start = NOW - timedelta(days=1)
    seed(sessions, start, NOW)
    # Around the clock, a session is a New York calendar day: it opened at 05:00 UTC.
    opened = ALWAYS_OPEN.session_open(NOW)
    assert opened == NOW.replace(hour=5)
    last_i = int((NOW - start).total_seconds() // 60)
    before_i = int((opened - start).total_seconds() // 60) - 1  # the last minute before it
    numbers = page.load("", None).numbers
    for k, s in enumerate(SYMBOLS):
        last, previous = seeded_price(k, last_i), seeded_price(k, before_i)
        low, high = (90.0, 160.0) if s == "AAPL" else (140.0, 220.0)
        change = round(last - previous, 4)
        assert numbers["cards"][s] == [
            last,
            change,
            round((last - previous) / previous * 100, 2),
            to_ms(NOW),
            round(min(max((last - low) / (high - low), 0), 1), 3),
        ]
    assert numbers["at"] == to_ms(NOW) and numbers["live"] is True
    assert numbers["hidden"] == []
    hiding = page.load("?hide=GE,ZZZZ", None).numbers  # only watched stocks are named
    assert hiding["hidden"] == ["GE"] and set(hiding["cards"]) == set(SYMBOLS)


def test_the_market_line_says_whether_and_until_when_it_trades(sessions, clock):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    always = Page(sessions, clock, ALWAYS_OPEN, WEEK, 5, 5).load("", None).numbers
    assert (always["open"], always["market"]) == (
        True,
        "Simulated market · trades around the clock",
    )
    us = Page(sessions, clock, US_EQUITIES, WEEK, 5, 5)
    # 2026-11-27 is the day after Thanksgiving: a half day, closed at 13:00 New York.
    closed = us.load("", None).numbers
    assert (closed["open"], closed["market"]) == (False, "Closed · opens Mon 09:30 ET")
    clock.now = from_ms(to_ms(NOW.replace(day=30, hour=15)))  # Monday 10:00 New York
    opened = us.tick(NOT_LOADED, "", None).numbers
    assert (opened["open"], opened["market"]) == (True, "New York open · closes 16:00 ET")


def test_while_the_market_is_closed_a_live_range_shows_the_last_session(sessions, clock):
    # NOW is Friday 2026-11-27 15:00 New York, after that half day's 13:00 close; prices
    # run to the close. On Saturday noon the 1H range still shows the session's last hour.
    close = NOW.replace(hour=18)  # 13:00 New York
    seed(sessions, close - timedelta(hours=3), close - timedelta(seconds=1))
    clock.now = NOW.replace(day=28, hour=17)
    us = Page(sessions, clock, US_EQUITIES, WEEK, 5, 5)
    loaded = us.load("?range=1H", None)
    assert loaded.messages == [] and all(len(t["x"]) == 60 for t in loaded.figure["data"])
    edge = to_exchange_ms([to_ms(close - timedelta(seconds=60))])[0]
    assert loaded.figure["layout"]["xaxis"]["range"][1] == edge
    clock.now += timedelta(hours=2)  # hours later: no new price, nothing to draw again
    assert not reloaded(us.tick(loaded.state, "?range=1H", None))


def test_a_phone_gets_the_compact_view_and_a_change_of_screen_draws_again(sessions, page):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    phone = page.load("", None, compact=True)
    assert phone.state.compact and phone.figure["layout"]["dragmode"] is False
    assert PageState.from_store(phone.state.to_store()).compact
    assert not reloaded(page.tick(phone.state, "", None, compact=True))
    assert reloaded(page.tick(phone.state, "", None, compact=False))


def test_the_cards_are_sent_only_when_the_stocks_changed(sessions, page):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    first = page.load("", None)
    assert len(first.cards) == 2 and first.state.cards == fingerprint(chart_stocks_of(sessions))
    # Another view, range or hidden stock: the page keeps its cards (and the focus on them).
    again = page.load("?view=price&hide=GE", None, cards=first.state.cards)
    assert again.cards is None and again.numbers["hidden"] == ["GE"]
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL"])  # a stock leaves: the cards are drawn anew
    assert [f[0] for f in page.load("", None, cards=first.state.cards).cards] == ["AAPL"]


def chart_stocks_of(sessions):
    with sessions() as session:
        return chart_stocks(session)


def test_a_stock_added_without_history_says_when_its_prices_start():
    started = datetime(2026, 11, 27, 19, 5, tzinfo=timezone.utc)
    said = notes([stock("AAPL"), stock("NVDA", history_starts_at=started)], None)
    assert said == ["NVDA: the provider has no history; its prices start Nov 27 14:05 ET."]
