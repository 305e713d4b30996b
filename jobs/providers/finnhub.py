"""Finnhub: one request per symbol (no batch), in parallel within the free 60 requests a minute.

Prices from `/quote` (epoch seconds; an all-zero answer means an unknown symbol),
names and logos from `/stock/profile2` (`{}` when unknown), and 52-week bands from
`/stock/metric?metric=all`. Candles are not on the free plan: no history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.options import AtLeastOne, BaseUrl, Secret, env_name
from core.records import Quote, StockProfile
from jobs.budget import Budget
from jobs.failures import FailureKind, ProviderError
from jobs.providers.base import Fetched, answered, chunks, fetch_parts
from jobs.providers.keyed import KeyedOptions, KeyedProvider
from jobs.providers.parsing import epoch_seconds, extra_number, number, object_of, text
from jobs.providers.spec import ProviderSpec


class FinnhubOptions(KeyedOptions, env_prefix="STOCKSTREAMER_FINNHUB_"):
    """STOCKSTREAMER_FINNHUB_*: the base URL, the free plan's 60 requests/min, the token."""

    KEYS = ("token",)
    base_url: BaseUrl = "https://finnhub.io/api/v1"
    rate_limit: AtLeastOne = 60
    token: Secret = None


def budget(options: FinnhubOptions) -> Budget:
    """Requests a minute, one symbol each."""
    return Budget("finnhub", options.rate_limit, 1, setting=env_name(FinnhubOptions, "rate_limit"))


class FinnhubProvider(KeyedProvider):
    """Prices, names, logos and 52-week bands from Finnhub, one symbol per request."""

    name = "finnhub"
    options = FinnhubOptions

    @staticmethod
    def headers(token: str) -> dict[str, str]:
        """The token, as Finnhub reads it."""
        return {"X-Finnhub-Token": token}

    def fetch_quotes(self, symbols: Sequence[str]) -> Fetched[Quote]:
        """Each symbol's current price `c` at its time `t`, and the previous close `pc`."""
        return self._each(symbols, self._quote)

    def fetch_profiles(self, symbols: Sequence[str]) -> Fetched[StockProfile]:
        """Each symbol's name and logo, then its 52-week band."""
        return self._each(symbols, self._profile)

    def knows(self, symbol: str) -> bool:
        """Whether `/quote` answers a price (an unknown symbol is all zeros)."""
        return answered(lambda: self._quote(symbol))

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
            raise ProviderError(
                FailureKind.UNKNOWN_SYMBOL, f"finnhub has no quote for {symbol} (all zeros)"
            )
        return Quote(
            symbol,
            number(price, "c"),
            epoch_seconds(when, "t"),
            previous_close=extra_number(body.get("pc"), "pc", symbol),
        )

    def _profile(self, symbol: str) -> StockProfile:
        profile = object_of(
            self._client.get("stock/profile2", {"symbol": symbol}), "the profile answer"
        )
        if not profile:
            raise ProviderError(FailureKind.UNKNOWN_SYMBOL, f"finnhub has no profile for {symbol}")
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


SPEC = ProviderSpec(
    name=FinnhubProvider.name,
    options=FinnhubOptions,
    build=FinnhubProvider.build,
    budget=budget,
)
