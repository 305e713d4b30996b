"""Picks and configures the provider named by the settings."""

from __future__ import annotations

from db.settings import Settings
from jobs.http import RetryPolicy
from jobs.providers.base import Provider


def retry_policy(settings: Settings) -> RetryPolicy:
    """The HTTP retry policy the settings ask for."""
    return RetryPolicy(
        attempts=settings.retry_attempts,
        backoff=settings.retry_backoff,
        max_delay=settings.retry_max_delay,
    )


def build_provider(settings: Settings) -> Provider:
    """The provider named by STOCKSTREAMER_PROVIDER, configured from the settings."""
    if settings.provider == "iex":
        from jobs.providers.iex import IEXProvider

        assert settings.provider_base_url is not None
        token = settings.provider_token.get_secret_value() if settings.provider_token else None
        return IEXProvider(
            settings.provider_base_url,
            token=token,
            timeout=settings.http_timeout,
            retry=retry_policy(settings),
            concurrency=settings.fetch_concurrency,
        )
    from jobs.providers.simulated import SimulatedMarket

    return SimulatedMarket(seed=settings.simulated_seed, hours=settings.simulated_hours)
