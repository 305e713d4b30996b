"""The provider interface: latest prices for many symbols, and stock metadata."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from core.records import Quote, StockProfile

T = TypeVar("T")


class ProviderError(Exception):
    """A request to a provider failed; `kind` names the failure for counting."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        # Seconds the provider asked us to wait (a 429's Retry-After), when it said.
        self.retry_after = retry_after


@dataclass
class Fetched(Generic[T]):
    """What a provider returned: items per symbol, and a reason for each symbol it could not."""

    items: list[T] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    def merge(self, other: Fetched[T]) -> None:
        """Add another part's items and failures to this one."""
        self.items.extend(other.items)
        self.failures.update(other.failures)


class Provider(Protocol):
    """A market-data source. Implementations never raise for one symbol's failure.

    A provider with a request budget also has `budget` (a jobs.budget.Budget) and
    `ready_in()` (seconds until it sends requests again after a 401/403 or a 429);
    jobs.budget.budget_of and paused_for read them, and treat their absence as "no limit".
    """

    name: str
    simulated: bool

    def fetch_quotes(self, symbols: Sequence[str]) -> Fetched[Quote]:
        """Latest price of each symbol, with the provider's own observation time."""
        ...

    def fetch_profiles(self, symbols: Sequence[str]) -> Fetched[StockProfile]:
        """Company name, logo URL and 52-week band of each symbol."""
        ...

    def history(
        self, symbol: str, start: datetime, end: datetime, step: float
    ) -> list[Quote] | None:
        """Past prices every `step` seconds in [start, end], or None when it has no history."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


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
            return Fetched(failures={symbol: f"{exc.kind}: {exc}" for symbol in part})

    if len(parts) == 1:
        return guarded(parts[0])
    # A pool per call: nothing outlives the run, so shutdown leaves no thread behind.
    with ThreadPoolExecutor(max_workers=min(max_workers, len(parts))) as pool:
        for part_result in pool.map(guarded, parts):
            result.merge(part_result)
    return result


def chunks(symbols: Sequence[str], size: int) -> list[list[str]]:
    """Split a symbol list into lists of at most `size`."""
    return [list(symbols[i : i + size]) for i in range(0, len(symbols), size)]
