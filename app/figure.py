"""What both views share: each stock's colour, the themes, a line, the axes, the title.

Pure functions of db.chart's records; no I/O. Times on the chart are exchange
time (America/New_York) sent as epoch milliseconds of the local wall clock:
plotly has no time zones, and numbers are a third of the size of date strings.
Traces that grow are sent as lists, because Patch.extend onto a base64-packed
array silently replaces it. Every axis range is set here, never autoranged:
plotly's autorange spans all of a trace and every shape (the 52-week bands),
not what is visible.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from core.times import to_exchange_ms
from db.chart import ChartStock

# Tableau 10: distinct, and readable on both the light and the dark paper.
PALETTE: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#59a14f",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
THEMES = {
    "light": {"paper": "#ffffff", "ink": "#17202a", "muted": "#5f6b7a", "grid": "#e7ebf0"},
    "dark": {"paper": "#161b22", "ink": "#e6edf3", "muted": "#9aa7b4", "grid": "#2b323c"},
}
# Outside labels never spill past the figure (automargin makes room), and plotly's
# default check ("hide past div") measures every label once per label on each redraw:
# a fifth of a tick's redraw at 6 stocks.
NO_OVERFLOW_CHECK = {"ticklabeloverflow": "allow"}
FONT = '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Arial, sans-serif'


def color_of(stock: ChartStock) -> str:
    """The stock's colour, fixed by its slot."""
    return PALETTE[stock.color_slot % len(PALETTE)]


def dash_of(stock: ChartStock) -> str:
    """Solid for the first ten slots, dotted beyond, so that no two lines look alike."""
    return "solid" if stock.color_slot % (2 * len(PALETTE)) < len(PALETTE) else "dot"


def rgba(hex_color: str, alpha: float) -> str:
    """#rrggbb as an rgba() string with the given opacity."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def rounded(values: Sequence[float], decimals: int = 4) -> list[float]:
    """Values rounded (smaller JSON), as a list."""
    return np.round(np.asarray(values, dtype="float64"), decimals).tolist()


def theme_of(name: object) -> str:
    """A theme name from the browser: "dark" or else "light"."""
    return "dark" if name == "dark" else "light"


def bars_note(seconds: int | None) -> str:
    """The hover's word on history filled from a provider's bars ("" for exact ticks)."""
    if not seconds:
        return ""
    width = (
        f"{seconds // 3600}-hour"
        if seconds % 3600 == 0
        else f"{seconds // 60}-minute"
        if seconds % 60 == 0
        else f"{seconds}-second"
    )
    return f"<br><i>gaps filled from {width} bars</i>"


def line(
    stock: ChartStock,
    times_utc: Sequence[int],
    values: Sequence[float],
    value_format: str,
    axes: tuple[str, str] = ("x", "y"),
) -> dict:
    """One stock's line (no markers: thousands of them freeze the page) with its hover text."""
    name = html.escape(stock.company_name or stock.symbol)
    return {
        "type": "scatter",
        "mode": "lines",
        "name": stock.symbol,
        "legendgroup": stock.symbol,
        "x": to_exchange_ms(times_utc),
        "y": list(values),
        "xaxis": axes[0],
        "yaxis": axes[1],
        "line": {"color": color_of(stock), "width": 1.8, "dash": dash_of(stock)},
        "hovertemplate": (
            f"<b>{html.escape(stock.symbol)}</b> {name}: {value_format}"
            f"{bars_note(stock.history_bar_seconds)}<extra></extra>"
        ),
    }


# A phone's time labels never widen its margins: one at an edge would take 20-odd pixels
# of a 390 px plot (how much depends on the time of day); past the figure it is hidden.
COMPACT_X = {"automargin": False, "ticklabeloverflow": "hide past div"}


def x_axis(theme: str, bounds_ms: tuple[int, int], compact: bool = False, **extra: object) -> dict:
    """A time axis in exchange time over exactly `bounds_ms` (exchange wall-clock ms)."""
    colors = THEMES[theme]
    return {
        "type": "date",
        "range": list(bounds_ms),
        "gridcolor": colors["grid"],
        "linecolor": colors["grid"],
        "showspikes": True,
        "spikemode": "across",
        "spikethickness": 1,
        "spikecolor": colors["muted"],
        "hoverformat": "%a %b %d, %H:%M:%S ET",
        "automargin": True,
        **(COMPACT_X if compact else NO_OVERFLOW_CHECK),
        **extra,
    }


def y_axis(theme: str, bounds: tuple[float, float], compact: bool = False, **extra: object) -> dict:
    """A value axis fitted to `bounds` and fixed: zoom is for time, the fit is the server's."""
    colors = THEMES[theme]
    return {
        "range": list(bounds),
        "fixedrange": True,
        "gridcolor": colors["grid"],
        "zerolinecolor": colors["muted"],
        "automargin": True,
        **extra,
        # On a phone the labels go inside the plot, which then gets the whole width (and
        # plotly hides those that would spill past it).
        **(
            {"ticklabelposition": "inside", "title": {"text": ""}} if compact else NO_OVERFLOW_CHECK
        ),
    }


def layout(theme: str, title: str, compact: bool = False, **extra: object) -> dict:
    """The figure's layout in a theme, with its title; the views add axes and parts."""
    colors = THEMES[theme]
    return {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 17}},
        "paper_bgcolor": colors["paper"],
        "plot_bgcolor": colors["paper"],
        "font": {"family": FONT, "color": colors["ink"], "size": 12},
        "hovermode": "x unified",
        "hoverlabel": {"bgcolor": colors["paper"], "font": {"color": colors["ink"]}},
        # On a phone plotly would take every touch for a zoom: no drag, so a swipe scrolls.
        "dragmode": False if compact else "zoom",
        "uirevision": "chart",
        "showlegend": False,
        **extra,
    }


def fitted(values: Sequence[float], floor: float = 0.0) -> tuple[float, float] | None:
    """A range around `values` with a margin, or None for no values.

    A flat line still gets a visible range: at least `floor` wide, or 0.1% of its level.
    """
    if not len(values):
        return None
    lo, hi = float(min(values)), float(max(values))
    pad = max((hi - lo) * 0.08, floor / 2, abs(hi) * 0.0005, 1e-6)
    return lo - pad, hi + pad


def widened(bounds: Sequence[float], values: Sequence[float]) -> tuple[float, float] | None:
    """`bounds` grown to hold `values` with a margin, or None when they already fit."""
    lo, hi = float(bounds[0]), float(bounds[1])
    if not len(values) or (min(values) >= lo and max(values) <= hi):
        return None
    pad = (hi - lo) * 0.08
    return min(lo, float(min(values)) - pad), max(hi, float(max(values)) + pad)
