"""What the JSON API and the CSV say, as pure functions: times, prices, rows, stocks.

Times are ISO-8601 UTC with `Z`, to the millisecond (what the database stores).
Prices are decimal strings: exact, where a JSON number would pass through a
reader's binary float. The card's numbers arrive as floats (db/cards.py); the
shortest text that reads back as the same float is the stored decimal whenever
it has at most 15 significant digits (any price under the default
STOCKSTREAMER_MAX_PRICE, to the micro-dollar).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal

from app.cards import freshness
from core.times import NEW_YORK
from db.cards import CardPrice
from db.chart import ChartStock
from db.exports import BarRow, TickRow

CENT = Decimal("0.01")


def utc_text(moment: datetime) -> str:
    """`2026-11-27T20:00:00.000Z`."""
    text = moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


def new_york_text(moment: datetime) -> str:
    """New York wall time with its offset: `2026-11-27T15:00:00.000-05:00`."""
    return moment.astimezone(NEW_YORK).isoformat(timespec="milliseconds")


def decimal_text(value: Decimal | float | None) -> str | None:
    """A price as plain decimal text, at least to the cent: `187.25`, `100.00`, `0.123456`."""
    if value is None:
        return None
    number = Decimal(repr(value)) if isinstance(value, float) else value
    number = number.normalize()
    if number.as_tuple().exponent > -2:  # type: ignore[operator]
        number = number.quantize(CENT)
    return format(number, "f")


def tick_json(row: TickRow) -> dict:
    """One price: symbol, time, price."""
    return {"symbol": row.symbol, "time": utc_text(row.at), "price": decimal_text(row.price)}


def bar_json(row: BarRow) -> dict:
    """One bar: symbol, its start time, open/high/low/close, how many prices it folds."""
    return {
        "symbol": row.symbol,
        "time": utc_text(row.at),
        "open": decimal_text(row.open),
        "high": decimal_text(row.high),
        "low": decimal_text(row.low),
        "close": decimal_text(row.close),
        "ticks": row.ticks,
    }


def rows_json(rows: Sequence[TickRow] | Sequence[BarRow]) -> list[dict]:
    """Rows as the API lists them."""
    return [tick_json(r) if isinstance(r, TickRow) else bar_json(r) for r in rows]


def stock_json(
    stock: ChartStock, price: CardPrice | None, now_ms: int, market_open: bool, price_seconds: float
) -> dict:
    """A watched stock as /api/v1/stocks lists it: what its card shows, and how fresh it is."""
    last_ms = price.last_ms if price else None
    age, state = freshness(last_ms, now_ms, market_open, price_seconds)
    return {
        "symbol": stock.symbol,
        "name": stock.company_name,
        "last_price": decimal_text(price.last_price if price else None),
        "last_time": None if last_ms is None else utc_text(_from_ms(last_ms)),
        "previous_close": decimal_text(price.previous_close if price else None),
        "week52": {"low": decimal_text(stock.week52_low), "high": decimal_text(stock.week52_high)},
        "freshness": {"age_seconds": age, "state": state},
    }


def _from_ms(ms: int) -> datetime:
    # Integer arithmetic: no float step between the stored millisecond and its text.
    return datetime.fromtimestamp(ms // 1000, timezone.utc).replace(microsecond=ms % 1000 * 1000)
