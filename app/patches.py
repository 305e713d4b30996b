"""The Patches that change the chart: a whole window, a zoom's re-read, a tick's new points.

Pure functions: stocks and points in, a dash.Patch out. Each keeps to a point
budget per stock, downsampling with MinMaxLTTB so a line keeps its shape.
`fingerprint` says whether the figure on a page still shows the stocks as
they are, so that a tick may only append to it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import astuple

import numpy as np
from dash import Patch
from tsdownsample import MinMaxLTTBDownsampler

from app.figure import band, logo_anchor, rounded, trace
from core.times import to_exchange_ms
from db.chart import ChartStock, Points

POINT_BUDGET = 2_000  # per stock, for any window
FIGURE_BUDGET = 40_000  # per page: 100 stocks get 400 points each, not 4.6 MB of them
MIN_POINTS = 200
NO_POINTS = Points([], [], "tick")


def point_budget(stocks: int) -> int:
    """Points per stock: 2,000, fewer when so many stocks share one page."""
    return min(POINT_BUDGET, max(MIN_POINTS, FIGURE_BUDGET // max(stocks, 1)))


def downsample(points: Points, budget: int) -> tuple[list[int], list[float]]:
    """At most `budget` points that keep the shape (MinMaxLTTB), as lists."""
    if len(points.times) <= budget:
        return list(points.times), list(points.prices)
    x = np.asarray(points.times, dtype="int64")
    y = np.asarray(points.prices, dtype="float64")
    keep = MinMaxLTTBDownsampler().downsample(x, y, n_out=budget)
    return x[keep].tolist(), y[keep].tolist()


def fingerprint(stocks: Sequence[ChartStock]) -> str:
    """Changes whenever what the chart shows about the stocks changes (not their prices)."""
    payload = json.dumps([list(astuple(s)) for s in stocks], default=str)
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


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
    traces, logos, last_ms = [], [], {}
    budget = point_budget(len(stocks))
    for stock in stocks:
        times, prices = downsample(series.get(stock.symbol, NO_POINTS), budget)
        traces.append(trace(stock, times, prices))
        if times:
            last_ms[stock.symbol] = times[-1]
            anchor = logo_anchor(stock, times[0], prices[0])
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
    return patch, last_ms


def zoom_patch(stocks: Sequence[ChartStock], series: Mapping[str, Points]) -> Patch:
    """Replace only the traces' points (a zoom re-read); styling, range and zoom stay."""
    patch = Patch()
    budget = point_budget(len(stocks))
    for i, stock in enumerate(stocks):
        times, prices = downsample(series.get(stock.symbol, NO_POINTS), budget)
        patch["data"][i]["x"] = to_exchange_ms(times)
        patch["data"][i]["y"] = rounded(prices)
    return patch


def tick_patch(
    stocks: Sequence[ChartStock], new: Mapping[str, Points]
) -> tuple[Patch, dict[str, int]]:
    """Append each stock's new points; nothing else, so no zoom or pan is ever undone.

    While following live, the x axis autoranges, so the appended points move
    the live edge on the page itself, whatever order answers arrive in.
    Returns the Patch and the newest time (UTC ms) of each stock that had new points.
    """
    patch = Patch()
    last_ms: dict[str, int] = {}
    for i, stock in enumerate(stocks):
        points = new.get(stock.symbol)
        if points and points.times:
            patch["data"][i]["x"].extend(to_exchange_ms(points.times))
            patch["data"][i]["y"].extend(rounded(points.prices))
            last_ms[stock.symbol] = points.times[-1]
    return patch, last_ms
