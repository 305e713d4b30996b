"""The page's server callbacks, called as functions against seeded PostgreSQL and SQLite databases.

Dash's callback context (which input fired) is set the way Dash's own testing
guide does it: `context_value` in a copied contextvars context.
"""

from __future__ import annotations

import json
from contextvars import copy_context
from datetime import datetime, timedelta, timezone

import pytest
from dash import Dash, Patch, no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate

from app.callbacks import joined_state, register_callbacks, zoomed_range
from app.layout import build_layout
from app.page_state import NOT_LOADED, PageState
from app.page_updates import DB_DOWN, NO_STOCKS, Page
from core.market import ALWAYS_OPEN
from db.engine import make_engine, make_session_factory
from tests.app.page_helpers import NOW, SYMBOLS, ManualClock, seed

WEEK = timedelta(days=7)
PROPS = {
    "tick": "n_intervals",
    "url": "search",
    "theme": "data",
    "chart": "relayoutData",
    "control-ops": "data",
}
# on_update's outputs, in order.
FIGURE, STYLE, STORE, EDGE, STATUS, NUMBERS, CARDS, CONTROLS = range(8)
OUTPUTS = 8
# The controls store's marks: view-compare, view-price, range-1H, -1D, -5D, -7D.


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def fired(callback, trigger: str | dict | None, value: object, *args: object):
    """Call a registered callback as Dash would after `trigger` changed to `value`."""
    if isinstance(trigger, dict):
        prop_id = json.dumps(trigger, sort_keys=True, separators=(",", ":")) + ".n_clicks"
    else:
        prop_id = f"{trigger}.{PROPS.get(trigger, 'n_clicks')}"
    triggered = [{"prop_id": prop_id, "value": value}] if trigger else []

    def run():
        context_value.set(AttributeDict(triggered_inputs=triggered))
        return callback(*args)

    return copy_context().run(run)


def registered(sessions, clock):
    app = Dash(__name__)
    app.layout = build_layout(5, WEEK)
    return register_callbacks(app, Page(sessions, clock, ALWAYS_OPEN, WEEK, 5, 5))


@pytest.fixture
def callbacks(sessions):
    return registered(sessions, ManualClock())


def text_of(status) -> str:
    return " ".join(child.children for child in status)


def on_control(callbacks, data, search="", store=None, applied=0, relayout=None):
    """on_control as Dash calls it after page.js sent `data`, or after a zoom: (search, number)."""
    trigger, value = ("chart", relayout) if relayout is not None else ("control-ops", data)
    return fired(callbacks.on_control, trigger, value, data, relayout, search, store, applied)


def control(callbacks, *clicks, search="", store=None, relayout=None):
    """on_control after these clicks ([kind, value] each, numbered from 1) or a zoom."""
    data = {"ops": [[n, kind, value] for n, (kind, value) in enumerate(clicks, 1)]}
    return on_control(callbacks, data if clicks else None, search, store, relayout=relayout)


# zoomed_range: what a relayout event sets (the chart speaks New York wall-clock time).


def test_a_box_zoom_is_read_as_a_utc_range():
    # 14:00-14:30 New York in November is 19:00-19:30 UTC.
    zoom = {"xaxis.range[0]": "2026-11-27 14:00:00", "xaxis.range[1]": "2026-11-27 14:30:00"}
    assert zoomed_range(zoom) == (utc(2026, 11, 27, 19), utc(2026, 11, 27, 19, 30))
    # A zoom on the third panel of the Price view (its x axis matches the first).
    third = {"xaxis3.range[0]": "2026-07-01 09:30:00.5", "xaxis3.range[1]": "2026-07-01 16:00"}
    start, end = zoomed_range(third)
    assert start == utc(2026, 7, 1, 13, 30).replace(microsecond=500_000)
    assert end == utc(2026, 7, 1, 20)


def test_a_pan_or_a_scroll_sets_the_range_as_a_list_in_any_order():
    pan = {"xaxis.range": ["2026-11-27 14:30:00", "2026-11-27 14:00:00"]}
    assert zoomed_range(pan) == (utc(2026, 11, 27, 19), utc(2026, 11, 27, 19, 30))
    assert zoomed_range({"xaxis2.range": ["2026-11-27 14:00", "2026-11-27 15:00", "x"]}) == (
        utc(2026, 11, 27, 19),
        utc(2026, 11, 27, 20),
    )


