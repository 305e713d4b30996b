"""A fake Alpaca Market Data API (IEX feed): snapshots and paginated bars, keys in headers."""

from __future__ import annotations

import base64
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from tests.fakes.base import FakeServer, Fault, json_reply, symbols_of

KEY_ID = "AKFAKE7Q2M4X9KEYID"
SECRET_KEY = "fake-alpaca-secret-3f9d2c1b0a"
MAX_LIMIT = 10_000
NEW_YORK = ZoneInfo("America/New_York")

# Latest trades as /v2/stocks/snapshots answers them: nanosecond times, Z.
TRADES = {
    "AAPL": ("2025-06-02T14:30:01.123456789Z", 201.45),
    "MSFT": ("2025-06-02T14:30:02.5Z", 461.97),
    "GE": ("2025-06-02T14:29:59Z", 246.3),
    "AMZN": ("2025-06-02T14:30:00.000001999Z", 206.65),
    "NVDA": ("2025-06-02T14:30:03.987654321Z", 137.38),
    "INTC": ("2025-06-02T14:30:04.1Z", 19.68),
}


def trade(t: str, p: float) -> dict:
    """A trade object with every field Alpaca sends."""
    return {"t": t, "x": "V", "p": p, "s": 100, "c": ["@"], "i": 22730, "z": "C"}


def snapshot(latest: dict, previous_close: float | None) -> dict:
    """A snapshot with every part Alpaca sends; no prevDailyBar for a first day of trading."""
    p = latest["p"]
    out = {
        "latestTrade": latest,
        "latestQuote": {"t": latest["t"], "ax": "V", "ap": p, "as": 1, "bx": "V", "bp": p},
        "minuteBar": bar("2025-06-02T14:30:00Z", p, p, p, p),
        "dailyBar": bar("2025-06-02T04:00:00Z", p, p, p, p),
    }
    if previous_close is not None:
        c = previous_close
        out["prevDailyBar"] = bar("2025-05-30T04:00:00Z", c, c * 1.01, c * 0.99, c)
    return out


def bar(t: str, o: float, h: float, low: float, c: float) -> dict:
    """A bar object with every field Alpaca sends."""
    return {"t": t, "o": o, "h": h, "l": low, "c": c, "v": 53200, "n": 812, "vw": (h + low) / 2}


def daily_bars(last: date, days: int, base: float) -> list[dict]:
    """Weekday bars ending at `last`, gently oscillating around `base` (all within ±10%).

    Each is timed, as Alpaca times them, at New York midnight of its day in UTC
    (04:00Z in summer, 05:00Z in winter).
    """
    out = []
    for i in range(days, -1, -1):
        day = last - timedelta(days=i)
        if day.weekday() < 5:
            mid = base * (1 + 0.05 * ((i % 20) - 10) / 10)
            midnight = datetime.combine(day, time(0), NEW_YORK).astimezone(timezone.utc)
            out.append(bar(f"{midnight:%Y-%m-%dT%H:%M:%SZ}", mid, mid * 1.01, mid * 0.99, mid))
    return out


class FakeAlpaca(FakeServer):
    """Serves /v2/stocks/snapshots and /v2/stocks/bars; 401 without both keys."""

    def __init__(self) -> None:
        super().__init__()
        self.key_id, self.secret_key = KEY_ID, SECRET_KEY
        self.trades = {s: trade(t, p) for s, (t, p) in TRADES.items()}
        # prevDailyBar.c per symbol: a dollar below the last trade unless a test says otherwise.
        self.previous_closes: dict[str, float | None] = {
            s: round(p - 1, 2) for s, (_, p) in TRADES.items()
        }
        self.wrapped = False  # answer {"snapshots": {...}}, as some mirrors do
        self.daily: dict[str, list[dict]] = {}
        self.minutes: dict[str, list[dict]] = {}
        self.page_size = MAX_LIMIT  # the server's own cap per page; tests lower it to paginate
        self.tokens: set[str] = set()  # every next_page_token handed out

    def url(self) -> str:
        """The base URL, as https://data.alpaca.markets would be."""
        return f"http://127.0.0.1:{self.port}"

    def route(
        self, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[str, list[str], Fault]:
        """Latest trades or bars, once both key headers are right."""
        symbols = symbols_of(query, "symbols")
        routes = {"/v2/stocks/snapshots": "snapshots", "/v2/stocks/bars": "bars"}
        route = routes.get(path, "other")
        keys = (headers.get("apca-api-key-id"), headers.get("apca-api-secret-key"))
        if keys != (self.key_id, self.secret_key):
            return route, symbols, json_reply({"message": "unauthorized."}, 401)
        if query.get("feed", ["iex"]) != ["iex"]:
            message = "subscription does not permit querying recent SIP data"
            return route, symbols, json_reply({"message": message}, 403)
        if route == "snapshots":
            snapshots = {
                s: snapshot(self.trades[s], self.previous_closes.get(s))
                for s in symbols
                if s in self.trades
            }
            return (
                route,
                symbols,
                json_reply({"snapshots": snapshots} if self.wrapped else snapshots),
            )
        if route == "bars":
            return route, symbols, self._bars(symbols, query)
        return route, symbols, json_reply({"message": "Not Found"}, 404)

    def _bars(self, symbols: list[str], query: dict[str, list[str]]) -> Fault:
        timeframe = query.get("timeframe", [""])[0]
        table = self.daily if timeframe == "1Day" else self.minutes
        if timeframe != "1Day" and not timeframe.endswith("Min"):
            return json_reply({"message": f"invalid timeframe: {timeframe}"}, 422)
        limit = int(query.get("limit", ["1000"])[0])
        if not 1 <= limit <= MAX_LIMIT:
            return json_reply({"message": "invalid limit: must be between 1 and 10000"}, 422)
        start = _time(query.get("start", ["1970-01-01T00:00:00Z"])[0])
        end = _time(query.get("end", ["2999-01-01T00:00:00Z"])[0])
        rows = [
            (s, b)
            for s in sorted(symbols)
            for b in table.get(s, [])
            if start <= _time(b["t"]) <= end
        ]
        offset = 0
        if "page_token" in query:
            token = query["page_token"][0]
            if token not in self.tokens:
                return json_reply({"message": "invalid page token"}, 400)
            offset = int(base64.b64decode(token).decode().split(":")[1])
        page = rows[offset : offset + min(limit, self.page_size)]
        bars: dict[str, list[dict]] = {}
        for symbol, b in page:
            bars.setdefault(symbol, []).append(b)
        token = None
        if offset + len(page) < len(rows):
            token = base64.b64encode(f"offset:{offset + len(page)}".encode()).decode()
            self.tokens.add(token)
        return json_reply({"bars": bars, "next_page_token": token})


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
