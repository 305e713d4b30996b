"""What a view draws from (`Frame`) and gives back (`Drawn`), and the Compare view.

Pure functions: a Frame (the shown stocks, their points in UTC ms, already
downsampled, the visible time bounds, theme, title) in, a `Drawn` out: the
figure plus what a tick needs to extend it (each stock's baseline, each axis's
fitted range, where each logo is). The Price view is in app/panels.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.figure import fitted, layout, line, rounded, x_axis, y_axis
from core.times import to_exchange_ms
from db.chart import ChartStock, Points

COMPARE_HEIGHT = 480
COMPARE_MARGIN = {"l": 56, "r": 40, "t": 96, "b": 44}  # room for the title and two legend rows
LEGEND_MAX = 8  # beyond, the legend would crowd the title: the cards and end logos name the lines
COMPARE_PLOT_PX = COMPARE_HEIGHT - COMPARE_MARGIN["t"] - COMPARE_MARGIN["b"]
LOGO_PX = 24
PCT = "%{y:+.2f}%"
DOLLARS = "$%{y:,.2f}"


@dataclass(frozen=True)
class Frame:
    """What a view draws: the shown stocks and their points over the visible time bounds."""

    stocks: Sequence[ChartStock]
    series: Mapping[str, Points]
    bounds_ms: tuple[int, int]  # UTC epoch ms
    theme: str
    title: str
    compact: bool = False  # a phone: narrow margins, labels inside, no drag


@dataclass(frozen=True)
class Drawn:
    """A view's figure, its height in px, and what ticks extend: baselines and axis ranges."""

    figure: dict
    height: int
    base: dict[str, float] = field(default_factory=dict)  # compare: each stock's 0% price
    y: dict[str, list[float]] = field(default_factory=dict)  # axis name -> [low, high]
    logo_y: dict[str, float] = field(default_factory=dict)  # compare: where each logo is


def visible(points: Points, start_ms: int) -> tuple[list[int], list[float]]:
    """The points from `start_ms` on (the window read may begin a little earlier)."""
    first = int(np.searchsorted(np.asarray(points.times, dtype="int64"), start_ms))
    return points.times[first:], points.prices[first:]


def percent(prices: Sequence[float], base: float) -> list[float]:
    """Prices as % change from `base`, to 3 decimals."""
    return rounded((np.asarray(prices, dtype="float64") / base - 1.0) * 100.0, 3)


def compare_view(frame: Frame) -> Drawn:
    """Every stock as % change from its first visible point, on one axis with a zero line."""
    stocks, series, bounds_ms = frame.stocks, frame.series, frame.bounds_ms
    theme, title, compact = frame.theme, frame.title, frame.compact
    traces, base, shown_values, last_values = [], {}, [], {}
    for stock in stocks:
        times, prices = visible(series[stock.symbol], bounds_ms[0])
        values: list[float] = []
        if prices:
            base[stock.symbol] = prices[0]
            values = percent(prices, prices[0])
            shown_values += values
            last_values[stock.symbol] = values[-1]
        traces.append(line(stock, times, values, PCT))
    y = list(fitted([0.0, *shown_values], floor=0.2) or (-1.0, 1.0))
    figure = {
        "data": traces,
        "layout": layout(
            theme,
            title,
            height=COMPARE_HEIGHT,
            compact=compact,
            margin={"l": 4, "r": LOGO_PX + 4, "t": 56, "b": 44} if compact else COMPARE_MARGIN,
            images=end_logos(stocks, last_values, y),
            showlegend=len(stocks) <= LEGEND_MAX and not compact,  # a phone's legend: the cards
            legend={
                "orientation": "h",
                "x": 0,
                "y": 1.0,
                "yanchor": "bottom",
                "itemclick": False,  # the cards show and hide stocks, with the URL
                "itemdoubleclick": False,
            },
            xaxis=x_axis(theme, exchange_bounds(bounds_ms), compact),
            yaxis=y_axis(
                theme,
                (y[0], y[1]),
                compact,
                ticksuffix="%",
                tickformat="+.1f",
                zeroline=True,
                zerolinewidth=1.5,
                title={"text": "Change from the first visible point"},
            ),
        ),
    }
    at = {s: last_values[s] for s in logo_order(stocks, last_values)}
    return Drawn(figure, COMPARE_HEIGHT, base, {"yaxis": y}, at)


def logo_height(bounds: Sequence[float]) -> float:
    """A Compare logo's height in % units, so that it is LOGO_PX tall on the axis `bounds`."""
    return (bounds[1] - bounds[0]) * LOGO_PX / COMPARE_PLOT_PX


def logo_order(stocks: Sequence[ChartStock], base: Mapping[str, float]) -> list[str]:
    """The symbols whose logos Compare draws, in the order of layout.images."""
    return [s.symbol for s in stocks if s.logo_url and s.symbol in base]


def end_logos(
    stocks: Sequence[ChartStock], last_values: Mapping[str, float], bounds: Sequence[float]
) -> list[dict]:
    """Each stock's logo just right of the plot, at its line's newest value (ticks move it)."""
    by_symbol = {s.symbol: s for s in stocks}
    return [
        {
            "source": by_symbol[symbol].logo_url,
            "xref": "paper",
            "x": 1.0,
            "xanchor": "left",
            "sizex": 0.2,  # a wide box: the logo keeps its shape, at its left edge
            "yref": "y",
            "y": last_values[symbol],
            "yanchor": "middle",
            "sizey": logo_height(bounds),
            "sizing": "contain",
            "layer": "above",
            "name": f"logo-{symbol}",
        }
        for symbol in logo_order(stocks, last_values)
    ]


def exchange_bounds(bounds_ms: tuple[int, int]) -> tuple[int, int]:
    """UTC epoch ms bounds as the axis's exchange wall-clock ms."""
    start, end = to_exchange_ms(list(bounds_ms))
    return start, end
