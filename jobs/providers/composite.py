"""A composite provider: prices (and history) from one provider, metadata from another."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.records import Quote, StockProfile
from jobs.budget import Budget, budget_of, paused_for
from jobs.providers.base import Fetched, Provider


class CompositeProvider:
    """E.g. Alpaca's prices with Finnhub's names, logos and 52-week bands."""

    def __init__(self, prices: Provider, metadata: Provider) -> None:
        self.prices = prices
        self.metadata = metadata
        self.name = f"{prices.name}+{metadata.name}"
        self.simulated = prices.simulated
        # The price interval is paced by the price provider; the other paces its own requests.
        self.budget: Budget | None = budget_of(prices)

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

    def ready_in(self) -> float:
        """Seconds before the price provider sends requests again."""
        return paused_for(self.prices)

    def close(self) -> None:
        """Close both providers."""
        try:
            self.prices.close()
        finally:
            self.metadata.close()
