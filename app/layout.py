"""The page's layout: header and market line, notices, cards, view and range controls, the chart.

Callbacks fill it in. Stores: "page" (what the chart holds), "numbers" (the
cards' numbers of the last answer), "theme-choice" (the user's toggle, kept by
the browser) and "theme" (the theme in effect).
"""

from __future__ import annotations

from datetime import timedelta

from dash import dcc, html

from app.query import RANGES, VIEWS
from app.watch_controls import UNDO_SECONDS, watch_bar

FOOTNOTE = (
    "Compare: each stock's change from the first point shown. Price: a panel per stock with "
    "its own dollar axis; the shaded band is its 52-week low–high range. "
    "Times are exchange time (America/New_York)."
)
GRAPH_CONFIG = {
    "displaylogo": False,
    "scrollZoom": True,
    "responsive": True,
    # Nothing that talks to an outside service ("Share chart", Chart Studio), nor tools
    # that make no sense with time-only zoom.
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d", "toggleSpikelines"],
    "toImageButtonOptions": {"filename": "stockstreamer", "scale": 2},
}


def _segment(group: str, key: str, label: str, title: str) -> html.Button:
    # data-control and data-value: assets/page.js sends a click as an operation.
    return html.Button(
        label,
        id=f"{group}-{key}",
        className="segment",
        title=title,
        type="button",
        **{"aria-pressed": "false", "data-control": group, "data-value": key},
    )


def controls(longest: timedelta) -> html.Div:
    """The view switch, the range buttons, the mode label and "Follow live"."""
    ranges = [key for key, span in RANGES.items() if span <= longest]
    return html.Div(
        className="controls",
        children=[
            html.Div(
                [_segment("view", k, v, f"{v} view") for k, v in VIEWS.items()],
                className="segmented",
                role="group",
                **{"aria-label": "View"},
            ),
            html.Div(
                [_segment("range", k, k, f"Show the last {k}") for k in ranges]
                + [html.Span("Custom", id="range-custom", className="segment-static", hidden=True)],
                className="segmented",
                role="group",
                **{"aria-label": "Time range"},
            ),
            html.Span(className="spacer"),
            html.Span(id="mode-label", className="mode", **{"aria-live": "polite"}),
            html.Button(
                "Follow live",
                id="follow-live",
                className="button",
                type="button",
                title="Go back to the last range and keep it moving",
                hidden=True,
                **{"data-control": "live"},
            ),
            # Relative, so that it works under a path prefix; its query follows the URL.
            html.A(
                "↓ CSV",
                id="download-csv",
                className="button button-quiet",
                href="download.csv",
                title="Download the shown stocks, range and resolution as CSV",
                **{"aria-label": "Download the chart's prices as CSV"},
            ),
        ],
    )


def build_layout(
    refresh_seconds: float,
    longest: timedelta,
    price_seconds: float = 5.0,
    editable: bool = False,
) -> html.Div:
    """The whole page; callbacks fill in the chart, the cards, the notices and the stores."""
    return html.Div(
        className="page",
        children=[
            dcc.Location(id="url", refresh=False),
            html.Header(
                className="masthead",
                children=[
                    html.H1("stockstreamer", className="brand"),
                    html.Span(id="market-status", className="market"),
                    html.Span(id="updated", className="updated"),
                    html.Span(className="spacer"),
                    html.Button(
                        "Dark mode",
                        id="theme-toggle",
                        className="button button-quiet",
                        type="button",
                        **{"aria-pressed": "false"},
                    ),
                ],
            ),
            html.Main(
                children=[
                    html.Div(
                        "Simulated market: these prices are generated offline for demonstration "
                        "and are not real quotes.",
                        id="simulated-notice",
                        className="notice notice-simulated",
                        hidden=True,
                    ),
                    html.Div(
                        id="stale-banner",
                        className="notice notice-error",
                        role="alert",
                        hidden=True,
                    ),
                    html.Div(id="status", className="status", role="status"),
                    watch_bar(editable),
                    html.Section(
                        id="cards",
                        className="cards",
                        **{"aria-label": "Stocks (click to show or hide)"},
                    ),
                    html.Section(
                        className="panel",
                        **{"aria-label": "Chart"},
                        children=[
                            controls(longest),
                            dcc.Graph(id="chart", config=GRAPH_CONFIG, className="chart"),
                            html.P(FOOTNOTE, className="footnote"),
                        ],
                    ),
                ]
            ),
            dcc.Interval(id="tick", interval=int(refresh_seconds * 1000)),
            # What assets/page.js needs besides each answer's numbers: how often the page
            # asks, and how often the poller fetches (3 missed make a price stale).
            dcc.Store(
                id="config",
                data={
                    "refresh": int(refresh_seconds * 1000),
                    "every": int(price_seconds * 1000),
                    "editable": editable,  # each card gets a remove button
                    "undo": UNDO_SECONDS * 1000,  # how long Undo stays after a remove
                },
            ),
            dcc.Store(id="page", storage_type="memory"),
            dcc.Store(id="edge", storage_type="memory"),
            dcc.Store(id="numbers", storage_type="memory"),
            dcc.Store(id="card-frames", storage_type="memory"),
            # The control clicks page.js has numbered, and the last number the URL has taken.
            dcc.Store(id="control-ops", storage_type="memory"),
            dcc.Store(id="control-applied", storage_type="memory", data=0),
            dcc.Store(id="controls", storage_type="memory"),  # which controls read as chosen
            dcc.Store(id="written", storage_type="memory"),  # page.js's callback needs an output
            dcc.Store(id="theme-choice", storage_type="local"),
            dcc.Store(id="theme", storage_type="memory"),
            dcc.Store(id="screen", storage_type="memory"),  # "compact" on a phone
        ],
    )
