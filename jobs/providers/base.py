"""The provider interface: latest prices for many symbols, and stock metadata."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, Protocol, TypeVar

from core.records import DailyBar, Quote, StockProfile
from jobs.budget import Budget
from jobs.failures import Failure, FailureKind, ProviderError

T = TypeVar("T")


@dataclass
class Fetched(Generic[T]):
    """What a provider returned: items per symbol, and a failure for each symbol it could not."""

    items: list[T] = field(default_factory=list)
    failures: dict[str, Failure] = field(default_factory=dict)

    def merge(self, other: Fetched[T]) -> None:
        """Add another part's items and failures to this one."""
        self.items.extend(other.items)
        self.failures.update(other.failures)

    def fail(self, symbols: Sequence[str], error: ProviderError) -> Fetched[T]:
        """Record the error as the failure of each of these symbols; return self."""
        self.failures.update((symbol, error.failure(symbol)) for symbol in symbols)
        return self


class Provider(Protocol):
    """A market-data source. Implementations never raise for one symbol's failure.

    Providers subclass it to inherit the defaults: no budget, always ready, no
    history (intraday or daily), nothing to close.
    """

    name: str
    simulated: bool = False
    # The request budget that paces the price interval; None for one without limits.
    budget: Budget | None = None
    # The finest step, in seconds, of the history it gives (a gap is filled at it).
    history_step: float = 60.0
    # Whether its history points are bars' closes (said on the chart) or exact ticks.
    history_is_bars: bool = True

    def fetch_quotes(self, symbols: Sequence[str]) -> Fetched[Quote]:
        """Latest price of each symbol, with the provider's own observation time."""
        ...

    def fetch_profiles(self, symbols: Sequence[str]) -> Fetched[StockProfile]:
        """Company name, logo URL and 52-week band of each symbol."""
        ...

    def history(
        self, symbol: str, start: datetime, end: datetime, step: float = 60.0
    ) -> list[Quote] | None:
        """Past prices every `step` seconds in [start, end], or None when it has no history."""
        return None

    # Whether history() gives past prices: without it a stock added now starts its history now.
    has_history: bool = False

    def knows(self, symbol: str) -> bool:
        """Whether the provider has the symbol (an add asks); ProviderError when it cannot say.

        Each provider asks the cheapest route that answers for an unknown symbol.
        """
        ...

    def daily_history(self, symbol: str, first: date, last: date) -> list[DailyBar] | None:
        """Each trading day's bar with its New York date in [first, last], or None without any."""
        return None

    def ready_in(self) -> float:
        """Seconds before requests are sent again after a refused key or a 429; 0 when ready."""
        return 0.0

    def close(self) -> None:
        """Release connections."""


def fetch_parts(
    parts: Sequence[Sequence[str]],
    fetch: Callable[[Sequence[str]], Fetched[T]],
    max_workers: int,
) -> Fetched[T]:
    """Run `fetch` on each part of the symbols in parallel; a failed part fails its symbols only."""
    result: Fetched[T] = Fetched()
    if not parts:
        return result

    def guarded(part: Sequence[str]) -> Fetched[T]:
        try:
            return fetch(part)
        except ProviderError as exc:
            return Fetched().fail(part, exc)

    if len(parts) == 1:
        return guarded(parts[0])
    # A pool per call: nothing outlives the run, so shutdown leaves no thread behind.
    with ThreadPoolExecutor(max_workers=min(max_workers, len(parts))) as pool:
        for part_result in pool.map(guarded, parts):
            result.merge(part_result)
    return result


def says_unknown(error: ProviderError | Failure) -> bool:
    """Whether a failure means "no such symbol" rather than "could not ask"."""
    not_found = error.kind is FailureKind.HTTP_4XX and error.status == 404
    return error.kind is FailureKind.UNKNOWN_SYMBOL or not_found


def answered(ask: Callable[[], object]) -> bool:
    """True when `ask` succeeds, False when it fails for an unknown symbol; other errors raise."""
    try:
        ask()
    except ProviderError as exc:
        if says_unknown(exc):
            return False
        raise
    return True


def chunks(symbols: Sequence[str], size: int) -> list[list[str]]:
    """Split a symbol list into lists of at most `size`."""
    return [list(symbols[i : i + size]) for i in range(0, len(symbols), size)]
