"""The page's callbacks, called as functions against seeded PostgreSQL and SQLite databases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from dash import Dash, no_update

from app.callbacks import register_callbacks
from app.layout import build_layout
from app.page_state import LIVE, PageState, ViewMode
from app.page_updates import DB_DOWN, NO_PRICES, NO_STOCKS
from app.patches import POINT_BUDGET
from core.records import Quote
from core.times import to_exchange_ms, to_ms
from db.engine import make_engine, make_session_factory, unit_of_work
from db.writes import sync_watchlist, upsert_profiles, write_quotes
from tests.app.page_helpers import NOW, PROFILES, SYMBOLS, ManualClock, ops, seed, utc_ms

LIVE_STORE = LIVE.to_store()  # what the page's "mode" store holds at first


def text_of(status) -> str:
    return " ".join(child.children for child in status)


def state_of(store) -> PageState:
    return PageState.from_store(store)


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def callbacks(sessions, clock):
    app = Dash(__name__)
    app.layout = build_layout(5, 7)
    return register_callbacks(app, sessions, clock, 7)


def test_first_load_draws_every_stock_with_band_logo_and_live_range(sessions, callbacks):
    seed(sessions, NOW - timedelta(days=8), NOW)  # one day older than the window
    figure, store, status, hidden = callbacks.on_tick(0, None, LIVE_STORE)
    changes = ops(figure)
    traces = changes[("data",)][1]
    assert [t["name"] for t in traces] == SYMBOLS
    for t in traces:
        assert 0 < len(t["x"]) <= POINT_BUDGET
        assert min(t["x"]) >= to_exchange_ms([to_ms(NOW - timedelta(days=7, minutes=1))])[0]
    assert [s["name"] for s in changes[("layout", "shapes")][1]] == ["band-AAPL", "band-GE"]
    assert [a["symbol"] for a in changes[("layout", "meta")][1]["logos"]] == SYMBOLS
    assert not any(loc[:2] == ("layout", "xaxis") for loc in changes)  # it autoranges
    assert state_of(store).loaded and set(state_of(store).last_ms) == set(SYMBOLS)
    assert hidden is False  # the simulated notice shows
    assert status == []


def test_a_tick_appends_only_the_new_points(sessions, callbacks, clock):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    _, store, *_ = callbacks.on_tick(0, None, LIVE_STORE)
    clock.now = NOW + timedelta(seconds=10)
    with unit_of_work(sessions) as session:
        write_quotes(
            session,
            [
                Quote("AAPL", Decimal("123.45"), NOW + timedelta(seconds=5), True),
                Quote("AAPL", Decimal("123.50"), NOW + timedelta(seconds=10), True),
            ],
            clock.now,
        )
    figure, store2, _, _ = callbacks.on_tick(1, store, LIVE_STORE)
    changes = ops(figure)
    assert changes[("data", 0, "x")][0] == "Extend"
    assert changes[("data", 0, "y")] == ("Extend", [123.45, 123.5])
    assert ("data", 1, "x") not in changes  # GE has nothing new
    assert ("data",) not in changes  # never the whole figure
    assert state_of(store2).last_ms["AAPL"] == to_ms(NOW + timedelta(seconds=10))
    assert state_of(store2).last_ms["GE"] == state_of(store).last_ms["GE"]
    again, *_ = callbacks.on_tick(2, store2, LIVE_STORE)
    assert ("data", 0, "x") not in ops(again)  # nothing twice


def test_a_zoom_rereads_the_range_at_full_resolution_and_ticks_keep_it(sessions, callbacks, clock):
    seed(sessions, NOW - timedelta(days=2), NOW, step=5)  # 34,561 ticks per stock
    first, store, *_ = callbacks.on_tick(0, None, LIVE_STORE)
    assert len(ops(first)[("data",)][1][0]["x"]) <= POINT_BUDGET
    # The chart speaks New York wall-clock time: 14:00-14:30 New York is 19:00-19:30 UTC.
    figure, same_store, _, _, mode = callbacks.on_relayout(
        {"xaxis.range[0]": "2026-11-27 14:00:00", "xaxis.range[1]": "2026-11-27 14:30:00"}, store
    )
    changes = ops(figure)
    assert changes[("data", 0, "x")][0] == "Assign"
    assert len(changes[("data", 0, "x")][1]) == 30 * 12 + 1  # every tick: full resolution
    assert not any(loc[0] == "layout" for loc in changes)  # the view is the user's
    assert mode == ViewMode((utc_ms(2026, 11, 27, 19), utc_ms(2026, 11, 27, 19, 30))).to_store()
    assert same_store == store
    assert callbacks.on_mode(mode) == "Zoomed: live updates continue"
    clock.now = NOW + timedelta(seconds=5)
    with unit_of_work(sessions) as session:
        write_quotes(session, [Quote("GE", Decimal("150"), clock.now, True)], clock.now)
    tick, *_ = callbacks.on_tick(1, store, mode)
    assert not any(loc[0] == "layout" for loc in ops(tick))  # a tick never moves the view
    assert ops(tick)[("data", 1, "y")] == ("Extend", [150.0])
    live, _, _, _, back = callbacks.on_follow_live(1)
    assert back == LIVE_STORE and callbacks.on_mode(back) == "Following live"
    assert ops(live)[("layout", "xaxis", "autorange")] == ("Assign", True)
    assert ops(live)[("layout", "xaxis", "uirevision")] == (
        "Assign",
        utc_ms(2026, 11, 27, 20, 0, 5),
    )
    reset, _, _, _, back = callbacks.on_relayout({"xaxis.autorange": True}, store)
    assert back == LIVE_STORE and ("data",) in ops(reset)
    assert (
        callbacks.on_relayout({"yaxis.range[0]": 1, "yaxis.range[1]": 2}, store) == (no_update,) * 5
    )


def test_a_page_left_open_reloads_its_window_once_an_hour(sessions, callbacks, clock):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    _, store, *_ = callbacks.on_tick(0, None, LIVE_STORE)
    clock.now = NOW + timedelta(minutes=59)
    assert ("data",) not in ops(callbacks.on_tick(1, store, LIVE_STORE)[0])
    clock.now = NOW + timedelta(minutes=61)
    assert ("data",) not in ops(callbacks.on_tick(2, store, ViewMode((0, 1)).to_store())[0])
    reloaded, new_store, *_ = callbacks.on_tick(3, store, LIVE_STORE)
    assert ("data",) in ops(reloaded) and state_of(new_store).since_ms > state_of(store).since_ms


def test_a_store_the_page_cannot_read_reloads_the_window_instead_of_failing(sessions, callbacks):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    for store, mode in [({"ok": True, "last": "x"}, {"mode": 7}), ("junk", ["zoomed"])]:
        figure, new_store, status, _ = callbacks.on_tick(0, store, mode)
        assert ("data",) in ops(figure) and state_of(new_store).loaded and status == []
        assert callbacks.on_mode(mode) == "Following live"
    zoom = {"xaxis.range": ["2026-11-27 14:00:00", "2026-11-27 14:30:00"]}
    figure, new_store, *_ = callbacks.on_relayout(zoom, {"ok": "yes"})
    assert figure is no_update and not state_of(new_store).loaded  # the next tick reloads


def test_messages_for_no_stocks_no_prices_and_missing_metadata(sessions, callbacks):
    figure, store, status, *_ = callbacks.on_tick(0, None, LIVE_STORE)
    assert figure is no_update and text_of(status) == NO_STOCKS and not state_of(store).loaded
    with unit_of_work(sessions) as session:
        sync_watchlist(session, SYMBOLS)
    _, store, status, hidden = callbacks.on_tick(1, store, LIVE_STORE)
    text = text_of(status)
    assert NO_PRICES in text and "No 52-week range yet for AAPL, GE" in text
    assert "No logo yet for AAPL, GE" in text and hidden is True


def test_new_metadata_reloads_the_window_by_patch(sessions, callbacks):
    seed(sessions, NOW - timedelta(hours=1), NOW, profiles=False)
    _, store, status, *_ = callbacks.on_tick(0, None, LIVE_STORE)
    assert "No logo yet" in text_of(status)
    with unit_of_work(sessions) as session:
        upsert_profiles(
            session,
            [PROFILES[1]],
            NOW,
        )
    figure, _, status, *_ = callbacks.on_tick(1, store, LIVE_STORE)
    changes = ops(figure)
    assert [s["name"] for s in changes[("layout", "shapes")][1]] == ["band-GE"]
    assert text_of(status).split("No 52-week range yet for AAPL. ")[-1] == "No logo yet for AAPL."


def test_an_unreachable_database_shows_the_message_and_the_page_recovers(
    database_url, sessions, clock
):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    url = make_engine(database_url).url
    if url.get_backend_name() == "sqlite":
        gone = url.set(database="/nonexistent-dir/gone.sqlite")
    else:
        gone = url.set(port=1)  # nothing listens there
    down_engine = make_engine(gone)
    app = Dash(__name__)
    app.layout = build_layout(5, 7)
    down = register_callbacks(app, make_session_factory(down_engine), clock, 7)
    figure, store, status, *_ = down.on_tick(
        0, PageState(True, "x", {}, to_ms(NOW)).to_store(), LIVE_STORE
    )
    assert figure is no_update and state_of(store).loaded is False
    assert text_of(status) == DB_DOWN
    app2 = Dash(__name__)
    app2.layout = build_layout(5, 7)
    back = register_callbacks(app2, sessions, clock, 7)
    figure, store, status, *_ = back.on_tick(1, store, LIVE_STORE)
    assert ("data",) in ops(figure) and state_of(store).loaded and status == []
    down_engine.dispose()
