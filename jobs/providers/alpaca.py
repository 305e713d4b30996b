"""Alpaca Market Data on the free IEX feed: latest trades, and bars for 52-week bands and history.

Prices come from `/v2/stocks/snapshots` for up to 100 symbols a request: the
latest trade, and the previous session's daily bar for the previous close. The
52-week band is the max/min of a year of daily bars, computed once a day; the
history backfill reads minute bars, and the daily history daily bars. Alpaca has
no company name or logo URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from core.market import US_EQUITIES, day_start
from core.options import AtLeastOne, BaseUrl, Secret, env_name
from core.records import DailyBar, Quote, StockProfile
from core.times import NEW_YORK, Clock, utc_now
from jobs.budget import Budget
from jobs.failures import FailureKind, ProviderError
from jobs.providers.base import Fetched, chunks, fetch_parts
from jobs.providers.keyed import KeyedOptions, KeyedProvider
from jobs.providers.parsing import (
    bad_body,
    collect,
    extra_number,
    number,
    object_of,
    rfc3339,
)
from jobs.providers.spec import ProviderSpec

BATCH_LIMIT = 100  # symbols per request: keeps the URL short
PAGE_LIMIT = 10_000  # bars per page, Alpaca's maximum
MAX_PAGES = 100  # a server whose pages never end is a bad answer, not a loop
YEAR = timedelta(days=365)


class AlpacaOptions(KeyedOptions, env_prefix="STOCKSTREAMER_ALPACA_"):
    """STOCKSTREAMER_ALPACA_*: the base URL, the free plan's 200 requests/min, the key pair."""

    KEYS = ("key_id", "secret_key")
    base_url: BaseUrl = "https://data.alpaca.markets"
    rate_limit: AtLeastOne = 200
    key_id: Secret = None
    secret_key: Secret = None


def budget(options: AlpacaOptions) -> Budget:
    """Requests a minute, each carrying up to 100 symbols."""
    return Budget(
        "alpaca",
        options.rate_limit,
        BATCH_LIMIT,
        setting=env_name(AlpacaOptions, "rate_limit"),
    )


class AlpacaProvider(KeyedProvider):
    """Prices, 52-week bands and minute history from Alpaca's market-data API."""

    name = "alpaca"
    options = AlpacaOptions
    has_history = True  # minute bars

    def __init__(self, *args: Any, feed: str = "iex", clock: Clock = utc_now, **kwargs: Any):
        """KeyedProvider's arguments, plus the data feed and the clock that dates the bands."""
        super().__init__(*args, **kwargs)
        self._feed = feed
        self._clock = clock
        # The 52-week bands of the day they were computed for: refreshed daily, not per pass.
        self._bands: tuple[date, dict[str, StockProfile]] = (date.min, {})

    @staticmethod
    def headers(key_id: str, secret_key: str) -> dict[str, str]:
        """The key pair, as Alpaca reads it."""
        return {"APCA-API-KEY-ID": key_id, "APCA-API-SECRET-KEY": secret_key}

    def fetch_quotes(self, symbols: Sequence[str]) -> Fetched[Quote]:
        """Each symbol's latest trade (nanoseconds cut to microseconds) and previous close."""

        def batch(part: Sequence[str]) -> Fetched[Quote]:
            body = object_of(
                self._client.get(
                    "v2/stocks/snapshots", {"symbols": ",".join(part), "feed": self._feed}
                ),
                "the snapshots answer",
            )
            # Documented with the symbols at the top level; some mirrors wrap them.
            if "snapshots" in body:
                body = object_of(body["snapshots"], "snapshots")
            return collect(part, body, _quote, "alpaca's answer")

        return fetch_parts(chunks(symbols, BATCH_LIMIT), batch, self._concurrency)

    def knows(self, symbol: str) -> bool:
        """Whether a snapshot of the symbol comes back (one it does not know is left out)."""
        body = object_of(
            self._client.get("v2/stocks/snapshots", {"symbols": symbol, "feed": self._feed}),
            "the snapshots answer",
        )
        if "snapshots" in body:
            body = object_of(body["snapshots"], "snapshots")
        return any(str(key).upper() == symbol for key in body)

    def fetch_profiles(self, symbols: Sequence[str]) -> Fetched[StockProfile]:
        """Each symbol's 52-week band from a year of daily bars (no name or logo from Alpaca)."""
        today = self._clock().date()
        day, bands = self._bands
        bands = dict(bands) if day == today else {}
        missing = [s for s in symbols if s not in bands]
        start = datetime.combine(today - YEAR, datetime.min.time(), timezone.utc)

        def batch(part: Sequence[str]) -> Fetched[StockProfile]:
            bars = self._bars(part, "1Day", start)
            entries = {s: {"bars": b} for s, b in bars.items()}
            return collect(part, entries, _band, "alpaca's answer")

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

    def daily_history(self, symbol: str, first: date, last: date) -> list[DailyBar]:
        """Daily bars of the New York dates in [first, last], dated by their session."""
        end = day_start(last + timedelta(days=1)) - timedelta(seconds=1)
        bars = self._bars([symbol], "1Day", day_start(first), end).get(symbol, [])
        sessions = {s.day: s for s in US_EQUITIES.trading_days(first, last)}
        out = []
        for bar in bars:
            day = rfc3339(bar.get("t"), "t").astimezone(NEW_YORK).date()
            session = sessions.get(day)
            if session is None:  # a date the exchange did not trade: no session to date it by
                continue
            out.append(
                DailyBar(
                    symbol=symbol,
                    day=day,
                    open=number(bar.get("o"), "o"),
                    high=number(bar.get("h"), "h"),
                    low=number(bar.get("l"), "l"),
                    close=number(bar.get("c"), "c"),
                    open_at=session.opens,
                    close_at=session.last_second,
                )
            )
        return out

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
                    raise bad_body(f"bars of {symbol} are not a list of objects")
                out.setdefault(str(symbol).upper(), []).extend(bars)
            token = page.get("next_page_token")
            if not token:
                return out
            if not isinstance(token, str):
                raise bad_body("next_page_token is not a string")
        raise bad_body(f"bars did not end within {MAX_PAGES} pages")


def _quote(symbol: str, snapshot: Mapping[str, object]) -> Quote:
    trade = object_of(snapshot.get("latestTrade"), "latestTrade")
    previous = snapshot.get("prevDailyBar")
    close = previous.get("c") if isinstance(previous, Mapping) else None
    return Quote(
        symbol,
        number(trade.get("p"), "p"),
        rfc3339(trade.get("t"), "t"),
        previous_close=extra_number(close, "prevDailyBar.c", symbol),
    )


def _band(symbol: str, entry: Mapping[str, object]) -> StockProfile:
    bars: list[Mapping[str, object]] = entry["bars"]  # type: ignore[assignment]
    highs = _finite(number(b.get("h"), "h") for b in bars)
    lows = _finite(number(b.get("l"), "l") for b in bars)
    if not highs or not lows:
        raise ProviderError(FailureKind.UNKNOWN_SYMBOL, "no daily bars in the last year")
    return StockProfile(
        symbol=symbol, week52_high=max(highs), week52_low=min(lows), source="alpaca"
    )


def _finite(values: Iterable[Decimal | None]) -> list[Decimal]:
    return [v for v in values if v is not None and v.is_finite()]


def _rfc3339(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


SPEC = ProviderSpec(
    name=AlpacaProvider.name,
    options=AlpacaOptions,
    build=AlpacaProvider.build,
    budget=budget,
)
