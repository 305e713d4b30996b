"""The watchlist edited on the page: the "Add symbol" field, each card's remove button, Undo.

The checks and the write are the editor's (the server's): the page only asks. With
editing off the controls are hidden and the editor refuses every request, so a
hand-made request changes nothing either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from dash import ClientsideFunction, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

UNDO_SECONDS = 10  # how long "Undo" stays after a remove (assets/page.js hides it)
NOT_EDITABLE = "The watchlist cannot be edited here (STOCKSTREAMER_WATCHLIST_EDITABLE is off)"


class EditOutcome(Protocol):
    """What an edit gave: whether it was done, and the line that says so or says why not."""

    ok: bool
    message: str


# (action "add", "remove" or "undo", the symbol as typed) -> the outcome; checks included.
Editor = Callable[[str, str], EditOutcome]


@dataclass(frozen=True)
class Refused:
    """An edit refused before it reached the editor."""

    message: str
    ok: bool = False


def watch_bar(editable: bool) -> html.Div:
    """The field and button that add a symbol, the message line, and Undo."""
    return html.Div(
        className="watchbar",
        role="group",
        hidden=not editable,
        **{"aria-label": "Watchlist"},
        children=[
            html.Label("Add symbol", htmlFor="add-symbol", className="watch-label"),
            dcc.Input(
                id="add-symbol",
                type="text",
                placeholder="e.g. MSFT",
                maxLength=16,
                autoComplete="off",
                spellCheck=False,
                className="watch-input",
            ),
            html.Button("Add", id="add-button", className="button", type="button"),
            html.Span(id="watch-message", className="watch-message", role="status"),
            html.Button(
                "Undo", id="watch-undo", className="button button-quiet", type="button", hidden=True
            ),
            dcc.Store(id="watch-edit", storage_type="memory"),  # a card's remove (page.js)
            dcc.Store(id="watch-undo-symbol", storage_type="memory"),
            dcc.Store(id="watch-undo-timer", storage_type="memory"),
        ],
    )


def register_watch_callbacks(
    app: Dash, editor: Editor | None, changed: Callable[[], None] = lambda: None
) -> Callable:
    """Add, remove and undo through `editor` (None: editing is off, every request refused).

    `changed` runs after each edit that was done (the page's shared reads forget theirs).
    """

    def edit(action: str, symbol: object) -> EditOutcome:
        if editor is None:
            return Refused(NOT_EDITABLE)
        # Nothing typed (or a hand-made request): the editor's own check says what to type.
        return editor(action, symbol if isinstance(symbol, str) else "")

    @app.callback(
        Output("watch-message", "children"),
        Output("watch-message", "className"),
        Output("add-symbol", "value"),
        Output("watch-undo", "hidden"),
        Output("watch-undo-symbol", "data"),
        Output("tick", "n_intervals"),
        Input("add-button", "n_clicks"),
        Input("add-symbol", "n_submit"),
        Input("watch-edit", "data"),
        Input("watch-undo", "n_clicks"),
        State("add-symbol", "value"),
        State("watch-undo-symbol", "data"),
        State("tick", "n_intervals"),
        prevent_initial_call=True,
    )
    def on_watch(_clicks, _submits, removed, _undo, typed, undo_symbol, ticks):
        trigger = ctx.triggered_id
        if trigger == "watch-edit":
            symbol = removed.get("symbol") if isinstance(removed, dict) else None
            outcome = edit("remove", symbol)
        elif trigger == "watch-undo":
            outcome = edit("undo", undo_symbol)
        elif trigger in ("add-button", "add-symbol"):
            outcome = edit("add", typed if typed else None)
        else:
            raise PreventUpdate
        kind = "watch-message ok" if outcome.ok else "watch-message error"
        if not outcome.ok:
            # The field keeps what was typed, to be corrected; nothing else changes.
            return outcome.message, kind, no_update, no_update, no_update, no_update
        changed()
        # Asking at once (a tick now) shows the change on this page without waiting.
        redraw = (ticks or 0) + 1
        if trigger == "watch-edit":
            return outcome.message, kind, no_update, False, symbol, redraw
        return outcome.message, kind, "", True, None, redraw

    app.clientside_callback(
        ClientsideFunction("stockstreamer", "undoLater"),
        Output("watch-undo-timer", "data"),
        Input("watch-undo", "hidden"),
        State("config", "data"),
        prevent_initial_call=True,
    )
    return on_watch
