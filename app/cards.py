"""A card per stock above the chart: its numbers (pure functions) and its components.

The server draws each card's frame when the stocks change; every tick sends only
the numbers (a few dozen bytes per stock) and assets/page.js writes them in and
keeps "2 s ago" current between ticks. Change is against the previous close,
shown with ▲/▼ and a sign, never by colour alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dash import html

from app.figure import color_of
from db.cards import CardPrice
from db.chart import ChartStock


def price_change(last: float | None, previous: float | None) -> tuple[float, float] | None:
    """Change and % change of `last` against `previous`, or None when either is unknown."""
    if last is None or previous is None or previous <= 0:
        return None
    change = last - previous
    return round(change, 4), round(change / previous * 100.0, 2)


def range_position(last: float | None, low: float | None, high: float | None) -> float | None:
    """Where `last` sits in [low, high] from 0 to 1 (clamped), or None when unknown."""
    if last is None or low is None or high is None or high <= low:
        return None
    return round(min(max((last - low) / (high - low), 0.0), 1.0), 3)


def card_numbers(stocks: Sequence[ChartStock], prices: Mapping[str, CardPrice]) -> dict:
    """What a tick sends for the cards: symbol -> [last, change, % change, last ms, position]."""
    out = {}
    for stock in stocks:
        price = prices.get(stock.symbol)
        last = price.last_price if price else None
        change = price_change(last, price.previous_close if price else None)
        out[stock.symbol] = [
            None if last is None else round(last, 4),
            change[0] if change else None,
            change[1] if change else None,
            price.last_ms if price else None,
            range_position(last, stock.week52_low, stock.week52_high),
        ]
    return out


def _dynamic(kind: str, symbol: str, class_name: str, initial: str = "") -> html.Span:
    return html.Span(initial, id={"type": kind, "symbol": symbol}, className=class_name)


def card(stock: ChartStock, shown: bool) -> html.Button:
    """A stock's card: a button that shows or hides the stock on the chart."""
    symbol = stock.symbol
    low, high = stock.week52_low, stock.week52_high
    rng = (
        html.Span(
            className="card-range",
            title="Where today's price sits in its 52-week range",
            children=[
                html.Span(
                    className="card-range-bar",
                    children=_dynamic("card-marker", symbol, "card-range-marker"),
                ),
                html.Span(f"${low:,.2f}", className="card-range-low", title="52-week low"),
                html.Span("52-wk", className="card-range-label"),
                html.Span(f"${high:,.2f}", className="card-range-high", title="52-week high"),
            ],
        )
        if low is not None and high is not None
        else html.Span("No 52-week range yet", className="card-range card-range-none")
    )
    logo = (
        [html.Img(src=stock.logo_url, alt="", className="card-logo", width=32, height=32)]
        if stock.logo_url
        else [
            html.Span(symbol[:1], className="card-logo card-logo-none", **{"aria-hidden": "true"})
        ]
    )
    return html.Button(
        id={"type": "card", "symbol": symbol},
        className="stock-card" + ("" if shown else " is-hidden"),
        style={"--accent": color_of(stock)},
        title=f"{'Hide' if shown else 'Show'} {symbol} on the chart",
        **{"aria-pressed": "true" if shown else "false", "data-symbol": symbol},
        children=[
            *logo,
            html.Span(
                className="card-head",
                children=[
                    html.Span(symbol, className="card-symbol"),
                    html.Span(stock.company_name or "", className="card-name"),
                ],
            ),
            _dynamic("card-price", symbol, "card-price", "—"),
            _dynamic("card-change", symbol, "card-change"),
            rng,
            _dynamic("card-fresh", symbol, "card-fresh"),
        ],
    )
