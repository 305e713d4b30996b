"""Twelve Data: price, name, 52-week band and logo with one key; numbers arrive as strings.

`/quote?symbol=A,B` answers an object keyed by symbol (one symbol: the object
itself). Every symbol costs a credit, batch or not, and the free plan has 8 a
minute and 800 a day. Errors come as `{"code", "message", "status": "error"}`,
sometimes with HTTP 200, so the body decides, not the status line. A week of
minutes would spend the day's credits: no history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from core.options import AtLeastOne, BaseUrl, Secret, env_name
from core.records import Quote, StockProfile
from jobs.budget import Budget
from jobs.failures import FailureKind, ProviderError
from jobs.providers.base import Fetched, chunks, fetch_parts, says_unknown
from jobs.providers.keyed import KeyedOptions, KeyedProvider
from jobs.providers.parsing import epoch_seconds, extra_number, number, object_of, text
from jobs.providers.spec import ProviderSpec

BATCH_LIMIT = 120  # symbols per /quote request (uncertain: from client code)
# The quote's `timestamp` opens the candle of this interval; per day it would never move.
INTERVAL = "1min"

# One /quote answer carries price, name and band: the metadata pass's answers serve the
# price pass of the same run (seconds later) instead of spending the credits twice.
REUSE = 5.0

T = TypeVar("T")


class TwelveDataOptions(KeyedOptions, env_prefix="STOCKSTREAMER_TWELVEDATA_"):
    """STOCKSTREAMER_TWELVEDATA_*: the base URL, the free plan's credits, the key."""

    KEYS = ("api_key",)
    base_url: BaseUrl = "https://api.twelvedata.com"
    rate_limit: AtLeastOne = 8  # credits a minute
    daily_limit: AtLeastOne = 800
    api_key: Secret = None


def budget(options: TwelveDataOptions) -> Budget:
    """Credits a minute and a day, one per symbol of a batch."""
    return Budget(
        "twelvedata",
        options.rate_limit,
        # A request billed above the minute's credits is refused whole: never send one.
        min(BATCH_LIMIT, options.rate_limit),
        per_day=options.daily_limit,
        billed_per_symbol=True,
        unit="credits",
        setting=env_name(TwelveDataOptions, "rate_limit", "daily_limit"),
    )


