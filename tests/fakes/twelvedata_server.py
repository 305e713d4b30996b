"""A fake Twelve Data API: batch /quote with numbers as strings, /logo, errors in the body."""

from __future__ import annotations

from tests.fakes.base import FakeServer, Fault, json_reply, symbols_of

API_KEY = "tdfake5e6f7a8b9c0d1e2f"
T0 = 1748874600  # 2025-06-02 14:30:00 UTC, the open of a 1min candle

# symbol: (name, close, 52-week low, 52-week high)
TABLE = {
    "AAPL": ("Apple Inc.", "201.45000", "169.21001", "260.10001"),
    "MSFT": ("Microsoft Corporation", "461.97000", "344.79001", "468.35001"),
    "GE": ("GE Aerospace", "246.30000", "150.20000", "252.85001"),
}
PREVIOUS_CLOSES = {"AAPL": "200.25000", "MSFT": "460.36000", "GE": "245.12000"}


def quote(
    symbol: str,
    name: str,
    close: str,
    low: str,
    high: str,
    timestamp: int,
    previous_close: str | None = None,
) -> dict:
    """A /quote object with Twelve Data's fields, every number a string."""
    return {
        "symbol": symbol,
        "name": name,
        "exchange": "NASDAQ",
        "mic_code": "XNGS",
        "currency": "USD",
        "datetime": "2025-06-02 10:30:00",
        "timestamp": timestamp,
        "open": close,
        "high": close,
        "low": close,
        "close": close,
        "volume": "132584",
        "previous_close": previous_close or close,
        "change": "0.00000",
        "percent_change": "0.00000",
        "is_market_open": True,
        "fifty_two_week": {
            "low": low,
            "high": high,
            "low_change": "32.24000",
            "high_change": "-58.65000",
            "low_change_percent": "19.05337",
            "high_change_percent": "-22.54902",
            "range": f"{low} - {high}",
        },
    }


def error(code: int, message: str) -> dict:
    """Twelve Data's error object."""
    return {"code": code, "message": message, "status": "error"}


def not_found(symbol: str) -> dict:
    """The error for a symbol Twelve Data does not know."""
    return error(404, f"**symbol** not found: {symbol}. Please specify it correctly.")


class FakeTwelveData(FakeServer):
    """Answers like Twelve Data: errors in the body, with HTTP `error_status` (200 by default)."""

    def __init__(self) -> None:
        super().__init__()
        self.api_key = API_KEY
        self.error_status = 200  # Twelve Data sometimes says 200 even for an error
        self.quotes = {
            s: quote(s, name, close, low, high, T0 + 60 * i, PREVIOUS_CLOSES[s])
            for i, (s, (name, close, low, high)) in enumerate(TABLE.items())
        }
        self.logos = {
            s: {
                "meta": {"symbol": s, "exchange": "NASDAQ"},
                "url": f"https://api.twelvedata.com/logo/{s.lower()}.com",
            }
            for s in TABLE
        }

    def url(self) -> str:
        """The base URL, as https://api.twelvedata.com would be."""
        return f"http://127.0.0.1:{self.port}"

    def route(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[str, list[str], Fault]:
        """/quote or /logo, once the Authorization header carries the key."""
        route = {"/quote": "quote", "/logo": "logo"}.get(path, "other")
        symbols = symbols_of(query, "symbol")
        if headers.get("authorization") != f"apikey {self.api_key}":
            message = "**apikey** parameter is incorrect or not specified."
            return route, symbols, json_reply(error(401, message), self.error_status)
        if route == "quote":
            if len(symbols) == 1:
                if symbols[0] not in self.quotes:
                    return route, symbols, json_reply(not_found(symbols[0]), self.error_status)
                return route, symbols, json_reply(self.quotes[symbols[0]])
            return (
                route,
                symbols,
                json_reply({s: self.quotes.get(s) or not_found(s) for s in symbols}),
            )
        if route == "logo" and len(symbols) == 1:
            if symbols[0] not in self.logos:
                return route, symbols, json_reply(not_found(symbols[0]), self.error_status)
            return route, symbols, json_reply(self.logos[symbols[0]])
        return route, symbols, json_reply(error(404, "Not found"), 404)
