"""An adapter for the IEX API shape (legacy `/1.0` and Cloud `/stable` layouts).

IEX itself closed in 2024; this adapter serves any IEX-compatible upstream. It
asks the batch route for up to 100 symbols per request and, when a batch answer
is an error, asks each of its symbols alone so that one bad symbol cannot drop
the others.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from core.records import Quote, StockProfile
from jobs.http import JsonClient, RetryPolicy
from jobs.providers.base import Fetched, ProviderError, chunks, fetch_parts

BATCH_LIMIT = 100


class IEXProvider:
    """Prices and metadata from `/stock/market/batch`, falling back to per-symbol routes."""

    name = "iex"
    simulated = False

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        concurrency: int = 8,
    ) -> None:
        self._client = JsonClient(
            base_url,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            params={"token": token} if token else None,
            max_connections=concurrency,
        )
        self._concurrency = concurrency

    def fetch_quotes(self, symbols: Sequence[str]) -> Fetched[Quote]:
        """Latest price per symbol, timed by quote.latestUpdate."""
        return self._fetch(symbols, "quote", _quote)

    def fetch_profiles(self, symbols: Sequence[str]) -> Fetched[StockProfile]:
        """Company name, 52-week band and logo per symbol."""
        return self._fetch(symbols, "quote,logo", _profile)

    def history(
        self, symbol: str, start: datetime, end: datetime, step: float = 60.0
    ) -> list[Quote] | None:
        """The IEX shape's history routes are not used: no backfill from this provider."""
        return None

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
                if len(part) == 1 or exc.kind in ("timeout", "connect", "rate_limited", "http_5xx"):
                    raise
                # A 4xx or a bad body for the whole batch: ask each symbol alone. (A
                # server that is failing or throttling is not asked N more times.)
                return fetch_parts([[s] for s in part], single, self._concurrency)
            if not isinstance(body, Mapping):
                raise ProviderError("bad_body", "batch answer is not a JSON object")
            return _collect(part, {k.upper(): v for k, v in body.items()}, parse)

        def single(part: Sequence[str]) -> Fetched:
            (symbol,) = part
            body: dict[str, object] = {}
            for kind in types.split(","):
                body[kind] = self._client.get(f"stock/{symbol}/{kind}")
            return _collect(part, {symbol: body}, parse)

        return fetch_parts(chunks(symbols, BATCH_LIMIT), batch, self._concurrency)


def _collect(part: Sequence[str], body: Mapping[str, object], parse) -> Fetched:
    result: Fetched = Fetched()
    for symbol in part:
        entry = body.get(symbol)
        if not isinstance(entry, Mapping):
            result.failures[symbol] = "unknown_symbol: not in the batch answer"
            continue
        try:
            result.items.append(parse(symbol, entry))
        except ProviderError as exc:
            result.failures[symbol] = f"{exc.kind}: {exc}"
    return result


def _quote(symbol: str, entry: Mapping[str, object]) -> Quote:
    quote = _section(entry, "quote")
    return Quote(
        symbol=symbol,
        price=number(quote.get("latestPrice"), "latestPrice"),
        observed_at=epoch_millis(quote.get("latestUpdate")),
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
        raise ProviderError("bad_body", f"no {name!r} object in the answer")
    return section


def number(value: object, field: str) -> Decimal | None:
    """A JSON number as a Decimal (None when null); NaN and infinity pass on for validation."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ProviderError("bad_body", f"{field} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        return Decimal(str(value))
    try:
        # Through str() so that 174.97 stays 174.97 and not its binary neighbour.
        return Decimal(str(value))
    except InvalidOperation:
        raise ProviderError("bad_body", f"{field} is not a number") from None


def epoch_millis(value: object) -> datetime | None:
    """IEX's epoch-millisecond timestamps as aware UTC datetimes."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProviderError("bad_body", "latestUpdate is not epoch milliseconds")
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ProviderError("bad_body", "latestUpdate is out of range") from None
