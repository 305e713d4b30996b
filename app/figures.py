"""Pure figure assembly: the empty chart, a window load as a Patch, and a tick as a Patch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from dash import Patch

from app.shaping import band, downsample, logo, rounded, trace
from core.times import to_exchange_ms
from db.chart import ChartStock, Points

POINT_BUDGET = 2_000  # per stock, for any window
FIGURE_BUDGET = 40_000  # per page: 100 stocks get 400 points each, not 4.6 MB of them
MIN_POINTS = 200


def point_budget(stocks: int) -> int:
    """Points per stock: 2,000, fewer when so many stocks share one page."""
    return min(POINT_BUDGET, max(MIN_POINTS, FIGURE_BUDGET // max(stocks, 1)))


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


def fingerprint(stocks: Sequence[ChartStock]) -> str:
    """Changes whenever what the chart shows about the stocks changes (not their prices)."""
    payload = json.dumps([list(vars_of(s)) for s in stocks], default=str)
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


def vars_of(stock: ChartStock) -> tuple:
    """The stock's fields as a tuple."""
    return tuple(getattr(stock, f) for f in stock.__slots__)


def window_patch(
    stocks: Sequence[ChartStock],
    series: Mapping[str, Points],
    reset_view: object | None = None,
) -> tuple[Patch, dict[str, int]]:
    """Replace traces, bands and logos with a window's data; the view is left alone.

    With `reset_view` (any value not used before), the axes drop the user's
    zoom and fit the data again: a new per-axis uirevision is what tells plotly
    to let go of it. Returns the Patch and each symbol's newest time (UTC ms).
    """
    traces, logos, last_seen = [], [], {}
    budget = point_budget(len(stocks))
    for stock in stocks:
        times, prices = downsample(series.get(stock.symbol, Points([], [], "tick")), budget)
        traces.append(trace(stock, times, prices))
        if times:
            last_seen[stock.symbol] = times[-1]
            anchor = logo(stock, times[0], prices[0])
            if anchor:
                logos.append(anchor)
    patch = Patch()
    patch["data"] = traces
    patch["layout"]["shapes"] = [b for b in (band(s) for s in stocks) if b]
    patch["layout"]["meta"] = {"logos": logos}
    if reset_view is not None:
        for axis in ("xaxis", "yaxis"):
            patch["layout"][axis]["autorange"] = True
            patch["layout"][axis]["uirevision"] = reset_view
    return patch, last_seen


def data_patch(stocks: Sequence[ChartStock], series: Mapping[str, Points]) -> Patch:
    """Replace only the traces' points (a zoom re-read); styling, range and zoom stay."""
    patch = Patch()
    budget = point_budget(len(stocks))
    for i, stock in enumerate(stocks):
        times, prices = downsample(series.get(stock.symbol, Points([], [], "tick")), budget)
        patch["data"][i]["x"] = to_exchange_ms(times)
        patch["data"][i]["y"] = rounded(prices)
    return patch


def tick_patch(
    stocks: Sequence[ChartStock], new: Mapping[str, Points]
) -> tuple[Patch, dict[str, int]]:
    """Append each stock's new points; nothing else, so no zoom or pan is ever undone.

    While following live, the x axis autoranges, so the appended points move
    the live edge on the page itself, whatever order answers arrive in.
    """
    patch = Patch()
    last_seen: dict[str, int] = {}
    for i, stock in enumerate(stocks):
        points = new.get(stock.symbol)
        if points and points.times:
            patch["data"][i]["x"].extend(to_exchange_ms(points.times))
            patch["data"][i]["y"].extend(rounded(points.prices))
            last_seen[stock.symbol] = points.times[-1]
    return patch, last_seen
