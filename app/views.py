"""The two views as whole figures: Compare (% change on one axis) and Price (a panel per stock).

Pure functions: the shown stocks, their points (UTC ms, already downsampled)
and the visible time bounds in, a `Drawn` out: the figure plus what a tick
needs to extend it (each stock's baseline and each axis's fitted range).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from app.figure import THEMES, color_of, fitted, layout, line, rgba, rounded, x_axis, y_axis
from core.times import to_exchange_ms
from db.chart import ChartStock, Points

COMPARE_HEIGHT = 480
COMPARE_MARGIN = {"l": 56, "r": 40, "t": 96, "b": 44}  # room for the title and two legend rows
LEGEND_MAX = 8  # beyond, the legend would crowd the title: the cards and end logos name the lines
COMPARE_PLOT_PX = COMPARE_HEIGHT - COMPARE_MARGIN["t"] - COMPARE_MARGIN["b"]
PANEL, GAP, TOP, BOTTOM = 150, 50, 56, 44
LOGO_PX = 24
PCT = "%{y:+.2f}%"
DOLLARS = "$%{y:,.2f}"


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


def compare_view(
    stocks: Sequence[ChartStock],
    series: Mapping[str, Points],
    bounds_ms: tuple[int, int],
    theme: str,
    title: str,
    compact: bool = False,
) -> Drawn:
    """Every stock as % change from its first visible point, on one axis with a zero line."""
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
            xaxis=x_axis(theme, _exchange(bounds_ms)),
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


def price_view(
    stocks: Sequence[ChartStock],
    series: Mapping[str, Points],
    bounds_ms: tuple[int, int],
    theme: str,
    title: str,
    compact: bool = False,
) -> Drawn:
    """A panel per stock sharing the time axis: its own dollar axis, its band, its logo."""
    n = len(stocks)
    area = max(n, 1) * (PANEL + GAP)
    height = TOP + area + BOTTOM
    parts: dict[str, list] = {"data": [], "shapes": [], "images": [], "annotations": []}
    axes: dict[str, dict] = {}
    ranges: dict[str, list[float]] = {}
    x_range = _exchange(bounds_ms)
    for i, stock in enumerate(stocks):
        suffix = "" if i == 0 else str(i + 1)
        top = 1 - (i * (PANEL + GAP) + GAP) / area
        domain = [max(top - PANEL / area, 0.0), top]
        times, prices = visible(series[stock.symbol], bounds_ms[0])
        y = list(fitted(prices) or _band_or_unit(stock))
        ranges[f"yaxis{suffix}"] = y
        axes[f"xaxis{suffix}"] = x_axis(
            theme,
            x_range,
            anchor=f"y{suffix}",
            showticklabels=i == n - 1,
            **({"matches": "x"} if i else {}),
        )
        axes[f"yaxis{suffix}"] = y_axis(
            theme,
            (y[0], y[1]),
            compact,
            domain=domain,
            tickprefix="$",
            tickformat=",.2f",
            nticks=5,
        )
        parts["data"].append(
            line(stock, times, rounded(prices), DOLLARS, (f"x{suffix}", f"y{suffix}"))
        )
        _panel_parts(parts, stock, suffix, top, area, theme)
    figure = {
        "data": parts.pop("data"),
        "layout": layout(
            theme,
            title,
            height=height,
            compact=compact,
            margin={"l": 4 if compact else 64, "r": 8 if compact else 16, "t": TOP, "b": BOTTOM},
            **parts,
            **axes,
        ),
    }
    return Drawn(figure, height, {}, ranges)


def _panel_parts(parts: dict, stock: ChartStock, suffix: str, top: float, area: int, theme: str):
    """A panel's band (shaded, dotted edges), its title line and its logo."""
    color, muted = color_of(stock), THEMES[theme]["muted"]
    row = top + (GAP - 14) / area  # two lines above the panel: its name, then its band
    name = html.escape(stock.company_name or "")
    parts["annotations"].append(
        _note(f"<b>{html.escape(stock.symbol)}</b>  {name}", 0, row, "left", color, 30)
    )
    if stock.week52_low is not None and stock.week52_high is not None:
        parts["shapes"].append(
            {
                "type": "rect",
                "xref": f"x{suffix} domain",
                "x0": 0,
                "x1": 1,
                "yref": f"y{suffix}",
                "y0": stock.week52_low,
                "y1": stock.week52_high,
                "fillcolor": rgba(color, 0.10),
                "line": {"width": 1, "dash": "dot", "color": rgba(color, 0.7)},
                "layer": "below",
                "name": f"band-{stock.symbol}",
            }
        )
        band = f"52-week range ${stock.week52_low:,.2f} – ${stock.week52_high:,.2f} (shaded)"
        parts["annotations"].append(_note(band, 0, row - 16 / area, "left", muted, 30, 11))
    if stock.logo_url:
        parts["images"].append(
            {
                "source": stock.logo_url,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": row + 8 / area,
                "sizex": 0.5,
                "sizey": (LOGO_PX + 4) / area,
                "xanchor": "left",
                "yanchor": "top",
                "sizing": "contain",
                "layer": "above",
                "name": f"logo-{stock.symbol}",
            }
        )


def _note(
    text: str, x: float, y: float, anchor: str, color: str, shift: int, size: int = 13
) -> dict:
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": x,
        "y": y,
        "xanchor": anchor,
        "yanchor": "middle",
        "xshift": shift,
        "showarrow": False,
        "font": {"color": color, "size": size},
    }


def _band_or_unit(stock: ChartStock) -> tuple[float, float]:
    """An axis for a stock with no price yet: its band, or $0–$1."""
    if stock.week52_low is not None and stock.week52_high is not None:
        return stock.week52_low, stock.week52_high
    return 0.0, 1.0


def _exchange(bounds_ms: tuple[int, int]) -> tuple[int, int]:
    start, end = to_exchange_ms(list(bounds_ms))
    return start, end
