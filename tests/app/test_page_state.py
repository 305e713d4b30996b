"""The page's state as the browser keeps it: read back leniently, written compactly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.page_state import (
    FOLLOWING_LIVE,
    LIVE,
    NOT_LOADED,
    ZOOMED,
    PageState,
    ViewMode,
)
from tests.app.page_helpers import NOW, utc_ms

LOADED = PageState(True, "d2927f8555734425", {"AAPL": utc_ms(2026, 11, 27, 20)}, 1_795_204_800_000)


def test_a_loaded_state_round_trips_through_the_store_with_short_keys():
    store = LOADED.to_store()
    assert store == {
        "ok": True,
        "fp": "d2927f8555734425",
        "last": {"AAPL": utc_ms(2026, 11, 27, 20)},
        "since": 1_795_204_800_000,
    }
    assert PageState.from_store(store) == LOADED
    assert NOT_LOADED.to_store() == {"ok": False}
    assert PageState.from_store({"ok": False}) == NOT_LOADED


@pytest.mark.parametrize(
    "store",
    [
        None,
        [],
        "ok",
        {},
        {"ok": 1, "fp": "x", "last": {}, "since": 0},
        {"ok": True, "fp": "x", "last": {}},  # no "since"
        {"ok": True, "fp": 3, "last": {}, "since": 0},
        {"ok": True, "fp": "x", "last": [], "since": 0},
        {"ok": True, "fp": "x", "last": {"AAPL": "soon"}, "since": 0},
        {"ok": True, "fp": "x", "last": {"AAPL": True}, "since": 0},
        {"ok": True, "fp": "x", "last": {}, "since": "1970"},
        {"ok": True, "fp": "x", "last": {}, "since": 1.5},
    ],
)
def test_anything_but_a_well_formed_loaded_state_reads_as_nothing_loaded(store):
    assert PageState.from_store(store) == NOT_LOADED


def test_new_points_move_each_stocks_last_point_and_keep_the_rest():
    state = PageState(True, "fp", {"AAPL": 1, "GE": 2}, 0).with_points({"AAPL": 5, "NVDA": 6})
    assert state == PageState(True, "fp", {"AAPL": 5, "GE": 2, "NVDA": 6}, 0)


def test_the_view_mode_is_live_or_a_utc_range_with_its_label():
    assert LIVE.following_live and LIVE.label == FOLLOWING_LIVE == "Following live"
    assert LIVE.to_store() == {"mode": "live"}
    zoomed = ViewMode.zoomed(NOW - timedelta(hours=1), NOW)
    assert not zoomed.following_live and zoomed.label == ZOOMED
    assert ZOOMED == "Zoomed: live updates continue"
    assert zoomed.to_store() == {
        "mode": "zoomed",
        "range": [utc_ms(2026, 11, 27, 19), utc_ms(2026, 11, 27, 20)],
    }
    assert ViewMode.from_store(zoomed.to_store()) == zoomed
    assert ViewMode.from_store({"mode": "live"}) == LIVE


@pytest.mark.parametrize(
    "store",
    [
        None,
        {},
        {"mode": "panned"},
        {"mode": "zoomed"},
        {"mode": "zoomed", "range": [1]},
        {"mode": "zoomed", "range": ["a", "b"]},
        {"mode": "zoomed", "range": [1, 2, 3]},
        ["zoomed"],
    ],
)
def test_anything_but_a_well_formed_zoom_reads_as_following_live(store):
    assert ViewMode.from_store(store) == LIVE
