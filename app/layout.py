"""The page's layout: header, notices, the chart and its controls, and the stores of its state."""

from __future__ import annotations

from dash import dcc, html

from app.figure import FOOTNOTE, base_figure
from app.page_state import LIVE

GRAPH_CONFIG = {
    "displaylogo": False,
    "scrollZoom": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"filename": "stockstreamer"},
}


def build_layout(refresh_seconds: float, window_days: float) -> html.Div:
    """The whole page; callbacks fill in the chart, the notices and the store."""
    days = f"{window_days:g} day" + ("" if window_days == 1 else "s")
    return html.Div(
        className="page",
        children=[
            html.Header(
                className="masthead",
                children=[
                    html.H1("stockstreamer", className="brand"),
                    html.P(
                        f"Live prices over the last {days}, refreshed every {refresh_seconds:g} s.",
                        className="tagline",
                    ),
                ],
            ),
            html.Div(
                "Simulated market: these prices are generated offline for demonstration "
                "and are not real quotes.",
                id="simulated-notice",
                className="notice notice-simulated",
                hidden=True,
            ),
            html.Div(id="status", className="status", role="status"),
            html.Div(
                className="card",
                children=[
                    html.Div(
                        className="controls",
                        children=[
                            html.Span(id="mode-label", className="mode", children=LIVE.label),
                            html.Button(
                                "Follow live",
                                id="follow-live",
                                className="button",
                                title="Show the latest window and keep it moving",
                            ),
                        ],
                    ),
                    dcc.Graph(
                        id="chart",
                        figure=base_figure(f"Stock prices, last {days}"),
                        config=GRAPH_CONFIG,
                        className="chart",
                    ),
                    html.P(FOOTNOTE, className="footnote"),
                ],
            ),
            dcc.Interval(id="tick", interval=int(refresh_seconds * 1000)),
            dcc.Store(id="view", storage_type="memory"),
            dcc.Store(id="mode", storage_type="memory", data=LIVE.to_store()),
        ],
    )
