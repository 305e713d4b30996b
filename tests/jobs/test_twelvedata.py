"""TwelveDataProvider against a fake Twelve Data: string numbers, batch shapes, errors in bodies."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from jobs.failures import FailureKind
from jobs.providers.twelvedata import TwelveDataProvider
from tests.fakes.base import json_reply
from tests.fakes.twelvedata_server import API_KEY, FakeTwelveData, error, quote
from tests.jobs.helpers import LAST_PRICES, keyed_on, kinds, serving, texts

THREE = ["AAPL", "MSFT", "GE"]

twelvedata = serving(FakeTwelveData)
# The free 8 requests a minute only where a test says so.
provider_of = keyed_on("twelvedata", TwelveDataProvider, (API_KEY,), rate_limit=100)


def test_three_quotes_from_one_batch_with_numbers_as_strings(twelvedata, provider_of):
    fetched = provider_of().fetch_quotes(THREE)
    assert fetched.failures == {}
    quotes = {q.symbol: q for q in fetched.items}
    assert {s: q.price for s, q in quotes.items()} == {s: LAST_PRICES[s] for s in THREE}
    assert str(quotes["AAPL"].price) == "201.45000"  # the string's digits, not a float's
    assert quotes["MSFT"].observed_at == datetime(2025, 6, 2, 14, 31, tzinfo=timezone.utc)
    (seen,) = twelvedata.seen()
    assert (seen.path, seen.query) == ("/quote", {"symbol": ["AAPL,MSFT,GE"], "interval": ["1min"]})
    assert seen.headers["authorization"] == f"apikey {API_KEY}"
    assert API_KEY not in str(seen.query)


def test_one_symbol_answers_the_quote_object_itself(twelvedata, provider_of):
    (apple,) = provider_of().fetch_quotes(["AAPL"]).items
    assert (apple.symbol, apple.price) == ("AAPL", Decimal("201.45"))
    assert twelvedata.seen()[0].query["symbol"] == ["AAPL"]


def test_an_unknown_symbol_fails_alone_in_a_batch_and_alone(twelvedata, provider_of):
    fetched = provider_of().fetch_quotes(["AAPL", "ZZZZ"])
    assert [q.symbol for q in fetched.items] == ["AAPL"]
    assert kinds(fetched.failures) == {FailureKind.UNKNOWN_SYMBOL}
    assert "not found" in str(fetched.failures["ZZZZ"])
    alone = provider_of().fetch_quotes(["ZZZZ"])
    assert kinds(alone.failures) == {FailureKind.UNKNOWN_SYMBOL} and alone.items == []


def test_profiles_take_name_and_band_from_the_quote_and_the_logo_once(twelvedata, provider_of):
    provider = provider_of()
    fetched = provider.fetch_profiles(["AAPL", "MSFT"])
    assert fetched.failures == {}
    apple = {p.symbol: p for p in fetched.items}["AAPL"]
    assert (apple.company_name, apple.source) == ("Apple Inc.", "twelvedata")
    assert (apple.week52_low, apple.week52_high) == (Decimal("169.21001"), Decimal("260.10001"))
    assert apple.logo_url == "https://api.twelvedata.com/logo/aapl.com"
    assert sorted(r.query["symbol"][0] for r in twelvedata.seen("logo")) == ["AAPL", "MSFT"]
    assert provider.fetch_profiles(["AAPL", "MSFT"]).items == fetched.items
    assert len(twelvedata.seen("logo")) == 2  # logos are asked for once


def test_the_price_pass_after_a_metadata_pass_reuses_its_answer(
    twelvedata, provider_of, monkeypatch
):
    monkeypatch.setattr("jobs.providers.twelvedata.REUSE", 0.3)
    provider = provider_of()
    provider.fetch_profiles(THREE)
    quotes = provider.fetch_quotes(THREE)
    assert sorted(q.symbol for q in quotes.items) == sorted(THREE) and quotes.failures == {}
    assert len(twelvedata.seen("quote")) == 1  # the run's price pass cost no credit
    time.sleep(0.35)
    provider.fetch_quotes(THREE)
    assert len(twelvedata.seen("quote")) == 2


def test_a_failed_logo_still_leaves_the_profile(twelvedata, provider_of):
    del twelvedata.logos["GE"]
    (ge,) = provider_of().fetch_profiles(["GE"]).items
    assert (ge.company_name, ge.logo_url, ge.week52_high) == (
        "GE Aerospace",
        None,
        Decimal("252.85001"),
    )


@pytest.mark.parametrize("http_status", [200, 401])
def test_a_refused_key_is_read_from_the_body_whatever_the_status(
    twelvedata, provider_of, caplog, http_status
):
    caplog.set_level(logging.DEBUG)
    twelvedata.error_status = http_status
    provider = provider_of(keys=("td_wrong_key_123456",), auth_backoff=30)
    fetched = provider.fetch_quotes(THREE)
    assert kinds(fetched.failures) == {FailureKind.AUTH}
    assert len(set(texts(fetched.failures).values())) == 1
    reason = str(fetched.failures["AAPL"])
    assert "twelvedata" in reason and "set STOCKSTREAMER_TWELVEDATA_API_KEY" in reason
    assert provider.ready_in() > 29
    assert kinds(provider.fetch_quotes(THREE).failures) == {FailureKind.AUTH}
    assert len(twelvedata.seen()) == 1
    assert "td_wrong_key_123456" not in caplog.text + reason


def test_a_key_echoed_in_an_error_body_is_redacted(twelvedata, provider_of):
    body = error(400, f"apikey {API_KEY} may not ask for this symbol")
    twelvedata.fail(status=200, body=json_reply(body).body, content_type="application/json")
    fetched = provider_of().fetch_quotes(["AAPL"])
    reason = str(fetched.failures["AAPL"])
    assert API_KEY not in reason and "***" in reason


def test_a_429_in_a_200_body_pauses_until_the_credits_refill(twelvedata, provider_of):
    if 60 - time.time() % 60 < 2:
        time.sleep(2)  # the pause ends at the next whole minute: keep it ahead of the asserts
    body = error(429, "You have run out of API credits for the current minute.")
    twelvedata.fail(status=200, body=json_reply(body).body, content_type="application/json")
    provider = provider_of()
    assert kinds(provider.fetch_quotes(THREE).failures) == {FailureKind.RATE_LIMITED}
    assert 0 < provider.ready_in() <= 60 - time.time() % 60 + 0.5  # the next whole minute
    assert kinds(provider.fetch_quotes(THREE).failures) == {FailureKind.RATE_LIMITED}
    assert len(twelvedata.seen()) == 1


def test_a_spent_day_pauses_until_midnight_utc(twelvedata, provider_of):
    body = error(429, "You have run out of API credits for the day. Upgrade your plan.")
    twelvedata.fail(status=200, body=json_reply(body).body, content_type="application/json")
    provider = provider_of()
    assert kinds(provider.fetch_quotes(THREE).failures) == {FailureKind.RATE_LIMITED}
    midnight = 86_400 - time.time() % 86_400
    assert midnight - 5 < provider.ready_in() < midnight + 1  # two clocks: allow a jitter


def test_a_429_with_retry_after_is_waited_then_succeeds(twelvedata, provider_of):
    twelvedata.fail(status=429, body="{}", headers={"Retry-After": "0.3"}, times=1)
    started = time.monotonic()
    fetched = provider_of().fetch_quotes(THREE)
    assert time.monotonic() - started >= 0.3
    assert (len(fetched.items), fetched.failures) == (3, {})


def test_a_500_is_retried_and_then_succeeds(twelvedata, provider_of):
    twelvedata.fail(status=500, times=2)
    fetched = provider_of().fetch_quotes(THREE)
    assert (len(fetched.items), fetched.failures) == (3, {})
    assert [r.status for r in twelvedata.seen()] == [500, 500, 200]


def test_each_symbol_costs_a_credit_and_no_request_exceeds_the_minute(twelvedata, provider_of):
    for i in range(7):
        symbol = f"T{i}"
        twelvedata.quotes[symbol] = quote(symbol, symbol, "10.5", "9", "11", 1748874600)
    ten = [*THREE, *(f"T{i}" for i in range(7))]
    fetched = provider_of(rate_limit=8, concurrency=1).fetch_quotes(ten)
    assert len(fetched.items) == 8 and len(fetched.failures) == 2
    assert kinds(fetched.failures) == {FailureKind.RATE_LIMITED}
    assert "budget of 8 credits/min is spent" in str(next(iter(fetched.failures.values())))
    assert [len(r.symbols) for r in twelvedata.seen()] == [8]


@pytest.mark.parametrize(
    "fetch, change, problem",
    [
        ("fetch_quotes", {"close": "n/a"}, "close is not a number"),
        ("fetch_quotes", {"timestamp": "soon"}, "timestamp is not epoch seconds"),
        ("fetch_profiles", {"fifty_two_week": "201 - 260"}, "fifty_two_week is not a JSON object"),
    ],
)
def test_a_malformed_field_fails_its_symbol_only(twelvedata, provider_of, fetch, change, problem):
    twelvedata.quotes["MSFT"] = {**twelvedata.quotes["MSFT"], **change}
    fetched = getattr(provider_of(), fetch)(["AAPL", "MSFT"])
    assert [item.symbol for item in fetched.items] == ["AAPL"]
    assert texts(fetched.failures) == {"MSFT": f"bad_body: {problem}"}


def test_a_body_that_is_not_json_fails_the_batch(twelvedata, provider_of):
    twelvedata.fail(status=200, body='{"AAPL": {"close": "201.4', content_type="application/json")
    fetched = provider_of().fetch_quotes(THREE)
    assert fetched.items == [] and kinds(fetched.failures) == {FailureKind.BAD_JSON}


def test_the_previous_close_comes_with_the_quote(twelvedata, provider_of):
    twelvedata.quotes["GE"]["previous_close"] = None
    quotes = {q.symbol: q for q in provider_of().fetch_quotes(THREE).items}
    assert str(quotes["AAPL"].previous_close) == "200.25000"
    assert quotes["MSFT"].previous_close == Decimal("460.36")
    assert quotes["GE"].price == LAST_PRICES["GE"] and quotes["GE"].previous_close is None
