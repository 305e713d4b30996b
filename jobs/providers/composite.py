"""A composite provider: prices (and history) from one provider, metadata from another."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from core.market import MarketHours
from core.options import ENV_PREFIX, ProviderName, ProviderOptions
from core.records import DailyBar, Quote, StockProfile
from jobs.providers.base import Fetched, Provider
from jobs.providers.spec import ProviderSpec, Setup


class CompositeOptions(ProviderOptions, env_prefix=ENV_PREFIX):
    """STOCKSTREAMER_PRICE_PROVIDER and _METADATA_PROVIDER: any provider but the composite."""

    price_provider: ProviderName = "alpaca"
    metadata_provider: ProviderName = "finnhub"


class CompositeProvider(Provider):
    """E.g. Alpaca's prices with Finnhub's names, logos and 52-week bands."""

    def __init__(self, prices: Provider, metadata: Provider) -> None:
        self.prices = prices
        self.metadata = metadata
        self.name = f"{prices.name}+{metadata.name}"
        self.simulated = prices.simulated
        # The price interval is paced by the price provider; the other paces its own requests.
        self.budget = prices.budget
        self.history_step = prices.history_step
        self.history_is_bars = prices.history_is_bars
        self.has_history = prices.has_history

    def fetch_quotes(self, symbols: Sequence[str]) -> Fetched[Quote]:
        """Latest prices from the price provider."""
        return self.prices.fetch_quotes(symbols)

    def fetch_profiles(self, symbols: Sequence[str]) -> Fetched[StockProfile]:
        """Names, logos and 52-week bands from the metadata provider."""
        return self.metadata.fetch_profiles(symbols)

    def history(
        self, symbol: str, start: datetime, end: datetime, step: float = 60.0
    ) -> list[Quote] | None:
        """History from the price provider, so that it joins its live prices."""
        return self.prices.history(symbol, start, end, step)

    def knows(self, symbol: str) -> bool:
        """Whether the price provider has the symbol: its prices are what is polled."""
        return self.prices.knows(symbol)

    def daily_history(self, symbol: str, first: date, last: date) -> list[DailyBar] | None:
        """Daily bars from the price provider too: its closes are the ones the page shows."""
        return self.prices.daily_history(symbol, first, last)

    def ready_in(self) -> float:
        """Seconds before the price provider sends requests again."""
        return self.prices.ready_in()

    def close(self) -> None:
        """Close both providers."""
        try:
            self.prices.close()
        finally:
            self.metadata.close()


def _build(setup: Setup[CompositeOptions]) -> Provider:
    prices, metadata = setup.options.price_provider, setup.options.metadata_provider
    if prices == metadata:
        # One provider, one budget: two instances would each spend it in full.
        return setup.part(prices)
    return CompositeProvider(setup.part(prices), setup.part(metadata))


def _hours(options: CompositeOptions, hours_of: Callable[[str], MarketHours]) -> MarketHours:
    return hours_of(options.price_provider)  # its prices move when its price provider's do


SPEC = ProviderSpec(name="composite", options=CompositeOptions, build=_build, hours=_hours)
