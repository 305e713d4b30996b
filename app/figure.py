"""The chart's figure and each stock's parts on it: colour, line, 52-week band, logo anchor.

Pure functions of db.chart's records; no I/O. Logos are not plotly layout
images, whose size is in axis units and so grows with every zoom: the figure
carries their anchor points in layout.meta.logos and assets/chart.js draws them
as fixed-size overlays at those points.

Times on the chart are exchange time (America/New_York) sent as epoch
milliseconds of the local wall clock: plotly has no time zones, and numbers
are a third of the size of date strings. Traces that grow are sent as lists,
because Patch.extend onto a base64-packed array silently replaces it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
from plotly.colors import qualitative

from core.times import to_exchange_ms
from db.chart import ChartStock

PALETTE: tuple[str, ...] = tuple(qualitative.Dark24)
FOOTNOTE = (
    "Shaded bands: each stock's 52-week low–high range. Times are exchange time (America/New_York)."
)


def color_of(stock: ChartStock) -> str:
    """The stock's colour, fixed by its slot."""
    return PALETTE[stock.color_slot % len(PALETTE)]


def rgba(hex_color: str, alpha: float) -> str:
    """#rrggbb as an rgba() string with the given opacity."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def rounded(prices: Sequence[float]) -> list[float]:
    """Prices to 4 decimals (smaller JSON), as a list."""
    return np.round(np.asarray(prices, dtype="float64"), 4).tolist()


def base_figure(title: str = "Stock prices, last 7 days") -> dict:
    """The chart with no data yet: axes, legend, footnote; every load and tick patches it."""
    return {
        "data": [],
        "layout": {
            "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 20}},
            "template": "plotly_white",
            "uirevision": "chart",  # keeps the user's zoom across Patches
            "hovermode": "closest",
            "margin": {"l": 70, "r": 30, "t": 90, "b": 60},
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            "xaxis": {
                "type": "date",
                "title": {"text": "Time (America/New_York)"},
                "showspikes": True,
                "spikemode": "across",
                "spikethickness": 1,
            },
            "yaxis": {
                "title": {"text": "Price (USD)"},
                "tickprefix": "$",
                "tickformat": ",.2f",
                "ticks": "outside",
                "ticklen": 6,
                "tickcolor": "rgba(0,0,0,0)",  # room between labels and the bands' edges
                "automargin": True,
            },
            "shapes": [],
            "meta": {"logos": []},
        },
    }


def trace(stock: ChartStock, times_utc: Sequence[int], prices: Sequence[float]) -> dict:
    """One stock's line with small markers and its hover text."""
    name = html.escape(stock.company_name or stock.symbol)
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": stock.symbol,
        "legendgroup": stock.symbol,
        "x": to_exchange_ms(times_utc),
        "y": rounded(prices),
        "line": {"color": color_of(stock), "width": 1.6},
        "marker": {"color": color_of(stock), "size": 3},
        "hovertemplate": (
            f"<b>{html.escape(stock.symbol)}</b> · {name}<br>"
            "$%{y:,.2f}<br>%{x|%a %b %d %Y, %H:%M:%S} ET<extra></extra>"
        ),
    }


def band(stock: ChartStock) -> dict | None:
    """The 52-week low–high band across the visible window, under the lines."""
    if stock.week52_low is None or stock.week52_high is None:
        return None
    return {
        "type": "rect",
        "xref": "paper",  # spans whatever window is visible, at any zoom
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": stock.week52_low,
        "y1": stock.week52_high,
        "fillcolor": rgba(color_of(stock), 0.08),
        # Dotted edges in the stock's colour tell overlapping bands apart.
        "line": {"width": 1, "dash": "dot", "color": rgba(color_of(stock), 0.55)},
        "layer": "below",
        "name": f"band-{stock.symbol}",
    }


def logo_anchor(stock: ChartStock, first_time_utc: int, first_price: float) -> dict | None:
    """Where the stock's logo goes: the first point of its line (drawn by assets/chart.js)."""
    if not stock.logo_url:
        return None
    return {
        "symbol": stock.symbol,
        "url": stock.logo_url,
        "x": to_exchange_ms([first_time_utc])[0],
        "y": first_price,
    }
