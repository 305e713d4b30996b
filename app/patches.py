"""A tick's Patch: each stock's new points appended, the live edge moved, axes widened.

Pure functions: stocks and points in, a dash.Patch out. A Patch, unlike a new
figure, keeps whatever the user did to the chart. Loads keep to a point budget
per stock, downsampling with MinMaxLTTB so a line keeps its shape.
`fingerprint` says whether the figure on a page still shows the stocks as they
are, so that a tick may only append to it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, field
from datetime import timedelta

import numpy as np
from dash import Patch
from tsdownsample import MinMaxLTTBDownsampler

from app.figure import rounded, widened
from app.query import COMPARE
from app.views import logo_height, logo_order, percent
from core.times import to_exchange_ms
from db.chart import ChartStock, Points

POINT_BUDGET = 2_000  # per stock, for any window
# Per page: about a point per pixel of a plot's width, as Grafana does (its max data
# points): 6 stocks get 833 each (a day of minutes or a week of 5-minute bars, both
# downsampled), 30 stocks 200 (the floor: a day of 5-minute bars, downsampled).
FIGURE_BUDGET = 5_000
MIN_POINTS = 200


LONG_SPAN = timedelta(days=183)  # longer ranges (1Y, 5Y) are drawn with half the points


def point_budget(stocks: int, span: timedelta | None = None) -> int:
    """Points per stock: 2,000, fewer when so many stocks share one page, half over years."""
    budget = min(POINT_BUDGET, max(MIN_POINTS, FIGURE_BUDGET // max(stocks, 1)))
    # A year or five of daily closes: a point every 2–3 pixels of a wide chart still shows
    # every swing, and the first load stays no heavier than the week's (bench_ranges.py).
    return budget // 2 if span is not None and span > LONG_SPAN else budget


def downsample(points: Points, budget: int) -> Points:
    """At most `budget` points that keep the shape (MinMaxLTTB), as lists."""
    if len(points.times) <= budget:
        return points
    x = np.asarray(points.times, dtype="int64")
    y = np.asarray(points.prices, dtype="float64")
    keep = MinMaxLTTBDownsampler().downsample(x, y, n_out=budget)
    return Points(x[keep].tolist(), y[keep].tolist(), points.resolution)


def fingerprint(stocks: Sequence[ChartStock]) -> str:
    """Changes whenever what the chart shows about the stocks changes (not their prices)."""
    return _fingerprint(tuple(stocks))


@functools.lru_cache(maxsize=64)  # every tick asks again about the same few stocks
def _fingerprint(stocks: tuple[ChartStock, ...]) -> str:
    payload = json.dumps([list(astuple(s)) for s in stocks], default=str)
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


def axis_names(view: str, count: int) -> list[str]:
    """The y axis of each trace: one shared in Compare, one per panel in Price."""
    if view == COMPARE:
        return ["yaxis"] * count
    return ["yaxis" + ("" if i == 0 else str(i + 1)) for i in range(count)]


@dataclass(frozen=True)
class Extended:
    """A tick's Patch, each stock's newest time (UTC ms), and the axes it widened."""

    patch: Patch
    last_ms: dict[str, int]
    y: dict[str, list[float]]
    logo_y: dict[str, float] = field(default_factory=dict)  # Compare logos it moved


def tick_patch(
    view: str,
    stocks: Sequence[ChartStock],
    new: Mapping[str, Points],
    base: Mapping[str, float],
    y: Mapping[str, list[float]],
    live_bounds_ms: tuple[int, int] | None,
    logo_y: Mapping[str, float] | None = None,
) -> Extended:
    """Append each stock's new points; while live, move the time axis to the newest one.

    Nothing else changes, so no zoom is undone: a range the user chose (custom) is
    kept, and a y axis only widens when a new point would fall outside it. A Compare
    logo (drawn at `logo_y`) moves to its line's newest value once it is half a logo
    away: a logo assignment costs as many bytes as the new point itself.
    """
    patch = Patch()
    last_ms: dict[str, int] = {}
    grown: dict[str, list[float]] = {}
    moved: dict[str, float] = {}
    axes = axis_names(view, len(stocks))
    logos = logo_order(stocks, base) if view == COMPARE else []
    for i, stock in enumerate(stocks):
        points = new.get(stock.symbol)
        if not points or not points.times:
            continue
        if view == COMPARE:
            values = percent(points.prices, base[stock.symbol])
        else:
            values = rounded(points.prices)
        patch["data"][i]["x"].extend(to_exchange_ms(points.times))
        patch["data"][i]["y"].extend(values)
        last_ms[stock.symbol] = points.times[-1]
        if live_bounds_ms is not None:
            axis = axes[i]
            wider = widened(grown.get(axis) or y[axis], values)
            if wider:
                grown[axis] = list(wider)
            if stock.symbol in logos:
                half = logo_height(grown.get(axis) or y[axis]) / 2
                drawn_at = (logo_y or {}).get(stock.symbol)
                if drawn_at is None or abs(values[-1] - drawn_at) > half:
                    patch["layout"]["images"][logos.index(stock.symbol)]["y"] = values[-1]
                    moved[stock.symbol] = values[-1]
    for axis, bounds in grown.items():
        patch["layout"][axis]["range"] = bounds
        for k in range(len(logos)):  # the logos keep their size on the wider axis
            patch["layout"]["images"][k]["sizey"] = logo_height(bounds)
    if live_bounds_ms is not None and last_ms:
        # The other panels' time axes match this one and follow it.
        patch["layout"]["xaxis"]["range"] = list(to_exchange_ms(list(live_bounds_ms)))
    return Extended(patch, last_ms, grown, moved)
