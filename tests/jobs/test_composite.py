"""The composite provider: Alpaca's prices with Finnhub's metadata, each from its own fake."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.settings import SettingsError
from jobs.poll import Poller
from jobs.providers.composite import CompositeProvider
from jobs.providers.finnhub import FinnhubProvider
from jobs.providers.registry import build_provider
from tests.db.helpers import count_ticks, get_stock
from tests.fakes.alpaca_server import KEY_ID, SECRET_KEY, FakeAlpaca, bar
from tests.fakes.finnhub_server import TOKEN, FakeFinnhub
from tests.jobs.helpers import settings, texts

NOW = datetime(2025, 6, 2, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def fakes():
    """A fake Alpaca and a fake Finnhub."""
    with FakeAlpaca() as alpaca, FakeFinnhub() as finnhub:
        yield alpaca, finnhub


def settings_for(alpaca, finnhub, **overrides):
    values = dict(
        symbols="AAPL,MSFT",
        provider="composite",
        price_provider="alpaca",
        metadata_provider="finnhub",
        alpaca_base_url=alpaca.url(),
        alpaca_key_id=KEY_ID,
        alpaca_secret_key=SECRET_KEY,
        finnhub_base_url=finnhub.url(),
        finnhub_token=TOKEN,
        retry_backoff=0.01,
        http_timeout=2,
    )
    return settings(**{**values, **overrides})


@pytest.fixture
def composite(fakes):
    """The composite the settings build, closed after the test."""
    provider = build_provider(settings_for(*fakes))
    yield provider
    provider.close()


def test_prices_come_from_one_fake_and_metadata_from_the_other(fakes, composite):
    alpaca, finnhub = fakes
    assert isinstance(composite, CompositeProvider) and composite.name == "alpaca+finnhub"
    assert composite.budget.provider == "alpaca" and not composite.simulated
    quotes = composite.fetch_quotes(["AAPL", "MSFT"])
    assert {q.symbol: q.price for q in quotes.items} == {
        "AAPL": Decimal("201.45"),
        "MSFT": Decimal("461.97"),
    }
    assert [r.route for r in alpaca.seen()] == ["snapshots"] and finnhub.seen() == []
    profiles = composite.fetch_profiles(["AAPL", "MSFT"])
    assert {p.symbol: (p.company_name, p.source) for p in profiles.items} == {
        "AAPL": ("Apple Inc", "finnhub"),
        "MSFT": ("Microsoft Corp", "finnhub"),
    }
    assert sorted(r.route for r in finnhub.seen()) == ["metric", "metric", "profile2", "profile2"]
    assert [r.route for r in alpaca.seen()] == ["snapshots"]  # no daily bars asked of Alpaca


def test_history_comes_from_the_price_provider(fakes, composite):
    alpaca, _ = fakes
    alpaca.minutes["AAPL"] = [bar("2025-06-02T14:00:00Z", 200.5, 201, 200, 200.7)]
    (point,) = composite.history("AAPL", NOW - timedelta(days=7), NOW, 60)
    assert (point.price, point.observed_at) == (Decimal("200.5"), NOW - timedelta(hours=1))


def test_only_the_price_provider_pauses_price_polls(fakes):
    alpaca, finnhub = fakes
    provider = build_provider(settings_for(alpaca, finnhub, finnhub_token="fh_wrong_0000"))
    try:
        assert set(texts(provider.fetch_profiles(["AAPL"]).failures).values()) == {
            "auth: finnhub refused the key (GET /stock/profile2 answered 401: "
            '\'{"error": "Invalid API key"}\'): set STOCKSTREAMER_FINNHUB_TOKEN; '
            "trying again every 300s"
        }
        assert provider.metadata.ready_in() > 0 and provider.ready_in() == 0
        assert len(provider.fetch_quotes(["AAPL"]).items) == 1
    finally:
        provider.close()


def test_a_poll_stores_alpaca_prices_and_finnhub_names(fakes, sessions):
    alpaca, finnhub = fakes
    configured = settings_for(alpaca, finnhub)
    provider = build_provider(configured)
    try:
        poller = Poller(configured, provider, sessions)
        poller.sync_watchlist()
        prices, metadata = poller.poll_prices(), poller.poll_metadata()
    finally:
        provider.close()
    assert (prices.written, prices.failed, metadata.written, metadata.failed) == (2, {}, 2, {})
    with sessions() as session:
        apple = get_stock(session, "AAPL")
        assert (apple.company_name, apple.week52_high, apple.source) == (
            "Apple Inc",
            Decimal("260.1"),
            "finnhub",
        )
        assert apple.logo_url.endswith("AAPL.png") and count_ticks(session) == 2


def test_the_same_provider_for_both_is_one_provider_with_one_budget(fakes):
    alpaca, finnhub = fakes
    provider = build_provider(
        settings_for(alpaca, finnhub, price_provider="finnhub", metadata_provider="FinnHub")
    )
    try:
        assert isinstance(provider, FinnhubProvider)
    finally:
        provider.close()


@pytest.mark.parametrize("variable", ["price_provider", "metadata_provider"])
def test_a_composite_cannot_contain_itself(variable):
    with pytest.raises(SettingsError) as caught:
        settings(provider="composite", **{variable: "composite"})
    assert str(caught.value).startswith(f"invalid setting STOCKSTREAMER_{variable.upper()}: ")
    assert "unknown provider 'composite'" in str(caught.value)
