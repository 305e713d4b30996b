"""Thin Dash callbacks, registered on an app instance: they wire views.py to the page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from dash import Dash, Input, Output, State, html, no_update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.shaping import utc_of_exchange_text
from app.views import DB_DOWN, Clock, View, load_window, refresh, zoom

log = logging.getLogger(__name__)


def _outputs(view: View) -> tuple:
    messages = [html.Div(m, className="status-line") for m in view.messages]
    mode = (
        "Following live"
        if view.store.get("mode", "live") == "live"
        else "Zoomed: live updates continue"
    )
    return (
        view.patch if view.patch is not None else no_update,
        view.store,
        messages,
        not view.simulated,
        mode,
    )


def _down(store: dict | None, exc: Exception) -> tuple:
    log.warning("chart read failed: %s", type(exc).__name__)
    store = {**(store or {}), "ok": False}  # the next tick that works reloads the window
    return (
        no_update,
        store,
        [html.Div(DB_DOWN, className="status-line status-error")],
        no_update,
        no_update,
    )


class Callbacks(NamedTuple):
    """The registered callback functions, callable as plain functions (as the tests do)."""

    on_tick: Callable
    on_follow_live: Callable
    on_relayout: Callable


def register_callbacks(
    app: Dash, sessions: sessionmaker[Session], clock: Clock, days: float
) -> Callbacks:
    """Attach the page's callbacks to `app` and return them."""
    outputs = [
        Output("chart", "figure", allow_duplicate=True),
        Output("view", "data", allow_duplicate=True),
        Output("status", "children", allow_duplicate=True),
        Output("simulated-notice", "hidden", allow_duplicate=True),
        Output("mode-label", "children", allow_duplicate=True),
    ]

    @app.callback(
        *outputs,
        Input("tick", "n_intervals"),
        State("view", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def on_tick(_n, store):
        try:
            return _outputs(refresh(sessions, clock, days, store))
        except SQLAlchemyError as exc:
            return _down(store, exc)

    @app.callback(
        *outputs, Input("follow-live", "n_clicks"), State("view", "data"), prevent_initial_call=True
    )
    def on_follow_live(_clicks, store):
        try:
            return _outputs(load_window(sessions, clock, days, store, follow_live=True))
        except SQLAlchemyError as exc:
            return _down(store, exc)

    @app.callback(
        *outputs, Input("chart", "relayoutData"), State("view", "data"), prevent_initial_call=True
    )
    def on_relayout(relayout, store):
        relayout = relayout or {}
        try:
            if relayout.get("xaxis.autorange"):
                return _outputs(load_window(sessions, clock, days, store, follow_live=True))
            bounds = relayout.get("xaxis.range") or [
                relayout.get("xaxis.range[0]"),
                relayout.get("xaxis.range[1]"),
            ]
            if None in bounds:
                return (no_update,) * 5  # a pan of the y axis, a logo refit, a hover…
            start, end = sorted(utc_of_exchange_text(str(b)) for b in bounds)
            return _outputs(zoom(sessions, store, start, end))
        except SQLAlchemyError as exc:
            return _down(store, exc)

    return Callbacks(on_tick, on_follow_live, on_relayout)