@pytest.mark.parametrize(
    "relayout",
    [
        {},
        {"autosize": True},
        {"yaxis.range[0]": 1, "yaxis.range[1]": 2},
        {"xaxis.range[0]": "2026-11-27 14:00:00"},  # one end only
        {"xaxis.autorange": True},
        {"xaxis.range": "2026-11-27 14:00:00"},
        {"xaxis.range": []},
        {"xaxis.range": ["2026-11-27 14:00:00"]},
        {"xaxis.range": [None, None]},
        {"xaxis.range": ["soon", "later"]},
        {"xaxis.range": [{"a": 1}, [2]]},
        {"xaxis.range": ["", "2026-11-27 14:00:00"]},
        {"xaxis.range": ["2026-11-27 14:00:00", "2026-11-27 14:00:00"]},  # no width
        {"xaxis.range[0]": "NaT", "xaxis.range[1]": 5},
        {"xaxis.range": [True, False]},
        {"xaxis.range": ["99999-01-01", "2026-01-01"]},
    ],
)
def test_anything_but_an_x_range_is_none_and_never_an_error(relayout):
    assert zoomed_range(relayout) is None


# on_control: a click or a zoom becomes the next URL.


def test_the_view_and_range_buttons_rewrite_the_url(callbacks):
    assert control(callbacks, ("view", "price")) == ("?view=price", 1)
    assert control(callbacks, ("view", "compare"), search="?view=price&range=1H") == (
        "?range=1H",
        1,
    )
    assert control(callbacks, ("range", "1H")) == ("?range=1H", 1)
    assert control(callbacks, ("range", "7D"), search="?view=price&hide=GE") == (
        "?view=price&range=7D&hide=GE",
        1,
    )
    custom = "?start=2026-11-27T10:00:00&end=2026-11-27T11:00:00"
    assert control(callbacks, ("range", "5D"), search=custom) == ("?range=5D", 1)
    # Already there: the URL stays, and the page learns the click was taken.
    assert control(callbacks, ("range", "1D")) == (no_update, 1)


def test_two_clicks_within_one_round_trip_both_count(callbacks):
    both = {"ops": [[1, "view", "price"], [2, "range", "5D"]]}
    # The second request carries the URL from before the first answer, and both clicks.
    assert on_control(callbacks, both) == ("?view=price&range=5D", 2)
    # The first answer came first: the URL has the first click, only the second is applied.
    assert on_control(callbacks, both, search="?view=price", applied=1) == (
        "?view=price&range=5D",
        2,
    )
    # A card's click carries the whole hidden set; one already taken is not applied again.
    cards = {"ops": [[3, "hidden", ["AAPL"]], [4, "hidden", ["AAPL", "GE"]]]}
    assert on_control(callbacks, cards, search="?range=1H", applied=2) == (
        "?range=1H&hide=AAPL,GE",
        4,
    )
    assert on_control(callbacks, cards, search="?range=1H&hide=AAPL", applied=3) == (
        "?range=1H&hide=AAPL,GE",
        4,
    )
    with pytest.raises(PreventUpdate):  # every click taken, no zoom: nothing to do
        on_control(callbacks, cards, search="?range=1H&hide=AAPL,GE", applied=4)


def test_a_card_click_sets_the_hidden_stocks_the_page_asks_for(callbacks):
    assert control(callbacks, ("hidden", ["GE"]), search="?view=price") == (
        "?view=price&hide=GE",
        1,
    )
    assert control(callbacks, ("hidden", ["AAPL"]), search="?hide=AAPL,GE") == ("?hide=AAPL", 1)
    assert control(callbacks, ("hidden", []), search="?range=1H&hide=AAPL,GE") == ("?range=1H", 1)


@pytest.mark.parametrize(
    "data",
    [
        {"ops": "x"},
        {"ops": [[1, "view", "candles"]]},
        {"ops": [[1, "view", ["price"]]]},
        {"ops": [[1, "range", "2D"]]},
        {"ops": [[0, "view", "price"]]},
        {"ops": [[True, "view", "price"]]},
        {"ops": [[2, "view", "price"], [1, "range", "1H"]]},  # out of order
        {"ops": [[1, "view", "price"], [1, "range", "1H"]]},  # a number twice
        {"ops": [[1, "hidden", ["GE", 3]]]},
        {"ops": [[1, "hidden", ["<b>"]]]},
        {"ops": [[1, "hidden", "GE"]]},
        {"ops": [[1, "hidden", ["GE"] * 10_001]]},
        {"ops": [[1, "live", "now"]]},
        {"ops": [[1, "drop", "tables"]]},
        {"ops": [[1, "view"]]},
        {"ops": [[n, "view", "price"] for n in range(1, 102)]},
        "GE",
        [1],
    ],
)
def test_operations_the_page_never_sends_change_nothing(callbacks, data):
    with pytest.raises(PreventUpdate):
        on_control(callbacks, data)


