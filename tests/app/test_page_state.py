"""The page's state as the browser keeps it: read back leniently, written compactly."""

from __future__ import annotations

import json

import pytest

from app.page_state import NOT_LOADED, PageState
from tests.app.page_helpers import utc_ms

LAST = utc_ms(2026, 11, 27, 20)
SINCE = utc_ms(2026, 11, 26, 20)
LOADED = PageState(
    True,
    "?view=price&range=1H",
    "dark",
    "d2927f8555734425",
    {"AAPL": LAST, "GE": LAST - 5_000},
    SINCE,
    {"AAPL": 174.5},
    {"yaxis": [160.0, 180.0], "yaxis2": [1.5, 2]},
    "1H",
)
STORE = {
    "ok": True,
    "q": "?view=price&range=1H",
    "th": "dark",
    "fp": "d2927f8555734425",
    "last": {"AAPL": LAST, "GE": LAST - 5_000},
    "since": SINCE,
    "base": {"AAPL": 174.5},
    "y": {"yaxis": [160.0, 180.0], "yaxis2": [1.5, 2]},
    "preset": "1H",
    "cp": False,
    "cfp": "",
    "ly": {},
    "nt": "",
}


def test_a_loaded_state_round_trips_through_the_store_with_short_keys():
    assert LOADED.to_store() == STORE
    assert PageState.from_store(json.loads(json.dumps(STORE))) == LOADED
    # A store from before "cp" existed reads as drawn wide; only True is compact.
    assert PageState.from_store({k: v for k, v in STORE.items() if k != "cp"}) == LOADED
    assert PageState.from_store({**STORE, "cp": "yes"}) == LOADED
    assert PageState.from_store({**STORE, "cp": True}).compact
    for key, odd in (("cfp", 3), ("ly", []), ("ly", {"AAPL": "x"}), ("nt", 7)):
        assert PageState.from_store({**STORE, key: odd}) == LOADED
    full = PageState.from_store(
        {**STORE, "cfp": "abc", "ly": {"AAPL": 1.5, "GE": True}, "nt": "0a1b"}
    )
    assert (full.cards, full.logo_y, full.notes) == ("abc", {"AAPL": 1.5}, "0a1b")
    assert NOT_LOADED.to_store() == {"ok": False}
    assert PageState.from_store({"ok": False}) == NOT_LOADED
    assert not NOT_LOADED.loaded and NOT_LOADED.preset == "1D" and NOT_LOADED.newest_ms is None


def test_an_empty_but_loaded_state_round_trips():
    empty = PageState(True, "", "light", "fp", {}, 0, {}, {}, "1D")
    assert PageState.from_store(empty.to_store()) == empty and empty.newest_ms is None


def with_field(key: str, value: object) -> dict:
    return {**STORE, key: value}


def without(key: str) -> dict:
    return {k: v for k, v in STORE.items() if k != key}


@pytest.mark.parametrize(
    "store",
    [
        None,
        [],
        "ok",
        7,
        {},
        {"ok": False, **{k: v for k, v in STORE.items() if k != "ok"}},
        with_field("ok", 1),
        with_field("ok", "true"),
        *[without(key) for key in STORE if key not in ("ok", "cp", "cfp", "ly", "nt")],
        with_field("q", None),
        with_field("q", 3),
        with_field("th", "sepia"),
        with_field("th", None),
        with_field("fp", 3),
        with_field("last", []),
        with_field("last", {"AAPL": "soon"}),
        with_field("last", {"AAPL": True}),
        with_field("last", {"AAPL": 1.5}),
        with_field("last", {"AAPL": None}),
        with_field("last", {"AAPL": -1}),
        with_field("last", {"AAPL": 10**17}),  # after the year 9999: no datetime holds it
        with_field("since", "1970"),
        with_field("since", 1.5),
        with_field("since", False),
        with_field("since", 10**17),
        with_field("base", []),
        with_field("base", {"AAPL": 0}),
        with_field("base", {"AAPL": -1.0}),
        with_field("base", {"AAPL": "100"}),
        with_field("base", {"AAPL": True}),
        with_field("y", []),
        with_field("y", {"yaxis": [1.0]}),
        with_field("y", {"yaxis": [1.0, 2.0, 3.0]}),
        with_field("y", {"yaxis": [2.0, 1.0]}),
        with_field("y", {"yaxis": [1.0, 1.0]}),
        with_field("y", {"yaxis": ["a", "b"]}),
        with_field("y", {"yaxis": [False, True]}),
        with_field("y", {"yaxis": {"lo": 1, "hi": 2}}),
        with_field("preset", "custom"),
        with_field("preset", "2W"),
        with_field("preset", None),
    ],
)
def test_anything_but_a_well_formed_loaded_state_reads_as_nothing_loaded(store):
    assert PageState.from_store(store) == NOT_LOADED


def test_extra_keys_from_an_older_or_newer_page_are_ignored():
    assert PageState.from_store({**STORE, "mode": "live", "v": 2}) == LOADED


def test_new_points_move_each_stocks_last_point_and_widened_axes_and_keep_the_rest():
    state = LOADED.with_points({"AAPL": LAST + 5_000, "NVDA": LAST + 1}, {"yaxis2": [1.0, 3.0]})
    assert state.last_ms == {"AAPL": LAST + 5_000, "GE": LAST - 5_000, "NVDA": LAST + 1}
    assert state.y == {"yaxis": [160.0, 180.0], "yaxis2": [1.0, 3.0]}
    assert state.newest_ms == LAST + 5_000
    assert (state.search, state.fingerprint, state.since_ms, state.base, state.preset) == (
        LOADED.search,
        LOADED.fingerprint,
        SINCE,
        LOADED.base,
        "1H",
    )
    assert LOADED.last_ms == {"AAPL": LAST, "GE": LAST - 5_000}  # the old state is unchanged
    assert LOADED.with_points({}, {}) == LOADED
