"""A provider's descriptor: its name, its settings, its budget, its market hours, how to build it.

Each module in jobs/providers declares one `SPEC`; the registry lists them, the
settings validate their options, and the registry builds the one configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic

from core.market import US_EQUITIES, MarketHours
from core.options import OptionsT, ProviderOptions
from jobs.budget import Budget
from jobs.http import HttpOptions
from jobs.providers.base import Provider


@dataclass(frozen=True)
class Setup(Generic[OptionsT]):
    """What a descriptor's build is handed: its options and what the registry derived for it."""

    options: OptionsT
    http: HttpOptions
    budget: Budget | None
    market: MarketHours
    reload: Callable[[], OptionsT]  # the options read again from the environment and .env
    part: Callable[[str], Provider]  # another provider, by name (a composite's parts)


def trades_us_hours(
    _options: ProviderOptions, _hours_of: Callable[[str], MarketHours]
) -> MarketHours:
    """A live provider's prices move while US equities trade."""
    return US_EQUITIES


@dataclass(frozen=True)
class ProviderSpec(Generic[OptionsT]):
    """Everything the rest of the program knows about one provider."""

    name: str
    options: type[OptionsT]  # its settings, with their own variable prefix
    build: Callable[[Setup[OptionsT]], Provider]
    budget: Callable[[OptionsT], Budget] | None = None  # None: no request limit
    # When its prices move; `hours_of(name)` answers for another provider.
    hours: Callable[[OptionsT, Callable[[str], MarketHours]], MarketHours] = trades_us_hours
