"""Thin Dash callbacks, registered on an app instance: they wire views.py to the page.

Two stores: "view" (what the page has: last point per stock, fingerprint) is
written by every callback; "mode" (following live or zoomed) only by the user's
own actions, so a tick answered late can never undo a zoom.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from dash import Dash, Input, Output, State, html, no_update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.views import DB_DOWN, View, load_window, refresh, zoom
from core.times import Clock, to_ms, utc_of_exchange_text

log = logging.getLogger(__name__)
LIVE = {"mode": "live"}


class Callbacks(NamedTuple):
    """The registered callback functions, callable as plain functions (as the tests do)."""

    on_tick: Callable
    on_follow_live: Callable
    on_relayout: Callable
    on_mode: Callable


def _outputs(view: View) -> tuple:
    messages = [html.Div(m, className="status-line") for m in view.messages]
    patch = view.patch if view.patch is not None else no_update
    return patch, view.store, messages, not view.simulated


def _down(store: dict | None, exc: Exception) -> tuple:
    log.warning("chart read failed: %s", type(exc).__name__)
    store = {**(store or {}), "ok": False}  # the next tick that works reloads the window
    message = html.Div(DB_DOWN, className="status-line status-error")
    return no_update, store, [message], no_update


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
        following = (mode or LIVE)["mode"] == "live"
        try:
            return _outputs(refresh(sessions, clock, days, store, following))
        except SQLAlchemyError as exc:
            return _down(store, exc)

    @app.callback(
        *outputs, mode_output, Input("follow-live", "n_clicks"), prevent_initial_call=True
    )
    def on_follow_live(_clicks):
        try:
            return (*_outputs(load_window(sessions, clock, days, reset_view=to_ms(clock()))), LIVE)
        except SQLAlchemyError as exc:
            return (*_down(None, exc), no_update)

    @app.callback(
        *outputs,
        mode_output,
        Input("chart", "relayoutData"),
        State("view", "data"),
        prevent_initial_call=True,
    )
    def on_relayout(relayout, store):
        relayout = relayout or {}
        try:
            if relayout.get("xaxis.autorange"):  # a double click: plotly already refitted
                return (*_outputs(load_window(sessions, clock, days)), LIVE)
            bounds = relayout.get("xaxis.range") or [
                relayout.get("xaxis.range[0]"),
                relayout.get("xaxis.range[1]"),
            ]
            if None in bounds:
                return (no_update,) * 5  # a pan of the y axis, a hover…
            start, end = sorted(utc_of_exchange_text(str(b)) for b in bounds)
            zoomed = {"mode": "zoomed", "range": [to_ms(start), to_ms(end)]}
            return (*_outputs(zoom(sessions, store, start, end)), zoomed)
        except SQLAlchemyError as exc:
            return (*_down(store, exc), no_update)

    @app.callback(Output("mode-label", "children"), Input("mode", "data"))
    def on_mode(mode):
        zoomed = (mode or LIVE)["mode"] == "zoomed"
        return "Zoomed: live updates continue" if zoomed else "Following live"

    return Callbacks(on_tick, on_follow_live, on_relayout, on_mode)
