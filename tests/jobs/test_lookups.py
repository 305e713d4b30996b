"""Each provider's `knows`: the lookup a watchlist add makes, against the fake HTTP servers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from jobs.failures import FailureKind, ProviderError
from jobs.providers.alpaca import AlpacaProvider
from jobs.providers.composite import CompositeProvider
from jobs.providers.finnhub import FinnhubProvider
from jobs.providers.iex import IEXProvider
from jobs.providers.simulated import SimulatedMarket
from jobs.providers.twelvedata import TwelveDataProvider
from tests.fakes.alpaca_server import KEY_ID, SECRET_KEY, FakeAlpaca
from tests.fakes.finnhub_server import TOKEN, FakeFinnhub
from tests.fakes.iex_server import FakeIEX
from tests.fakes.twelvedata_server import API_KEY, FakeTwelveData
from tests.jobs.helpers import FAST_HTTP, keyed_on, made_on, serving

NOW = datetime(2025, 6, 2, 15, 0, tzinfo=timezone.utc)

iex_server = serving(FakeIEX)
alpaca = serving(FakeAlpaca)
finnhub = serving(FakeFinnhub)
twelvedata = serving(FakeTwelveData)
iex_of = made_on("iex_server", lambda fake, **kw: IEXProvider(fake.url("stable"), **kw))
alpaca_of = keyed_on("alpaca", AlpacaProvider, (KEY_ID, SECRET_KEY), clock=lambda: NOW)
finnhub_of = keyed_on("finnhub", FinnhubProvider, (TOKEN,))
twelvedata_of = keyed_on("twelvedata", TwelveDataProvider, (API_KEY,), rate_limit=100)


def test_the_simulated_market_knows_the_tickers_of_its_catalog():
    market = SimulatedMarket()
    assert market.knows("AAPL") and market.knows("MSFT") and market.knows("BRK.B")
    assert not market.knows("ZZZZ")
    assert market.has_history


def test_iex_asks_the_quote_route_and_unknown_symbol_means_no(iex_server, iex_of):
    provider = iex_of(http=FAST_HTTP)
    assert provider.knows("AAPL")
    assert not provider.knows("ZZZZ")  # 404 "Unknown symbol"
    assert [(r.route, r.symbols) for r in iex_server.seen()] == [
        ("quote", ["AAPL"]),
        ("quote", ["ZZZZ"]),
    ]
    iex_server.fail(status=503, body="down")
    with pytest.raises(ProviderError) as refused:
        provider.knows("MSFT")  # cannot say: not a "no"
    assert refused.value.kind is FailureKind.HTTP_5XX
    assert not provider.has_history


def test_alpaca_asks_one_snapshot_and_a_symbol_left_out_is_unknown(alpaca, alpaca_of):
    provider = alpaca_of()
    assert provider.knows("AAPL") and not provider.knows("ZZZZ")
    alpaca.wrapped = True  # a mirror's {"snapshots": {...}}
    assert provider.knows("MSFT")
    assert [r.symbols for r in alpaca.seen("snapshots")] == [["AAPL"], ["ZZZZ"], ["MSFT"]]
    assert provider.has_history
    alpaca.secret_key = "another"
    with pytest.raises(ProviderError) as refused:
        provider.knows("GE")
    assert refused.value.kind is FailureKind.AUTH


def test_finnhub_asks_the_quote_and_all_zeros_is_unknown(finnhub, finnhub_of):
    provider = finnhub_of()
    assert provider.knows("NVDA") and not provider.knows("ZZZZ")
    assert {r.route for r in finnhub.seen()} == {"quote"}
    finnhub.fail(status=500, body="oops")
    with pytest.raises(ProviderError) as refused:
        provider.knows("AAPL")
    assert refused.value.kind is FailureKind.HTTP_5XX
    assert not provider.has_history


@pytest.mark.parametrize("status", [200, 404])
def test_twelvedata_asks_one_quote_and_symbol_not_found_is_unknown(
    twelvedata, twelvedata_of, status
):
    twelvedata.error_status = status  # the error object, with 200 or with its own status
    provider = twelvedata_of()
    assert provider.knows("MSFT") and not provider.knows("ZZZZ")
    assert [r.symbols for r in twelvedata.seen("quote")] == [["MSFT"], ["ZZZZ"]]
    assert not provider.has_history


def test_twelvedata_that_refuses_the_key_cannot_say(twelvedata, twelvedata_of):
    twelvedata.api_key = "another"
    with pytest.raises(ProviderError) as refused:
        twelvedata_of().knows("AAPL")
    assert refused.value.kind is FailureKind.AUTH


def test_a_composite_asks_its_price_provider_whose_prices_are_polled(
    alpaca, finnhub, alpaca_of, finnhub_of
):
    composite = CompositeProvider(alpaca_of(), finnhub_of())
    assert composite.knows("AAPL") and not composite.knows("ZZZZ")
    assert finnhub.seen() == [] and len(alpaca.seen("snapshots")) == 2
    assert composite.has_history  # Alpaca's minute bars
