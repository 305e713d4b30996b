"""Alpaca Market Data on the free IEX feed: latest trades, and bars for 52-week bands and history.

Prices come from `/v2/stocks/trades/latest` for up to 100 symbols a request. The
52-week band is the max/min of a year of daily bars, computed once a day; the
history backfill reads minute bars. Alpaca has no company name or logo URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from core.records import Quote, StockProfile
from core.times import Clock, utc_now
from jobs.budget import Budget
from jobs.http import RetryPolicy
from jobs.providers.base import Fetched, ProviderError, chunks, fetch_parts
from jobs.providers.keyed import AUTH_BACKOFF, KeyedClient, Keys
from jobs.providers.parsing import collect, number, object_of, rfc3339

BASE_URL = "https://data.alpaca.markets"
SETTING = "STOCKSTREAMER_ALPACA_KEY_ID and STOCKSTREAMER_ALPACA_SECRET_KEY"
BATCH_LIMIT = 100  # symbols per request: keeps the URL short
PAGE_LIMIT = 10_000  # bars per page, Alpaca's maximum
MAX_PAGES = 100  # a server whose pages never end is a bad answer, not a loop
YEAR = timedelta(days=365)


def _headers(key_id: str, secret_key: str) -> dict[str, str]:
    return {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret_key}


class AlpacaProvider:
    """Prices, 52-week bands and minute history from Alpaca's market-data API."""

    name = "alpaca"
    simulated = False

    def __init__(
        self,
        base_url: str = BASE_URL,
        *,
        key_id: str | None,
        secret_key: str | None,
        feed: str = "iex",
        rate_limit: int = 200,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        concurrency: int = 8,
        auth_backoff: float = AUTH_BACKOFF,
        reload: Callable[[], Keys] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.budget = Budget(
            "alpaca", rate_limit, BATCH_LIMIT, setting="STOCKSTREAMER_ALPACA_RATE_LIMIT"
        )
        self._client = KeyedClient(
            self.budget,
            base_url,
            keys=(key_id, secret_key),
            headers=_headers,
            setting=SETTING,
            reload=reload,
            timeout=timeout,
            retry=retry,
            auth_backoff=auth_backoff,
            concurrency=concurrency,
        )
        self._feed = feed
        self._concurrency = concurrency
        self._clock = clock
        # The 52-week bands of the day they were computed for: refreshed daily, not per pass.
        self._bands: tuple[date, dict[str, StockProfile]] = (date.min, {})

    def fetch_quotes(self, symbols: Sequence[str]) -> Fetched[Quote]:
        """The latest trade of each symbol, timed by Alpaca (nanoseconds cut to microseconds)."""

        def batch(part: Sequence[str]) -> Fetched[Quote]:
            body = self._client.get(
                "v2/stocks/trades/latest", {"symbols": ",".join(part), "feed": self._feed}
            )
            trades = object_of(object_of(body, "the latest-trades answer").get("trades"), "trades")
            return collect(part, trades, _quote, self.name)

        return fetch_parts(chunks(symbols, BATCH_LIMIT), batch, self._concurrency)

    def fetch_profiles(self, symbols: Sequence[str]) -> Fetched[StockProfile]:
        """Each symbol's 52-week band from a year of daily bars (no name or logo from Alpaca)."""
        today = self._clock().date()
        day, bands = self._bands
        bands = dict(bands) if day == today else {}
        missing = [s for s in symbols if s not in bands]
        start = datetime.combine(today - YEAR, datetime.min.time(), timezone.utc)

        def batch(part: Sequence[str]) -> Fetched[StockProfile]:
            bars = self._bars(part, "1Day", start)
            return collect(part, {s: {"bars": b} for s, b in bars.items()}, _band, self.name)

        fetched = fetch_parts(chunks(missing, BATCH_LIMIT), batch, self._concurrency)
        bands.update((p.symbol, p) for p in fetched.items)
        self._bands = (today, bands)
        return Fetched([bands[s] for s in symbols if s in bands], fetched.failures)

    def history(
        self, symbol: str, start: datetime, end: datetime, step: float = 60.0
    ) -> list[Quote]:
        """Each minute bar's open at the bar's start: the one price in it whose time is known."""
        minutes = min(59, max(1, round(step / 60)))
        bars = self._bars([symbol], f"{minutes}Min", start, end).get(symbol, [])
        return [
            Quote(symbol, number(bar.get("o"), "o"), rfc3339(bar.get("t"), "t")) for bar in bars
        ]

    def ready_in(self) -> float:
        """Seconds before requests are sent again after a refused key or a 429."""
        return self._client.ready_in()

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _bars(
        self,
        symbols: Sequence[str],
        timeframe: str,
        start: datetime,
        end: datetime | None = None,
    ) -> dict[str, list[Mapping[str, object]]]:
        """Bars per symbol, following next_page_token until Alpaca says there are no more."""
        params = {
            "symbols": ",".join(symbols),
            "timeframe": timeframe,
            "start": _rfc3339(start),
            "feed": self._feed,
            "limit": str(PAGE_LIMIT),
        }
        if end is not None:
            params["end"] = _rfc3339(end)
        out: dict[str, list[Mapping[str, object]]] = {}
        token: object = None
        for _ in range(MAX_PAGES):
            page_params = {**params, "page_token": token} if token else params
            page = object_of(self._client.get("v2/stocks/bars", page_params), "the bars answer")
            for symbol, bars in object_of(page.get("bars") or {}, "bars").items():
                if not isinstance(bars, list) or not all(isinstance(b, Mapping) for b in bars):
                    raise ProviderError("bad_body", f"bars of {symbol} are not a list of objects")
                out.setdefault(str(symbol).upper(), []).extend(bars)
            token = page.get("next_page_token")
            if not token:
                return out
            if not isinstance(token, str):
                raise ProviderError("bad_body", "next_page_token is not a string")
        raise ProviderError("bad_body", f"bars did not end within {MAX_PAGES} pages")


def _quote(symbol: str, trade: Mapping[str, object]) -> Quote:
    return Quote(symbol, number(trade.get("p"), "p"), rfc3339(trade.get("t"), "t"))


def _band(symbol: str, entry: Mapping[str, object]) -> StockProfile:
    bars: list[Mapping[str, object]] = entry["bars"]  # type: ignore[assignment]
    highs = _finite(number(b.get("h"), "h") for b in bars)
    lows = _finite(number(b.get("l"), "l") for b in bars)
    if not highs or not lows:
        raise ProviderError("unknown_symbol", "no daily bars in the last year")
    return StockProfile(
        symbol=symbol, week52_high=max(highs), week52_low=min(lows), source="alpaca"
    )


def _finite(values: Iterable[Decimal | None]) -> list[Decimal]:
    return [v for v in values if v is not None and v.is_finite()]


def _rfc3339(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
