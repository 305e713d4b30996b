"""Thin Dash callbacks, registered on an app instance: they wire page_updates.py to the page.

The URL holds what the user chose (view, range, hidden stocks): the controls
only rewrite it, and one callback draws whatever it says, or on a tick appends
to what is drawn. Being one callback, a tick can never land on a view that
replaced the one it was computed for. The cards' text, the freshness and the
"no updates" banner are drawn in the browser (assets/page.js).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from dash import ClientsideFunction, Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import SQLAlchemyError

from app.control_ops import apply_ops, pending_ops
from app.page_state import NOT_LOADED, PageState
from app.page_updates import DB_DOWN, Page, PageUpdate
from app.query import RANGES, VIEWS, parse_query
from core.times import utc_of_exchange_text
from db.deadlines import database_deadline

log = logging.getLogger(__name__)
# A tick's reads get this share of the refresh interval, then the page shows the outage line.
TICK_BUDGET = 0.8
# A whole view's read (up to 5 years of bars) gets longer, yet a viewer opening the page
# in an outage sees the outage line in seconds, not after the engine's statement timeout.
LOAD_BUDGET_SECONDS = 5.0
X_RANGE = re.compile(r"^xaxis\d*\.range(\[[01]\])?$")


class Callbacks(NamedTuple):
    """The registered server callbacks, callable as plain functions (as the tests do)."""

    on_update: Callable
    on_control: Callable


def zoomed_range(relayout: dict) -> tuple[datetime, datetime] | None:
    """The x range a relayout event sets (UTC), or None when it sets none (a hover, a resize…)."""
    for key, value in relayout.items():
        if X_RANGE.match(key) and key.endswith("range") and isinstance(value, list):
            bounds = value[:2]
            break
    else:
        firsts = [v for k, v in relayout.items() if X_RANGE.match(k) and k.endswith("[0]")]
        lasts = [v for k, v in relayout.items() if X_RANGE.match(k) and k.endswith("[1]")]
        if not firsts or not lasts:
            return None
        bounds = [firsts[0], lasts[0]]
    try:
        start, end = sorted(utc_of_exchange_text(str(b)) for b in bounds)
    except (ValueError, TypeError):
        return None  # not a time: a hand-made request, ignored
    return (start, end) if start < end else None


def acted_on(triggered: list[dict]) -> str | None:
    """The control the user acted on: the first input that changed to a value.

    Dash lists every input that changed: one with no value (None) can come beside, say,
    a resize's relayout, so the first entry is not always it.
    """
    for entry in triggered:
        prop_id, value = str(entry.get("prop_id", "")), entry.get("value")
        if value:
            return prop_id.rsplit(".", 1)[0]
    return None


def joined_state(store: object, edge: object) -> PageState:
    """The page's state from its two stores: the view ("page"), and the newest points ("edge")."""
    if isinstance(store, dict) and isinstance(edge, dict):
        store = {**store, "last": edge.get("last"), "ly": edge.get("ly")}
    return PageState.from_store(store)


def _is_tick(update: PageUpdate) -> bool:
    return update.query is None


def digest(messages: list[str]) -> str:
    """A short digest of the status lines: a tick resends them only when it differs."""
    return hashlib.sha1("\n".join(messages).encode()).hexdigest()[:12]


