"""Picks and configures the provider named by the settings."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import SecretStr

from core.market import ALWAYS_OPEN, US_EQUITIES, MarketHours
from core.settings import DEFAULT_BASE_URLS, Settings, SettingsError, load_settings
from jobs.http import RetryPolicy
from jobs.providers.base import Provider
from jobs.providers.keyed import Keys


def retry_policy(settings: Settings) -> RetryPolicy:
    """The HTTP retry policy the settings ask for."""
    return RetryPolicy(
        attempts=settings.retry_attempts,
        backoff=settings.retry_backoff,
        max_delay=settings.retry_max_delay,
    )


def build_provider(settings: Settings) -> Provider:
    """The provider named by STOCKSTREAMER_PROVIDER, configured from the settings."""
    if settings.provider != "composite":
        return _build(settings.provider, settings)
    if settings.price_provider == settings.metadata_provider:
        # One provider, one budget: two instances would each spend it in full.
        return _build(settings.price_provider, settings)
    from jobs.providers.composite import CompositeProvider

    return CompositeProvider(
        _build(settings.price_provider, settings), _build(settings.metadata_provider, settings)
    )


def _build(name: str, settings: Settings) -> Provider:
    common = dict(
        timeout=settings.http_timeout,
        retry=retry_policy(settings),
        concurrency=settings.fetch_concurrency,
    )
    keyed = dict(common, auth_backoff=settings.auth_backoff)
    if name == "iex":
        from jobs.providers.iex import IEXProvider

        return IEXProvider(
            settings.provider_base_url or DEFAULT_BASE_URLS["iex"],
            token=_plain(settings.provider_token),
            **common,
        )
    if name == "alpaca":
        from jobs.providers.alpaca import AlpacaProvider

        def alpaca_keys(s: Settings) -> Keys:
            return (_plain(s.alpaca_key_id), _plain(s.alpaca_secret_key))

        key_id, secret_key = alpaca_keys(settings)
        return AlpacaProvider(
            settings.alpaca_base_url or DEFAULT_BASE_URLS["alpaca"],
            key_id=key_id,
            secret_key=secret_key,
            rate_limit=settings.alpaca_rate_limit,
            reload=_reloader(settings, alpaca_keys),
            **keyed,
        )
    if name == "finnhub":
        from jobs.providers.finnhub import FinnhubProvider

        return FinnhubProvider(
            settings.finnhub_base_url or DEFAULT_BASE_URLS["finnhub"],
            token=_plain(settings.finnhub_token),
            rate_limit=settings.finnhub_rate_limit,
            reload=_reloader(settings, lambda s: (_plain(s.finnhub_token),)),
            **keyed,
        )
    if name == "twelvedata":
        from jobs.providers.twelvedata import TwelveDataProvider

        return TwelveDataProvider(
            settings.twelvedata_base_url or DEFAULT_BASE_URLS["twelvedata"],
            api_key=_plain(settings.twelvedata_api_key),
            rate_limit=settings.twelvedata_rate_limit,
            daily_limit=settings.twelvedata_daily_limit,
            reload=_reloader(settings, lambda s: (_plain(s.twelvedata_api_key),)),
            **keyed,
        )
    from jobs.providers.simulated import SimulatedMarket

    return SimulatedMarket(seed=settings.simulated_seed, market=market_hours(settings))


def market_hours(settings: Settings) -> MarketHours:
    """When the configured prices move: around the clock for the default simulated market."""
    prices = settings.price_provider if settings.provider == "composite" else settings.provider
    if prices == "simulated" and settings.simulated_hours == "always":
        return ALWAYS_OPEN
    return US_EQUITIES


def _plain(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def _reloader(settings: Settings, keys: Callable[[Settings], Keys]) -> Callable[[], Keys]:
    """Keys re-read from the environment and .env, so a fixed key needs no restart."""

    def reload() -> Keys:
        try:
            return keys(load_settings())
        except SettingsError:
            return keys(settings)  # a half-edited .env: keep what we have

    return reload
