"""An offline simulated market: deterministic for a seed, no network, no key.

Each symbol's log-price is a random walk built in three layers, each drawn
from its own seeded generator so that any instant can be computed on its own
and history always agrees with live prices:
  * daily anchors: a slowly mean-reverting walk around a realistic base price;
  * minutes: a Brownian bridge between consecutive daily anchors;
  * seconds: a Brownian bridge between consecutive minutes.
It trades by the MarketHours it is given: around the clock by default, so a
demo moves on weekends too, or US equity hours, repeating the last trade
outside them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Literal

import numpy as np

from core.market import ALWAYS_OPEN, US_EQUITIES, MarketHours, TradingDay
from core.options import ProviderOptions
from core.records import DailyBar, Quote, StockProfile
from core.times import Clock, utc_now
from jobs.providers.base import Fetched, Provider
from jobs.providers.simulated_catalog import KNOWN, logo_path
from jobs.providers.spec import ProviderSpec, Setup

EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)
DAY = 86_400
MINUTES = 1_440
BLOCK = 1_024  # daily shocks are drawn in fixed blocks so anchors never depend on "now"
REVERSION = 1 / 250  # per day: prices wander for months but never drift off to absurd levels
CENT = Decimal("0.01")


def symbol_key(symbol: str) -> int:
    """A stable 32-bit number for a symbol (Python's hash() changes between runs)."""
    return int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:4], "big")


class SimulatedOptions(ProviderOptions, env_prefix="STOCKSTREAMER_SIMULATED_"):
    """STOCKSTREAMER_SIMULATED_SEED and _HOURS: `us` trades by the NYSE calendar."""

    seed: int = 2017
    hours: Literal["always", "us"] = "always"


