"""A fake Finnhub API: /quote, /stock/profile2 and /stock/metric, one symbol a request."""

from __future__ import annotations

from tests.fakes.base import FakeServer, Fault, json_reply

TOKEN = "fhfake0c0ffee1234deadbeef"
T0 = 1748874601  # 2025-06-02 14:30:01 UTC

# symbol: (name, price, previous close, 52-week high, 52-week low)
TABLE = {
    "AAPL": ("Apple Inc", 201.45, 200.25, 260.1, 169.21),
    "MSFT": ("Microsoft Corp", 461.97, 460.36, 468.35, 344.79),
    "GE": ("GE Aerospace", 246.3, 245.12, 252.85, 150.2),
    "NVDA": ("NVIDIA Corp", 137.38, 135.13, 153.13, 86.62),
}
ZEROS = {"c": 0, "d": None, "dp": None, "h": 0, "l": 0, "o": 0, "pc": 0, "t": 0}


def quote(price: float, previous: float, t: int) -> dict:
    """A /quote answer."""
    change = round(price - previous, 2)
    return {
        "c": price,
        "d": change,
        "dp": round(100 * change / previous, 4),
        "h": round(price * 1.01, 2),
        "l": round(price * 0.99, 2),
        "o": previous,
        "pc": previous,
        "t": t,
    }


def profile(symbol: str, name: str) -> dict:
    """A /stock/profile2 answer with every field Finnhub sends."""
    return {
        "country": "US",
        "currency": "USD",
        "exchange": "NASDAQ NMS - GLOBAL MARKET",
        "finnhubIndustry": "Technology",
        "ipo": "1980-12-12",
        "logo": f"https://static2.finnhub.io/file/publicdatany/finnhubimage/stock_logo/{symbol}.png",
        "marketCapitalization": 3009349.5,
        "name": name,
        "phone": "14089961010",
        "shareOutstanding": 14935.83,
        "ticker": symbol,
        "weburl": "https://www.example.com/",
    }


class FakeFinnhub(FakeServer):
    """Answers like Finnhub: an all-zero quote or {} profile when unknown, 401 for a bad token."""

    def __init__(self) -> None:
        super().__init__()
        self.token = TOKEN
        self.quotes = {
            s: quote(p, pc, T0 + i) for i, (s, (_, p, pc, _, _)) in enumerate(TABLE.items())
        }
        self.profiles = {s: profile(s, row[0]) for s, row in TABLE.items()}
        self.metrics = {
            s: {
                "52WeekHigh": high,
                "52WeekLow": low,
                "52WeekHighDate": "2024-12-26",
                "52WeekLowDate": "2025-04-08",
                "beta": 1.2,
            }
            for s, (_, _, _, high, low) in TABLE.items()
        }

    def url(self) -> str:
        """The base URL, as https://finnhub.io/api/v1 would be."""
        return f"http://127.0.0.1:{self.port}/api/v1"

    def route(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[str, list[str], Fault]:
        """One of the three routes, once the token header is right."""
        route = {
            "/api/v1/quote": "quote",
            "/api/v1/stock/profile2": "profile2",
            "/api/v1/stock/metric": "metric",
        }.get(path, "other")
        symbol = query.get("symbol", [""])[0].upper()
        token = headers.get("x-finnhub-token")
        if not token:
            return route, [symbol], json_reply({"error": "Please use an API key."}, 401)
        if token != self.token:
            return route, [symbol], json_reply({"error": "Invalid API key"}, 401)
        if route == "quote":
            return route, [symbol], json_reply(self.quotes.get(symbol, ZEROS))
        if route == "profile2":
            return route, [symbol], json_reply(self.profiles.get(symbol, {}))
        if route == "metric":
            if query.get("metric") != ["all"]:
                return route, [symbol], json_reply({"error": "Wrong metric"}, 422)
            body = {
                "metric": self.metrics.get(symbol, {}),
                "metricType": "all",
                "series": {"annual": {}},
                "symbol": symbol,
            }
            return route, [symbol], json_reply(body)
        return route, [symbol], json_reply({"error": "Not found"}, 404)
