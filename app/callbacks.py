"""Thin Dash callbacks, registered on an app instance: they wire page_updates.py to the page.

Two stores: "view" (a PageState: what the chart holds) is written by every
callback; "mode" (a ViewMode: following live or zoomed) only by the user's own
actions, so a tick answered late can never undo a zoom.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from dash import Dash, Input, Output, State, html, no_update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.page_state import LIVE, NOT_LOADED, PageState, ViewMode
from app.page_updates import DB_DOWN, PageUpdate, load_window, refresh, zoom
from core.times import Clock, to_ms, utc_of_exchange_text

log = logging.getLogger(__name__)


class Callbacks(NamedTuple):
    """The registered callback functions, callable as plain functions (as the tests do)."""

    on_tick: Callable
    on_follow_live: Callable
    on_relayout: Callable
    on_mode: Callable


def _outputs(update: PageUpdate) -> tuple:
    messages = [html.Div(m, className="status-line") for m in update.messages]
    patch = update.patch if update.patch is not None else no_update
    return patch, update.state.to_store(), messages, not update.simulated


def _down(exc: Exception) -> tuple:
    log.warning("chart read failed: %s", type(exc).__name__)
    message = html.Div(DB_DOWN, className="status-line status-error")
    # Nothing loaded: the next tick that works reloads the window.
    return no_update, NOT_LOADED.to_store(), [message], no_update


def zoomed_range(relayout: dict) -> tuple[datetime, datetime] | None:
    """The x range a relayout event sets (UTC), or None when it sets none (a y pan, a hover…)."""
    bounds = relayout.get("xaxis.range") or [
        relayout.get("xaxis.range[0]"),
        relayout.get("xaxis.range[1]"),
    ]
    if None in bounds:
        return None
    start, end = sorted(utc_of_exchange_text(str(b)) for b in bounds)
    return start, end


def register_callbacks(
    app: Dash, sessions: sessionmaker[Session], clock: Clock, days: float
) -> Callbacks:
    """Attach the page's callbacks to `app` and return them."""
    outputs = [
        Output("chart", "figure", allow_duplicate=True),
        Output("view", "data", allow_duplicate=True),
        Output("status", "children", allow_duplicate=True),
        Output("simulated-notice", "hidden", allow_duplicate=True),
    ]
    mode_output = Output("mode", "data", allow_duplicate=True)

    @app.callback(
        *outputs,
        Input("tick", "n_intervals"),
        State("view", "data"),
        State("mode", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def on_tick(_n, store, mode):
        state, view_mode = PageState.from_store(store), ViewMode.from_store(mode)
        try:
            return _outputs(refresh(sessions, clock, days, state, view_mode))
        except SQLAlchemyError as exc:
            return _down(exc)

    @app.callback(
        *outputs, mode_output, Input("follow-live", "n_clicks"), prevent_initial_call=True
    )
    def on_follow_live(_clicks):
        try:
            update = load_window(sessions, clock, days, reset_view=to_ms(clock()))
            return (*_outputs(update), LIVE.to_store())
        except SQLAlchemyError as exc:
            return (*_down(exc), no_update)

    @app.callback(
        *outputs,
        mode_output,
        Input("chart", "relayoutData"),
        State("view", "data"),
        prevent_initial_call=True,
    )
    def on_relayout(relayout, store):
        relayout = relayout if isinstance(relayout, dict) else {}
        try:
            if relayout.get("xaxis.autorange"):  # a double click: plotly already refitted
                return (*_outputs(load_window(sessions, clock, days)), LIVE.to_store())
            bounds = zoomed_range(relayout)
            if bounds is None:
                return (no_update,) * 5
            update = zoom(sessions, PageState.from_store(store), *bounds)
            return (*_outputs(update), ViewMode.zoomed(*bounds).to_store())
        except SQLAlchemyError as exc:
            return (*_down(exc), no_update)

    @app.callback(Output("mode-label", "children"), Input("mode", "data"))
    def on_mode(mode):
        return ViewMode.from_store(mode).label

    return Callbacks(on_tick, on_follow_live, on_relayout, on_mode)
