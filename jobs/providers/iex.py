"""An adapter for the IEX API shape (legacy `/1.0` and Cloud `/stable` layouts).

IEX itself closed in 2024; this adapter serves any IEX-compatible upstream. It
asks the batch route for up to 100 symbols per request and, when a batch answer
is an error, asks each of its symbols alone so that one bad symbol cannot drop
the others. Its history routes are not used: no backfill from this provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.options import BaseUrl, ProviderOptions, Secret
from core.records import Quote, StockProfile
from jobs.failures import FailureKind, ProviderError
from jobs.http import DEFAULT_HTTP, HttpOptions, JsonClient
from jobs.providers.base import Fetched, Provider, answered, chunks, fetch_parts
from jobs.providers.parsing import bad_body, collect, epoch_millis, extra_number, number
from jobs.providers.spec import ProviderSpec, Setup

BATCH_LIMIT = 100
# A server that is failing or throttling is not asked N more times, one symbol each.
NO_FALLBACK = frozenset(
    {FailureKind.TIMEOUT, FailureKind.CONNECT, FailureKind.RATE_LIMITED, FailureKind.HTTP_5XX}
)


class IEXOptions(ProviderOptions, env_prefix="STOCKSTREAMER_PROVIDER_"):
    """STOCKSTREAMER_PROVIDER_BASE_URL and _TOKEN (the names from when IEX was the only one)."""

    base_url: BaseUrl = "https://cloud.iexapis.com/stable"
    token: Secret = None  # sent as ?token=, as IEX asks; never logged


class IEXProvider(Provider):
    """Prices and metadata from `/stock/market/batch`, falling back to per-symbol routes."""

    name = "iex"

    def __init__(
        self, base_url: str, *, token: str | None = None, http: HttpOptions = DEFAULT_HTTP
    ) -> None:
        self._client = JsonClient(
            base_url,
            timeout=http.timeout,
            retry=http.retry,
            params={"token": token} if token else None,
            max_connections=http.concurrency,
        )
        self._concurrency = http.concurrency

    def fetch_quotes(self, symbols: Sequence[str]) -> Fetched[Quote]:
        """Latest price per symbol, timed by quote.latestUpdate."""
        return self._fetch(symbols, "quote", _quote)

    def fetch_profiles(self, symbols: Sequence[str]) -> Fetched[StockProfile]:
        """Company name, 52-week band and logo per symbol."""
        return self._fetch(symbols, "quote,logo", _profile)

    def knows(self, symbol: str) -> bool:
        """Whether `/stock/{symbol}/quote` answers a quote rather than "Unknown symbol"."""
        return answered(lambda: self._client.get(f"stock/{symbol}/quote"))

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _fetch(self, symbols: Sequence[str], types: str, parse) -> Fetched:
        def batch(part: Sequence[str]) -> Fetched:
            try:
                body = self._client.get(
                    "stock/market/batch", params={"symbols": ",".join(part), "types": types}
                )
            except ProviderError as exc:
                if len(part) == 1 or exc.kind in NO_FALLBACK:
                    raise
                # A 4xx or a bad body for the whole batch: ask each symbol alone.
                return fetch_parts([[s] for s in part], single, self._concurrency)
            if not isinstance(body, Mapping):
                raise bad_body("batch answer is not a JSON object")
            return collect(part, body, parse, "the batch answer")

        def single(part: Sequence[str]) -> Fetched:
            (symbol,) = part
            body: dict[str, object] = {}
            for kind in types.split(","):
                body[kind] = self._client.get(f"stock/{symbol}/{kind}")
            return collect(part, {symbol: body}, parse, "the batch answer")

        return fetch_parts(chunks(symbols, BATCH_LIMIT), batch, self._concurrency)


def _quote(symbol: str, entry: Mapping[str, object]) -> Quote:
    quote = _section(entry, "quote")
    return Quote(
        symbol=symbol,
        price=number(quote.get("latestPrice"), "latestPrice"),
        observed_at=epoch_millis(quote.get("latestUpdate"), "latestUpdate"),
        previous_close=extra_number(quote.get("previousClose"), "previousClose", symbol),
    )


def _profile(symbol: str, entry: Mapping[str, object]) -> StockProfile:
    quote = _section(entry, "quote")
    logo = entry.get("logo")
    logo_url = logo.get("url") if isinstance(logo, Mapping) else None
    name = quote.get("companyName")
    return StockProfile(
        symbol=symbol,
        company_name=str(name).strip() or None if name is not None else None,
        logo_url=str(logo_url).strip() or None if logo_url else None,
        week52_high=number(quote.get("week52High"), "week52High"),
        week52_low=number(quote.get("week52Low"), "week52Low"),
        source="iex",
    )


def _section(entry: Mapping[str, object], name: str) -> Mapping[str, object]:
    section = entry.get(name)
    if not isinstance(section, Mapping):
        raise bad_body(f"no {name!r} object in the answer")
    return section


def _build(setup: Setup[IEXOptions]) -> IEXProvider:
    token = setup.options.token
    plain = token.get_secret_value() if token is not None else None
    return IEXProvider(setup.options.base_url, token=plain, http=setup.http)


SPEC = ProviderSpec(name=IEXProvider.name, options=IEXOptions, build=_build)