def test_follow_live_and_a_double_click_return_to_the_preset_range(callbacks):
    custom = "?view=price&start=2026-11-27T10:00:00&end=2026-11-27T11:00:00"
    store = PageState(True, custom, "light", "fp", {}, 0, {}, {}, "5D").to_store()
    assert control(callbacks, ("live", None), search=custom, store=store) == (
        "?view=price&range=5D",
        1,
    )
    double = {"xaxis.autorange": True, "xaxis.showspikes": False}
    assert control(callbacks, search=custom, store=store, relayout=double) == (
        "?view=price&range=5D",
        0,
    )
    # A store the page cannot read: the default range.
    assert control(callbacks, ("live", None), search=custom, store="junk") == ("?view=price", 1)


def test_a_zoom_becomes_a_custom_range_in_the_url(callbacks):
    zoom = {"xaxis2.range[0]": "2026-11-27 14:00:00", "xaxis2.range[1]": "2026-11-27 14:30:00"}
    assert control(callbacks, search="?view=price", relayout=zoom) == (
        "?view=price&start=2026-11-27T14:00:00&end=2026-11-27T14:30:00",
        0,
    )
    for nothing in ({"autosize": True}, {"xaxis.range": ["soon", "later"]}, "junk"):
        with pytest.raises(PreventUpdate):
            control(callbacks, search="?view=price", relayout=nothing)


def test_a_bad_url_is_rewritten_clean_by_the_next_control_and_kept_by_a_resize(callbacks):
    bad = "?view=candles&hide=<b>"
    assert control(callbacks, ("range", "1H"), search=bad) == ("?range=1H", 1)
    with pytest.raises(PreventUpdate):  # its notice stays until the user acts
        control(callbacks, search=bad, relayout={"autosize": True})


# on_update: the URL drawn, or a tick appended.


def test_the_first_load_draws_the_view_and_marks_the_controls(sessions, callbacks):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    out = fired(
        callbacks.on_update, None, None, "?view=price&range=1H", None, None, None, None, None
    )
    assert len(out) == OUTPUTS
    figure = out[FIGURE]
    assert isinstance(figure, dict) and [t["name"] for t in figure["data"]] == SYMBOLS
    assert out[STYLE] == {"height": f"{figure['layout']['height']}px"}
    state = joined_state(out[STORE], out[EDGE])
    assert state.loaded and state.search == "?view=price&range=1H" and state.preset == "1H"
    assert out[STATUS] == [] and out[CONTROLS]["simulated"] is True  # the page says so
    assert set(out[NUMBERS]["cards"]) == set(SYMBOLS) and len(out[CARDS]) == 2
    assert out[CONTROLS]["pressed"] == ["false", "true", "true", "false", "false", "false"]
    assert out[CONTROLS]["custom"] is False


def test_a_custom_range_shows_custom_and_follow_live(sessions, callbacks):
    seed(sessions, NOW - timedelta(hours=6), NOW)
    search = "?start=2026-11-27T10:00:00&end=2026-11-27T11:00:00"
    out = fired(callbacks.on_update, "url", search, search, None, "dark", None, None, None)
    assert out[CONTROLS]["pressed"] == ["true", "false", "false", "false", "false", "false"]
    assert out[CONTROLS]["custom"] is True
    assert out[FIGURE]["layout"]["title"]["text"].endswith("(custom range)")


def test_a_tick_appends_and_leaves_the_rest_of_the_page(sessions, callbacks):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    first = fired(callbacks.on_update, None, None, "", None, None, None, None, None)
    out = fired(callbacks.on_update, "tick", 1, "", 1, None, None, first[STORE], first[EDGE])
    assert isinstance(out[FIGURE], Patch)
    assert out[STYLE] is no_update and out[CARDS] is no_update
    assert out[CONTROLS] is no_update
    # A tick sends the newest points only: the rest of the state and the status lines
    # are unchanged, and not sent again.
    assert out[STORE] is no_update and out[EDGE] == first[EDGE] and out[STATUS] is no_update
    assert joined_state(first[STORE], out[EDGE]) == joined_state(first[STORE], first[EDGE])
    assert out[NUMBERS]["cards"] == first[NUMBERS]["cards"]


