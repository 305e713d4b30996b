"""A fake IEX-compatible HTTP server on 127.0.0.1 with a symbol table and programmable faults."""

from __future__ import annotations

from tests.fakes.base import FakeServer, Fault, Seen, json_reply, symbols_of

__all__ = ["FakeIEX", "Fault", "Seen"]

BATCH_LIMIT = 100
T0_MS = 1511557200123  # 2017-11-24 21:00:00.123 UTC, a trading day's close


def make_quote(
    symbol: str, name: str, price: object, high: float, low: float, ms: int = T0_MS
) -> dict:
    """A full quote object with the fields the legacy and Cloud APIs answered."""
    close = price if isinstance(price, (int, float)) and price == price else 100.0
    return {
        "symbol": symbol,
        "companyName": name,
        "primaryExchange": "Nasdaq Global Select",
        "latestPrice": price,
        "latestSource": "Close",
        "latestTime": "November 24, 2017",
        "latestUpdate": ms,
        "latestVolume": 14026673,
        "previousClose": round(close - 0.5, 2),
        "change": 0.5,
        "changePercent": 0.00286,
        "marketCap": 898510000000,
        "peRatio": 19.34,
        "week52High": high,
        "week52Low": low,
        "isUSMarketOpen": False,
        "currency": "USD",
    }


def logo(symbol: str) -> dict:
    """A logo object as /stock/{sym}/logo answers it."""
    return {"url": f"https://storage.googleapis.com/iex/api/logos/{symbol}.png"}


def default_table() -> tuple[dict[str, dict], dict[str, dict]]:
    """Quotes and logos for a few well-known symbols."""
    rows = [
        ("AAPL", "Apple Inc.", 174.97, 176.24, 104.08),
        ("MSFT", "Microsoft Corporation", 83.26, 84.54, 57.28),
        ("GE", "General Electric Company", 18.21, 32.38, 17.49),
        ("AMZN", "Amazon.com Inc.", 1186.0, 1213.41, 710.1),
        ("NVDA", "NVIDIA Corporation", 216.96, 219.83, 84.24),
        ("INTC", "Intel Corporation", 45.03, 47.64, 33.23),
        ("NFLX", "Netflix Inc.", 195.75, 204.38, 113.95),
    ]
    quotes = {
        s: make_quote(s, n, p, h, lo, T0_MS + i * 1001) for i, (s, n, p, h, lo) in enumerate(rows)
    }
    return quotes, {s: logo(s) for s, *_ in rows}


class FakeIEX(FakeServer):
    """Serves /<prefix>/stock/market/batch, /<prefix>/stock/{sym}/quote and /logo."""

    def __init__(self) -> None:
        super().__init__()
        self.quotes, self.logos = default_table()
        self.omit_from_batch: set[str] = set()

    def url(self, prefix: str = "1.0") -> str:
        """A base URL: "1.0" for the legacy layout, "stable" for the Cloud layout."""
        return f"http://127.0.0.1:{self.port}/{prefix}"

    def add(self, symbol: str, price: object = 10.5, **fields: object) -> None:
        """Put a symbol in the table with a full quote (fields override) and a logo."""
        self.quotes[symbol] = {**make_quote(symbol, f"{symbol} Corp.", price, 20.0, 5.0), **fields}
        self.logos[symbol] = logo(symbol)

    def route(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[str, list[str], Fault]:
        """IEX's batch and per-symbol routes under any version prefix."""
        parts = [p for p in path.split("/") if p]
        if len(parts) == 4 and parts[1:] == ["stock", "market", "batch"]:
            symbols = symbols_of(query, "symbols")
            return "batch", symbols, self._batch(symbols, ",".join(query.get("types", [])))
        if len(parts) == 4 and parts[1] == "stock" and parts[3] in ("quote", "logo"):
            symbol = parts[2].upper()
            return parts[3], [symbol], self._single(symbol, parts[3])
        return "other", [], Fault(404, "Not Found")

    def _batch(self, symbols: list[str], types: str) -> Fault:
        if len(symbols) > BATCH_LIMIT:
            return Fault(400, f"Batch requests are limited to {BATCH_LIMIT} symbols")
        body: dict[str, dict] = {}
        for symbol in symbols:
            if symbol not in self.quotes or symbol in self.omit_from_batch:
                continue  # the real service leaves unknown symbols out
            entry: dict[str, object] = {}
            if "quote" in types.split(","):
                entry["quote"] = self.quotes[symbol]
            if "logo" in types.split(","):
                entry["logo"] = self.logos.get(symbol, {"url": ""})
            body[symbol] = entry
        return json_reply(body)

    def _single(self, symbol: str, kind: str) -> Fault:
        if symbol not in self.quotes:
            return Fault(404, "Unknown symbol")
        return json_reply(
            self.quotes[symbol] if kind == "quote" else self.logos.get(symbol, {"url": ""})
        )
