"""Finnhub: one request per symbol (no batch), in parallel within the free 60 requests a minute.

Prices from `/quote` (epoch seconds; an all-zero answer means an unknown symbol),
names and logos from `/stock/profile2` (`{}` when unknown), and 52-week bands from
`/stock/metric?metric=all`. No history on the free plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from core.records import Quote, StockProfile
from jobs.budget import Budget, Rotation
from jobs.http import RetryPolicy
from jobs.providers.base import Fetched, ProviderError, chunks, fetch_parts
from jobs.providers.keyed import AUTH_BACKOFF, KeyedClient, Keys
from jobs.providers.parsing import epoch_seconds, number, object_of, text

BASE_URL = "https://finnhub.io/api/v1"
SETTING = "STOCKSTREAMER_FINNHUB_TOKEN"


def _headers(token: str) -> dict[str, str]:
    return {"X-Finnhub-Token": token}


class FinnhubProvider:
    """Prices, names, logos and 52-week bands from Finnhub, one symbol per request."""

    name = "finnhub"
    simulated = False

    def __init__(
        self,
        base_url: str = BASE_URL,
        *,
        token: str | None,
        rate_limit: int = 60,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        concurrency: int = 8,
        auth_backoff: float = AUTH_BACKOFF,
        reload: Callable[[], Keys] | None = None,
    ) -> None:
        self.budget = Budget("finnhub", rate_limit, 1, setting="STOCKSTREAMER_FINNHUB_RATE_LIMIT")
        self._client = KeyedClient(
            self.budget,
            base_url,
            keys=(token,),
            headers=_headers,
            setting=SETTING,
            reload=reload,
            timeout=timeout,
            retry=retry,
            auth_backoff=auth_backoff,
            concurrency=concurrency,
        )
        self._concurrency = concurrency
        self._rotation = Rotation()

    def fetch_quotes(self, symbols: Sequence[str]) -> Fetched[Quote]:
        """Each symbol's current price `c` at its time `t`."""
        return self._each(symbols, self._quote)

    def fetch_profiles(self, symbols: Sequence[str]) -> Fetched[StockProfile]:
        """Each symbol's name and logo, then its 52-week band."""
        return self._each(symbols, self._profile)

    def history(
        self, symbol: str, start: datetime, end: datetime, step: float = 60.0
    ) -> list[Quote] | None:
        """Finnhub's candles are not on the free plan: no backfill from this provider."""
        return None

    def ready_in(self) -> float:
        """Seconds before requests are sent again after a refused key or a 429."""
        return self._client.ready_in()

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _each(self, symbols: Sequence[str], fetch: Callable[[str], object]) -> Fetched:
        def one(part: Sequence[str]) -> Fetched:
            return Fetched(items=[fetch(part[0])])

        # Rotated, so that when the minute's budget runs out it is not always the same symbols.
        return fetch_parts(self._rotation.order(chunks(symbols, 1)), one, self._concurrency)

    def _quote(self, symbol: str) -> Quote:
        body = object_of(self._client.get("quote", {"symbol": symbol}), "the quote answer")
        price, when = body.get("c"), body.get("t")
        if _zero(price) and _zero(when):
            # Finnhub answers a symbol it does not know with zeros, not with an error.
            raise ProviderError("unknown_symbol", f"finnhub has no quote for {symbol} (all zeros)")
        return Quote(symbol, number(price, "c"), epoch_seconds(when, "t"))

    def _profile(self, symbol: str) -> StockProfile:
        profile = object_of(
            self._client.get("stock/profile2", {"symbol": symbol}), "the profile answer"
        )
        if not profile:
            raise ProviderError("unknown_symbol", f"finnhub has no profile for {symbol}")
        body = self._client.get("stock/metric", {"symbol": symbol, "metric": "all"})
        metric = object_of(object_of(body, "the metric answer").get("metric") or {}, "metric")
        return StockProfile(
            symbol=symbol,
            company_name=text(profile.get("name")),
            logo_url=text(profile.get("logo")),
            week52_high=number(metric.get("52WeekHigh"), "52WeekHigh"),
            week52_low=number(metric.get("52WeekLow"), "52WeekLow"),
            source="finnhub",
        )


def _zero(value: object) -> bool:
    return value is None or (isinstance(value, (int, float)) and value == 0)
