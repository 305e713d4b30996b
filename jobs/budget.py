"""Request budgets: what a provider allows per minute (and day), and pacing that stays inside it."""

from __future__ import annotations

import bisect
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from core.options import env_name
from core.settings import Settings
from jobs.failures import FailureKind, ProviderError

log = logging.getLogger(__name__)

T = TypeVar("T")

WINDOW = 60.0  # seconds: budgets are counted per minute
DAY = 86_400.0
# Price polls may spend this share of a budget; the rest is left for metadata and history.
HEADROOM = 0.9


@dataclass(frozen=True)
class Budget:
    """A provider's request budget, and how many symbols one request may carry."""

    provider: str
    per_minute: int
    symbols_per_request: int = 1
    per_day: int | None = None
    # Twelve Data bills each symbol of a batch as one credit, not the request as one call.
    billed_per_symbol: bool = False
    unit: str = "requests"
    setting: str | None = None  # the variable that raises per_minute (a paid plan)

    def cost(self, symbols: int) -> int:
        """Requests (or credits) that one price poll of this many symbols spends."""
        if self.billed_per_symbol:
            return symbols
        return math.ceil(symbols / self.symbols_per_request)

    def min_interval(self, symbols: int) -> float:
        """The shortest price interval that keeps polls within HEADROOM of every limit."""
        cost = self.cost(symbols)
        seconds = WINDOW * cost / (self.per_minute * HEADROOM)
        if self.per_day:
            seconds = max(seconds, DAY * cost / (self.per_day * HEADROOM))
        return seconds


def fit_price_interval(budget: Budget | None, symbols: int, wanted: float) -> float:
    """The price interval: `wanted`, or longer (said in one log line) to fit the budget."""
    if budget is None:
        return wanted
    needed = math.ceil(budget.min_interval(symbols) * 10) / 10  # tenths read better in logs
    if needed <= wanted:
        return wanted
    cost = budget.cost(symbols)
    limits, spend = f"{budget.per_minute} {budget.unit}/min", f"{WINDOW * cost / wanted:.0f}/min"
    if budget.per_day:
        limits, spend = (
            f"{limits} and {budget.per_day}/day",
            f"{spend} and {DAY * cost / wanted:.0f}/day",
        )
    log.warning(
        "%s allows %s, but %d symbols every %gs would spend %s: polling prices every %gs "
        "instead (a tenth of the budget is kept for metadata); watch fewer %s, "
        "set a longer %s, or raise %s on a paid plan",
        budget.provider,
        limits,
        symbols,
        wanted,
        spend,
        needed,
        env_name(Settings, "symbols"),
        env_name(Settings, "price_interval"),
        budget.setting or "the provider's limit",
    )
    return needed


class RateLimiter:
    """At most `per_minute` requests (or credits) in any 60 s window, shared by all threads."""

    def __init__(
        self,
        budget: Budget,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        # Start times of the requests in the window, sorted; some may be reserved ahead.
        self._granted: list[float] = []
        self._lock = threading.Lock()

    def acquire(self, cost: int, max_wait: float) -> None:
        """Wait for room for `cost`; fail as rate_limited rather than wait more than max_wait."""
        budget = self._budget
        if cost > budget.per_minute:
            raise ProviderError(
                FailureKind.RATE_LIMITED,
                f"one request costs {cost} {budget.unit}, more than {budget.provider} "
                f"allows in a minute ({budget.per_minute})",
            )
        with self._lock:
            now = self._clock()
            del self._granted[: bisect.bisect_right(self._granted, now - WINDOW)]
            excess = len(self._granted) + cost - budget.per_minute
            at = now if excess <= 0 else max(now, self._granted[excess - 1] + WINDOW)
            if at - now > max_wait:
                # No number in the text: every symbol refused alike logs as one line.
                raise ProviderError(
                    FailureKind.RATE_LIMITED,
                    f"{budget.provider}'s budget of {budget.per_minute} {budget.unit}/min "
                    "is spent for now",
                    retry_after=at - now,
                )
            for _ in range(cost):
                bisect.insort(self._granted, at)
        if at > now:
            self._sleep(at - now)


class Rotation:
    """Starts each poll's requests one part further on, so a spent budget starves no symbol."""

    def __init__(self) -> None:
        self._turn = 0
        self._lock = threading.Lock()

    def order(self, parts: Sequence[T]) -> list[T]:
        """The parts, rotated by one more place than last time."""
        if not parts:
            return []
        with self._lock:
            start = self._turn % len(parts)
            self._turn += 1
        return [*parts[start:], *parts[:start]]