def test_a_tick_with_a_store_the_page_cannot_read_draws_the_view_again(sessions, callbacks):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    for store in ({"ok": True, "last": "x"}, "junk", None, {"ok": "yes"}):
        out = fired(callbacks.on_update, "tick", 3, "", 3, None, None, store, {"last": {}})
        assert isinstance(out[FIGURE], dict) and joined_state(out[STORE], out[EDGE]).loaded
        assert out[STATUS] == []


def test_a_tick_resends_status_lines_only_when_they_differ_from_those_shown(sessions, callbacks):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    search = "?view=candles"  # a notice, kept on screen across ticks
    first = fired(callbacks.on_update, None, None, search, None, None, None, None, None)
    assert "candles" in text_of(first[STATUS])
    same = fired(callbacks.on_update, "tick", 1, search, 1, None, None, first[STORE], first[EDGE])
    assert isinstance(same[FIGURE], Patch) and same[STATUS] is no_update
    older = {**first[STORE], "nt": "something else"}  # e.g. a page before this field
    out = fired(callbacks.on_update, "tick", 2, search, 2, None, None, older, first[EDGE])
    assert isinstance(out[FIGURE], Patch) and text_of(out[STATUS]) == text_of(first[STATUS])
    assert out[STORE] == first[STORE]  # the digest shown is kept again


def test_no_stocks_says_so(callbacks):
    out = fired(callbacks.on_update, None, None, "", None, None, None, None, None)
    assert out[FIGURE]["data"] == [] and text_of(out[STATUS]) == NO_STOCKS
    assert out[CONTROLS]["simulated"] is False


def test_an_unreachable_database_shows_the_message_and_the_page_recovers(database_url, sessions):
    seed(sessions, NOW - timedelta(hours=1), NOW)
    url = make_engine(database_url).url
    if url.get_backend_name() == "sqlite":
        gone = url.set(database="/nonexistent-dir/gone.sqlite")
    else:
        gone = url.set(port=1)  # nothing listens there
    down_engine = make_engine(gone)
    clock = ManualClock()
    down = registered(make_session_factory(down_engine), clock)
    loaded = fired(
        registered(sessions, clock).on_update, None, None, "", None, None, None, None, None
    )
    for trigger in ("tick", "url"):
        out = fired(down.on_update, trigger, 1, "", 1, None, None, loaded[STORE], loaded[EDGE])
        assert len(out) == OUTPUTS and out[FIGURE] is no_update
        assert joined_state(out[STORE], out[EDGE]) == NOT_LOADED and out[STORE] == {"ok": False}
        assert text_of(out[STATUS]) == DB_DOWN
        assert out[NUMBERS] == {"outage": True}  # an answer: the page's banner stays away
        assert all(v is no_update for v in out[NUMBERS + 1 :])
    back = registered(sessions, clock)
    out = fired(back.on_update, "tick", 2, "", 2, None, None, {"ok": False}, {})
    assert isinstance(out[FIGURE], dict) and joined_state(out[STORE], out[EDGE]).loaded
    assert out[STATUS] == []
    down_engine.dispose()


def test_an_input_listed_with_no_value_beside_a_resize_is_not_what_was_acted_on(callbacks):
    # Dash lists every input that changed, the operations store with nothing in it among
    # them: the one listed first must not be taken for the control acted on.
    zoom = {"xaxis.range[0]": "2026-11-27 14:00:00", "xaxis.range[1]": "2026-11-27 14:30:00"}

    def run(triggered, relayout):
        def call():
            context_value.set(AttributeDict(triggered_inputs=triggered))
            return callbacks.on_control(None, relayout, "", None, 0)

        return copy_context().run(call)

    fresh = {"prop_id": "control-ops.data", "value": None}
    with pytest.raises(PreventUpdate):
        run([fresh, {"prop_id": "chart.relayoutData", "value": {"autosize": True}}], {})
    zoomed = run([fresh, {"prop_id": "chart.relayoutData", "value": zoom}], zoom)
    assert zoomed == ("?start=2026-11-27T14:00:00&end=2026-11-27T14:30:00", 0)
