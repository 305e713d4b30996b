"""A fake IEX-compatible HTTP server on 127.0.0.1 with a symbol table and programmable faults."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

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


@dataclass
class Fault:
    """The answer for matching requests instead of the normal one, `times` times (None: always)."""

    status: int = 500
    body: str = "Internal Server Error"
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the headers
    trickle: float = 0.0  # seconds between body bytes
    times: int | None = None
    route: str | None = None  # "batch", "quote" or "logo"; None matches all
    symbols: frozenset[str] | None = None  # matches requests naming any of these

    def matches(self, route: str, symbols: list[str]) -> bool:
        """Whether this fault applies to a request (and has answers left)."""
        if self.times is not None and self.times <= 0:
            return False
        if self.route is not None and self.route != route:
            return False
        return self.symbols is None or bool(self.symbols.intersection(symbols))


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it."""

    path: str
    prefix: str
    route: str
    symbols: list[str]
    query: dict[str, list[str]]
    status: int


class FakeIEX:
    """Serves /<prefix>/stock/market/batch, /<prefix>/stock/{sym}/quote and /logo."""

    def __init__(self) -> None:
        self.quotes, self.logos = default_table()
        self.omit_from_batch: set[str] = set()
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        # Keep-alive handler threads end when their client closes; do not wait for them.
        self._httpd.block_on_close = False
        # A short poll interval so that shutdown() returns at once after each test.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._httpd.server_address[1]

    def url(self, prefix: str = "1.0") -> str:
        """A base URL: "1.0" for the legacy layout, "stable" for the Cloud layout."""
        return f"http://127.0.0.1:{self.port}/{prefix}"

    def add(self, symbol: str, price: object = 10.5, **fields: object) -> None:
        """Put a symbol in the table with a full quote (fields override) and a logo."""
        self.quotes[symbol] = {**make_quote(symbol, f"{symbol} Corp.", price, 20.0, 5.0), **fields}
        self.logos[symbol] = logo(symbol)

    def fail(self, **kwargs: object) -> Fault:
        """Add a fault (see Fault's fields); the first matching fault answers."""
        fault = Fault(**kwargs)  # type: ignore[arg-type]
        with self._lock:
            self.faults.append(fault)
        return fault

    def seen(self, route: str | None = None) -> list[Seen]:
        """The requests so far (of one route)."""
        with self._lock:
            return [r for r in self.requests if route is None or r.route == route]

    def __enter__(self) -> FakeIEX:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # wakes handlers sleeping in a delay
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def respond(self, target: str) -> Fault:
        """Route and record one request; return the answer to send (as a Fault)."""
        split = urlsplit(target)
        query = parse_qs(split.query, keep_blank_values=True)
        route, symbols, normal = self._route(split.path, query)
        with self._lock:
            reply = next((f for f in self.faults if f.matches(route, symbols)), normal)
            if reply.times is not None:
                reply.times -= 1
            prefix = split.path.strip("/").split("/")[0]
            self.requests.append(Seen(split.path, prefix, route, symbols, query, reply.status))
        return reply

    def _route(self, path: str, query: dict[str, list[str]]) -> tuple[str, list[str], Fault]:
        parts = [p for p in path.split("/") if p]
        if len(parts) == 4 and parts[1:] == ["stock", "market", "batch"]:
            symbols = [s.upper() for s in ",".join(query.get("symbols", [])).split(",") if s]
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
        return _json(body)

    def _single(self, symbol: str, kind: str) -> Fault:
        if symbol not in self.quotes:
            return Fault(404, "Unknown symbol")
        return _json(
            self.quotes[symbol] if kind == "quote" else self.logos.get(symbol, {"url": ""})
        )


def _json(value: object) -> Fault:
    # json.dumps writes float("nan") as the bare token NaN, as a sloppy upstream would.
    return Fault(200, json.dumps(value), "application/json")


def _handler(server: FakeIEX) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            reply = server.respond(self.path)
            if reply.delay and server.stopping.wait(reply.delay):
                self.close_connection = True
                return
            data = reply.body.encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                # A trickle sends one byte at a time: each read is quick, the whole answer is not.
                pieces = [data[i : i + 1] for i in range(len(data))] if reply.trickle else [data]
                for piece in pieces:
                    if reply.trickle and server.stopping.wait(reply.trickle):
                        self.close_connection = True
                        return
                    self.wfile.write(piece)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to answer

        def log_message(self, format: str, *args: object) -> None:
            pass  # requests are recorded in server.requests instead

    return Handler
