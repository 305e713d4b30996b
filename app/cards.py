"""A card per stock above the chart: its numbers and its frame, as compact data.

The server sends each card's frame when the stocks change and every answer the
numbers (a few dozen bytes per stock); assets/cards.js builds the cards, page.js writes
the numbers in and keeps "2 s ago" current between ticks. Change is against the
previous close, shown with ▲/▼ and a sign, never by colour alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


# A price is stale when none came for this many poll intervals while its market is open.
STALE_INTERVALS = 3


def freshness(
    last_ms: int | None, now_ms: int, market_open: bool, price_seconds: float
) -> tuple[float | None, str]:
    """A price's age in seconds and what its card says of it: live, stale, closed or none.

    The same rule as the card's line in assets/page.js ("2 s ago", "Stale", "Market closed").
    """
    if last_ms is None:
        return None, "none"
    age = max(0, now_ms - last_ms) / 1000
    if not market_open:
        return round(age, 1), "closed"
    return round(age, 1), "stale" if age > STALE_INTERVALS * price_seconds else "live"


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


def card_frame(stock: ChartStock) -> list:
    """What assets/cards.js draws a stock's card from: symbol, name, logo, colour, 52-week band.

    A few dozen bytes a stock, where the same card as Dash components is ~2 KB:
    the page builds each card (a button that shows or hides the stock) itself.
    """
    return [
        stock.symbol,
        stock.company_name or "",
        stock.logo_url,
        color_of(stock),
        stock.week52_low,
        stock.week52_high,
    ]
