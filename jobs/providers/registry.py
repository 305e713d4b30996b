"""Every provider's descriptor, and the provider (and market hours) the settings name."""

from __future__ import annotations

from core.market import MarketHours
from core.options import reread
from core.settings import Settings
from jobs.http import HttpOptions
from jobs.providers import alpaca, composite, finnhub, iex, simulated, twelvedata
from jobs.providers.base import Provider
from jobs.providers.spec import ProviderSpec, Setup

# The order of the "choose one of" list in a settings error.
PROVIDERS: tuple[ProviderSpec, ...] = (
    simulated.SPEC,
    iex.SPEC,
    alpaca.SPEC,
    finnhub.SPEC,
    twelvedata.SPEC,
    composite.SPEC,
)


def build_provider(settings: Settings, name: str | None = None) -> Provider:
    """The provider named by STOCKSTREAMER_PROVIDER (or `name`), configured from the settings."""
    spec = _spec(name or settings.provider)
    options = settings.options(spec.options)
    return spec.build(
        Setup(
            options=options,
            http=HttpOptions.from_settings(settings),
            budget=spec.budget(options) if spec.budget is not None else None,
            market=market_hours(settings, spec.name),
            reload=lambda: reread(options),
            part=lambda part: build_provider(settings, part),
        )
    )


def market_hours(settings: Settings, name: str | None = None) -> MarketHours:
    """When the configured prices move: around the clock for the default simulated market."""
    spec = _spec(name or settings.provider)
    return spec.hours(settings.options(spec.options), lambda part: market_hours(settings, part))


def _spec(name: str) -> ProviderSpec:
    for spec in PROVIDERS:
        if spec.name == name:
            return spec
    raise LookupError(f"no provider {name!r}: the settings were loaded without it")