class TwelveDataProvider(KeyedProvider):
    """Prices and metadata from Twelve Data's /quote, logos from /logo."""

    name = "twelvedata"
    options = TwelveDataOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """KeyedProvider's arguments."""
        super().__init__(*args, **kwargs)
        self._logos: dict[str, str | None] = {}  # a logo costs a credit and hardly ever changes
        self._recent: dict[str, tuple[float, Mapping[str, object]]] = {}  # symbol: (when, entry)

    @staticmethod
    def headers(key: str) -> dict[str, str]:
        """The key, as Twelve Data reads it."""
        return {"Authorization": f"apikey {key}"}

    def fetch_quotes(self, symbols: Sequence[str]) -> Fetched[Quote]:
        """Each symbol's `close` at its minute's `timestamp`, and its `previous_close`."""
        return self._quotes(symbols, _quote)

    def fetch_profiles(self, symbols: Sequence[str]) -> Fetched[StockProfile]:
        """Name and 52-week band from /quote; the logo from /logo, once per symbol."""
        fetched = self._quotes(symbols, _profile)
        for i, profile in enumerate(fetched.items):
            symbol = profile.symbol
            if symbol not in self._logos:
                try:
                    body = self._client.get("logo", {"symbol": symbol}, check=_raise_error)
                    self._logos[symbol] = text(object_of(body, "the logo answer").get("url"))
                except ProviderError:
                    continue  # the profile is still worth storing; the logo is tried next time
            fetched.items[i] = replace(profile, logo_url=self._logos[symbol])
        return fetched

    def knows(self, symbol: str) -> bool:
        """Whether `/quote` answers the symbol (one credit) rather than "symbol not found"."""
        try:
            fetched = self._entries([symbol])
        except ProviderError as exc:  # an error answered for the whole request
            fetched = Fetched().fail([symbol], exc)
        failure = fetched.failures.get(symbol)
        if failure is None:
            return True
        if says_unknown(failure):
            return False
        raise ProviderError(failure.kind, failure.message, status=failure.status)

    def _quotes(
        self, symbols: Sequence[str], parse: Callable[[str, Mapping[str, object]], T]
    ) -> Fetched[T]:
        """Parse each symbol's /quote entry, asking only for those not answered a moment ago."""
        now = time.monotonic()
        recent = {
            s: hit[1] for s in symbols if (hit := self._recent.get(s)) and now - hit[0] < REUSE
        }
        missing = [s for s in symbols if s not in recent]
        parts = chunks(missing, self.budget.symbols_per_request)
        fetched = fetch_parts(self._rotation.order(parts), self._entries, self._concurrency)
        result: Fetched[T] = Fetched(failures=dict(fetched.failures))
        for symbol, entry in [*recent.items(), *fetched.items]:
            try:
                result.items.append(parse(symbol, entry))
            except ProviderError as exc:
                result.fail([symbol], exc)
        return result

    def _entries(self, part: Sequence[str]) -> Fetched[tuple[str, Mapping[str, object]]]:
        """One /quote request: each symbol's entry, or why there is none."""
        params = {"symbol": ",".join(part), "interval": INTERVAL}
        body = object_of(
            self._client.get("quote", params, cost=len(part), check=_raise_error),
            "the quote answer",
        )
        # One symbol answers the quote itself; several answer an object keyed by symbol.
        single = len(part) == 1 and not isinstance(body.get(part[0]), Mapping)
        entries = {part[0]: body} if single else {str(k).upper(): v for k, v in body.items()}
        result: Fetched[tuple[str, Mapping[str, object]]] = Fetched()
        for symbol in part:
            entry = entries.get(symbol)
            try:
                if not isinstance(entry, Mapping):
                    raise ProviderError(FailureKind.UNKNOWN_SYMBOL, "not in twelvedata's answer")
                _raise_error(entry)  # a batch reports a symbol it does not know in place
            except ProviderError as exc:
                result.fail([symbol], exc.reworded(self._client.redact(str(exc))[:200]))
                continue
            self._recent[symbol] = (time.monotonic(), entry)
            result.items.append((symbol, entry))
        return result


def _quote(symbol: str, entry: Mapping[str, object]) -> Quote:
    when = epoch_seconds(entry.get("timestamp"), "timestamp")
    previous = extra_number(entry.get("previous_close"), "previous_close", symbol)
    return Quote(symbol, number(entry.get("close"), "close"), when, previous_close=previous)


def _profile(symbol: str, entry: Mapping[str, object]) -> StockProfile:
    band = object_of(entry.get("fifty_two_week") or {}, "fifty_two_week")
    return StockProfile(
        symbol=symbol,
        company_name=text(entry.get("name")),
        week52_high=number(band.get("high"), "fifty_two_week.high"),
        week52_low=number(band.get("low"), "fifty_two_week.low"),
        source="twelvedata",
    )


def _raise_error(body: object) -> None:
    """Raise the error an answer carries in its body, whatever its HTTP status was."""
    if not isinstance(body, Mapping) or body.get("status") != "error":
        return
    code = body.get("code")
    message = f"twelvedata answered code {code}: {str(body.get('message', ''))!r}"
    status = code if isinstance(code, int) else None
    if code in (401, 403):
        raise ProviderError(FailureKind.AUTH, message, status=status)
    if code == 429:
        # Credits refill each minute, or at midnight UTC once the day's are spent.
        period = 86_400 if "for the day" in str(body.get("message")) else 60
        wait = period - time.time() % period
        raise ProviderError(FailureKind.RATE_LIMITED, message, retry_after=wait, status=status)
    if code in (400, 404):
        raise ProviderError(FailureKind.UNKNOWN_SYMBOL, message, status=status)
    server = status is not None and status >= 500
    kind = FailureKind.HTTP_5XX if server else FailureKind.HTTP_4XX
    raise ProviderError(kind, message, status=status)


SPEC = ProviderSpec(
    name=TwelveDataProvider.name,
    options=TwelveDataOptions,
    build=TwelveDataProvider.build,
    budget=budget,
)