def register_callbacks(app: Dash, page: Page) -> Callbacks:
    """Attach the page's callbacks to `app` and return the server-side ones."""
    ranges = [k for k, span in RANGES.items() if span <= page.longest]

    def answer(update: PageUpdate, before: PageState) -> tuple:
        drawn, notes = update.query, digest(update.messages)
        state = replace(update.state, notes=notes)
        store = state.to_store()
        edge = {"last": store.pop("last", {}), "ly": store.pop("ly", {})}
        # Only the newest points change on a tick: the rest is sent when it changes. Each
        # output of an answer is a component Dash marks busy and re-renders twice a
        # request, so the controls' marks travel in one store, applied in the browser.
        same = _is_tick(update) and state.y == before.y and notes == before.notes
        controls = (
            {
                "pressed": [str(drawn.view == k).lower() for k in VIEWS]
                + [str(not drawn.custom and drawn.range == k).lower() for k in ranges],
                "custom": drawn.custom,
                "simulated": update.simulated,
            }
            if drawn
            else no_update
        )
        return (
            update.figure if update.figure is not None else no_update,
            {"height": f"{update.height}px"} if update.height else no_update,
            no_update if same else store,
            edge,
            no_update if same else [html.Div(m, className="status-line") for m in update.messages],
            update.numbers if update.numbers is not None else no_update,
            update.cards if update.cards is not None else no_update,
            controls,
        )

    @app.callback(
        Output("chart", "figure"),
        Output("chart", "style"),
        Output("page", "data"),
        Output("edge", "data"),
        Output("status", "children"),
        Output("numbers", "data"),
        Output("card-frames", "data"),
        Output("controls", "data"),
        Input("url", "search"),
        Input("tick", "n_intervals"),
        Input("theme", "data"),
        Input("screen", "data"),
        State("page", "data"),
        State("edge", "data"),
    )
    def on_update(search, _n, theme, screen, store, edge):
        state, compact = joined_state(store, edge), screen == "compact"
        try:
            if ctx.triggered_id == "tick":
                # A tick that cannot read says so before the next one is due.
                with database_deadline(page.refresh_seconds * TICK_BUDGET):
                    return answer(page.tick(state, search, theme, compact), state)
            with database_deadline(max(LOAD_BUDGET_SECONDS, page.refresh_seconds * TICK_BUDGET)):
                return answer(page.load(search, theme, state.preset, compact), state)
        except SQLAlchemyError as exc:
            log.warning("chart read failed: %s", type(exc).__name__)
            message = html.Div(DB_DOWN, className="status-line status-error")
            # Nothing loaded: the next tick that works draws the view again. The numbers say
            # only that the server answered: its banner is for a server that does not.
            answered = {"outage": True}
            return (
                (no_update, no_update, NOT_LOADED.to_store(), {}, [message])
                + (answered,)
                + (no_update,) * 2
            )

    @app.callback(
        Output("url", "search"),
        Output("control-applied", "data"),
        # Set by assets/page.js: {"ops": [[number, kind, value], …]} (app/control_ops.py).
        Input("control-ops", "data"),
        Input("chart", "relayoutData"),
        State("url", "search"),
        State("page", "data"),
        State("control-applied", "data"),
        prevent_initial_call=True,
    )
    def on_control(ops, relayout, search, store, applied):
        done = applied if isinstance(applied, int) and not isinstance(applied, bool) else 0
        pending = pending_ops(ops, done, ranges)
        if pending is None:
            raise PreventUpdate  # a hand-made request
        query, _ = parse_query(search, page.longest)
        preset = joined_state(store, {"last": {}}).preset  # the page store without "last"
        query = apply_ops(query, pending, preset)
        zoomed = False
        if acted_on(ctx.triggered) == "chart" and isinstance(relayout, dict):
            if any(k.endswith(".autorange") and v for k, v in relayout.items()):
                query, zoomed = query.with_range(preset), True  # a double click: back to live
            elif (bounds := zoomed_range(relayout)) is not None:
                query, zoomed = query.with_custom(*bounds), True
        if not pending and not zoomed:
            # A resize or a hover: nothing the user chose (and a bad URL keeps its notice).
            raise PreventUpdate
        new = query.to_search()
        number = pending[-1].number if pending else done
        return (no_update if new == (search or "") else new), number

    app.clientside_callback(
        ClientsideFunction("stockstreamer", "theme"),
        Output("theme-choice", "data"),
        Output("theme", "data"),
        Output("theme-toggle", "aria-pressed"),
        Output("screen", "data"),
        Input("theme-toggle", "n_clicks"),
        State("theme-choice", "data"),
    )
    app.clientside_callback(
        ClientsideFunction("stockstreamer", "controls"),
        *[Output(f"view-{k}", "aria-pressed") for k in VIEWS],
        *[Output(f"range-{k}", "aria-pressed") for k in ranges],
        Output("range-custom", "hidden"),
        Output("follow-live", "hidden"),
        Output("simulated-notice", "hidden"),
        Input("controls", "data"),
    )
    app.clientside_callback(
        ClientsideFunction("stockstreamer", "applied"),  # page.js forgets the taken operations
        Output("written", "data", allow_duplicate=True),
        Input("control-applied", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("stockstreamer", "csvHref"),
        Output("download-csv", "href"),
        Input("url", "search"),
    )
    app.clientside_callback(
        ClientsideFunction("stockstreamer", "render"),
        Output("written", "data"),  # nothing: page.js writes the cards into the page
        Input("numbers", "data"),
        Input("card-frames", "data"),
        State("config", "data"),
    )
    return Callbacks(on_update, on_control)