class SimulatedMarket(Provider):
    """The default provider: a deterministic random-walk market with 7 days of history."""

    name = "simulated"
    history_step = 1.0  # any whole second: a gap is filled with the very ticks it missed
    history_is_bars = False
    has_history = True
    simulated = True

    def __init__(
        self, seed: int = 2017, market: MarketHours = ALWAYS_OPEN, clock: Clock = utc_now
    ) -> None:
        self._seed = seed
        self.market = market
        self._clock = clock
        self._anchors = lru_cache(maxsize=4096)(self._anchor_block)
        self._minutes = lru_cache(maxsize=8192)(self._minute_path)
        self._seconds = lru_cache(maxsize=1024)(self._second_walk)

    # -- the provider interface -------------------------------------------------
    def fetch_quotes(self, symbols: Sequence[str]) -> Fetched[Quote]:
        """Each symbol's price at the current second (or the last trading second)."""
        now = self.market.last_trade_time(self._clock())
        return Fetched(items=[self.quote_at(s, now) for s in symbols])

    def fetch_profiles(self, symbols: Sequence[str]) -> Fetched[StockProfile]:
        """Name, monogram logo and 52-week band from the simulated path."""
        today = self._clock()
        return Fetched(items=[self.profile(s, today) for s in symbols])

    def history(
        self, symbol: str, start: datetime, end: datetime, step: float = 60.0
    ) -> list[Quote]:
        """Prices every `step` seconds in [start, end], while its market trades."""
        first = math.ceil(start.timestamp() / step) * step
        out: list[Quote] = []
        t = first
        while t <= end.timestamp():
            at = datetime.fromtimestamp(t, tz=timezone.utc)
            if self.market.is_open(at):
                out.append(self.quote_at(symbol, at))
            t += step
        return out

    def knows(self, symbol: str) -> bool:
        """The simulated market lists the tickers of its catalog (it would quote any)."""
        return symbol in KNOWN

    def daily_history(self, symbol: str, first: date, last: date) -> list[DailyBar]:
        """Each session's bar from the same path as its ticks: deterministic for a seed.

        Open and close are the session's first and last second's prices; high and low
        also take in every minute mark between them. Days before the path's start
        (2020) have no bar.
        """
        first = max(first, EPOCH.date())
        return [self._daily_bar(symbol, d) for d in self.market.trading_days(first, last)]

    def _daily_bar(self, symbol: str, session: TradingDay) -> DailyBar:
        opened, closed = (
            self.quote_at(symbol, session.opens),
            self.quote_at(symbol, session.last_second),
        )
        marks = self._marks(symbol, session.opens, session.last_second)
        high = Decimal(math.exp(float(marks.max()))).quantize(CENT) if len(marks) else CENT
        low = Decimal(math.exp(float(marks.min()))).quantize(CENT) if len(marks) else opened.price
        return DailyBar(
            symbol=symbol,
            day=session.day,
            open=opened.price,
            high=max(high, opened.price, closed.price),
            low=max(CENT, min(low, opened.price, closed.price)),
            close=closed.price,
            open_at=session.opens,
            close_at=session.last_second,
            simulated=True,
        )

    def _marks(self, symbol: str, start: datetime, end: datetime) -> np.ndarray:
        """Log-prices at the minute marks in [start, end], across the path's UTC days."""
        a = int((start - EPOCH).total_seconds() + 59) // 60
        b = int((end - EPOCH).total_seconds()) // 60
        parts = []
        for day in range(a // MINUTES, b // MINUTES + 1):
            lo, hi = max(a - day * MINUTES, 0), min(b - day * MINUTES, MINUTES - 1)
            if lo <= hi:
                parts.append(self._minutes(symbol, day)[lo : hi + 1])
        return np.concatenate(parts) if parts else np.empty(0)

    # -- prices -----------------------------------------------------------------
    def quote_at(self, symbol: str, at: datetime) -> Quote:
        """The simulated trade at a whole second."""
        at = at.replace(microsecond=0)
        price = Decimal(math.exp(self.log_price(symbol, at))).quantize(CENT)
        return Quote(symbol=symbol, price=max(price, CENT), observed_at=at, simulated=True)

    def log_price(self, symbol: str, at: datetime) -> float:
        """Log-price at a whole second, from the three bridged layers."""
        seconds = int((at - EPOCH).total_seconds())
        day, rest = divmod(seconds, DAY)
        minute, second = divmod(rest, 60)
        path = self._minutes(symbol, day)
        a, b = path[minute], path[minute + 1]
        if second == 0:
            return float(a)
        walk = self._seconds(symbol, day, minute)
        return float(a + walk[second - 1] - (second / 60) * (walk[-1] - (b - a)))

    def profile(self, symbol: str, today: datetime) -> StockProfile:
        """Company name, logo and the 52-week band of the simulated path up to today."""
        day = int((today - EPOCH).total_seconds()) // DAY
        ranges = [self._day_range(symbol, d) for d in range(day - 364, day + 1)]
        lows, highs = [r[0] for r in ranges], [r[1] for r in ranges]
        name = KNOWN[symbol][0] if symbol in KNOWN else f"{symbol} Corp. (simulated)"
        return StockProfile(
            symbol=symbol,
            company_name=name,
            logo_url=logo_path(symbol),
            week52_high=Decimal(math.exp(max(highs))).quantize(CENT, rounding="ROUND_CEILING"),
            week52_low=Decimal(math.exp(min(lows))).quantize(CENT, rounding="ROUND_FLOOR"),
            source=self.name,
            simulated=True,
        )

    # -- the layers -------------------------------------------------------------
    def _rng(self, symbol: str, layer: int, *index: int) -> np.random.Generator:
        return np.random.default_rng([self._seed & 0xFFFFFFFF, symbol_key(symbol), layer, *index])

    def _daily_vol(self, symbol: str) -> float:
        annual = KNOWN[symbol][2] if symbol in KNOWN else 0.2 + (symbol_key(symbol) % 300) / 1000
        return annual / math.sqrt(365)

    def _base_log_price(self, symbol: str) -> float:
        if symbol in KNOWN:
            return math.log(KNOWN[symbol][1])
        # Unknown tickers get a stable price between $10 and $500.
        return math.log(10) + (symbol_key(symbol) % 10_000) / 10_000 * math.log(50)

    def _anchor_block(self, symbol: str, block: int) -> np.ndarray:
        """Daily anchors for days block*BLOCK … (block+1)*BLOCK inclusive."""
        mean = self._base_log_price(symbol)
        start = mean if block == 0 else float(self._anchors(symbol, block - 1)[-1])
        shocks = self._rng(symbol, 0, block).standard_normal(BLOCK) * self._daily_vol(symbol)
        out = np.empty(BLOCK + 1)
        out[0] = start
        for i, shock in enumerate(shocks):
            out[i + 1] = out[i] + REVERSION * (mean - out[i]) + shock
        return out

    def _anchor(self, symbol: str, day: int) -> float:
        block, offset = divmod(max(day, 0), BLOCK)
        return float(self._anchors(symbol, block)[offset])

    def _minute_path(self, symbol: str, day: int) -> np.ndarray:
        """Log-price at each of the day's 1,441 minute marks, bridging two anchors."""
        a, b = self._anchor(symbol, day), self._anchor(symbol, day + 1)
        vol = self._daily_vol(symbol) / math.sqrt(MINUTES)
        walk = np.concatenate(
            ([0.0], np.cumsum(self._rng(symbol, 1, day).standard_normal(MINUTES) * vol))
        )
        return a + walk - np.linspace(0.0, 1.0, MINUTES + 1) * (walk[-1] - (b - a))

    def _second_walk(self, symbol: str, day: int, minute: int) -> np.ndarray:
        """The unbridged walk of one minute's 60 seconds."""
        vol = self._daily_vol(symbol) / math.sqrt(MINUTES * 60)
        return np.cumsum(self._rng(symbol, 2, day, minute).standard_normal(60) * vol)

    def _day_range(self, symbol: str, day: int) -> tuple[float, float]:
        path = self._minutes(symbol, day)
        return float(path.min()), float(path.max())


def _hours(options: SimulatedOptions, _hours_of: object) -> MarketHours:
    return ALWAYS_OPEN if options.hours == "always" else US_EQUITIES


def _build(setup: Setup[SimulatedOptions]) -> SimulatedMarket:
    return SimulatedMarket(seed=setup.options.seed, market=setup.market)


SPEC = ProviderSpec(name=SimulatedMarket.name, options=SimulatedOptions, build=_build, hours=_hours)
