"""The Price view: a panel per stock on one shared time axis, each with its own dollar axis.

Each panel shows its stock's 52-week band shaded (with its numbers) and its logo
and name above it. Pure functions of a views.Frame, like the Compare view.
"""

from __future__ import annotations

import html

from app.figure import THEMES, color_of, fitted, layout, line, rgba, rounded, x_axis, y_axis
from app.views import DOLLARS, LOGO_PX, Drawn, Frame, exchange_bounds, visible
from db.chart import ChartStock

PANEL, GAP, TOP, BOTTOM = 150, 50, 56, 44


def price_view(frame: Frame) -> Drawn:
    """A panel per stock sharing the time axis: its own dollar axis, its band, its logo."""
    stocks, series, bounds_ms = frame.stocks, frame.series, frame.bounds_ms
    theme, title, compact = frame.theme, frame.title, frame.compact
    n = len(stocks)
    area = max(n, 1) * (PANEL + GAP)
    height = TOP + area + BOTTOM
    parts: dict[str, list] = {"data": [], "shapes": [], "images": [], "annotations": []}
    axes: dict[str, dict] = {}
    ranges: dict[str, list[float]] = {}
    x_range = exchange_bounds(bounds_ms)
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
            compact,
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
