"""What the callbacks compute, as plain functions on seeded PostgreSQL and SQLite databases."""

from __future__ import annotations

from datetime import timedelta

from app.page_state import LIVE, NOT_LOADED, PageState, ViewMode
from app.page_updates import NO_STOCKS, load_window, refresh, zoom
from core.times import to_ms
from tests.app.page_helpers import NOW, SYMBOLS, ManualClock, ops, seed


def test_a_first_load_gives_the_window_and_a_loaded_state(sessions):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    update = load_window(sessions, ManualClock(), 7)
    assert ("data",) in ops(update.patch)
    assert update.state.loaded and update.state.last_ms == dict.fromkeys(SYMBOLS, to_ms(NOW))
    assert update.state.since_ms == to_ms(NOW - timedelta(days=7))
    assert update.simulated and update.messages == []


def test_no_stocks_leaves_the_chart_and_nothing_is_loaded(sessions):
    update = load_window(sessions, ManualClock(), 7)
    assert update.patch is None and update.state == NOT_LOADED and update.messages == [NO_STOCKS]


def test_a_tick_on_an_unloaded_or_stale_state_reloads_the_whole_window(sessions):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    clock = ManualClock()
    for state in (NOT_LOADED, PageState.from_store({"ok": True, "garbage": 1})):
        assert ("data",) in ops(refresh(sessions, clock, 7, state, LIVE).patch)
    loaded = load_window(sessions, clock, 7).state
    clock.now = NOW + timedelta(minutes=61)
    assert ("data",) in ops(refresh(sessions, clock, 7, loaded, LIVE).patch)
    zoomed = ViewMode.zoomed(NOW - timedelta(minutes=30), NOW)
    tick = refresh(sessions, clock, 7, loaded, zoomed)  # a zoomed page keeps its window
    assert ("data",) not in ops(tick.patch) and tick.state == loaded


def test_a_zoom_needs_a_current_state_and_keeps_it(sessions):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    loaded = load_window(sessions, ManualClock(), 7).state
    update = zoom(sessions, loaded, NOW - timedelta(minutes=30), NOW)
    assert ops(update.patch)[("data", 0, "x")][0] == "Assign" and update.state == loaded
    stale = PageState(True, "another", loaded.last_ms, loaded.since_ms)
    assert zoom(sessions, stale, NOW - timedelta(minutes=30), NOW).patch is None
    assert zoom(sessions, NOT_LOADED, NOW - timedelta(minutes=30), NOW).patch is None
