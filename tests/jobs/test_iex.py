"""IEXProvider against a fake IEX server: batching, fallbacks, faults, a poll to the database."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from jobs.failures import FailureKind, RejectionKind
from jobs.http import RetryPolicy
from jobs.poll import Poller
from jobs.providers.iex import IEXProvider
from jobs.providers.registry import build_provider
from tests.db.helpers import count_ticks, ticks_between
from tests.fakes.iex_server import T0_MS, FakeIEX
from tests.jobs.helpers import (
    FAST,
    FAST_HTTP,
    iex_settings,
    kinds,
    made_on,
    serving,
    texts,
)

TOKEN = "sk_live_4f2b9c1d8e7a6b5c"
SIX = ["AAPL", "MSFT", "GE", "AMZN", "NVDA", "INTC"]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MANY = [f"T{i:03d}" for i in range(250)]


def on_fake(fake: FakeIEX, prefix: str = "1.0", base_url: str | None = None, **kw) -> IEXProvider:
    """An IEXProvider on the fake's legacy (or `prefix`) layout, or on another base URL."""
    return IEXProvider(base_url or fake.url(prefix), **kw)


iex_server = serving(FakeIEX)
provider_of = made_on("iex_server", on_fake, http=FAST_HTTP)


@pytest.mark.parametrize("prefix", ["1.0", "stable"])
def test_six_prices_come_from_one_batch_request(iex_server, provider_of, prefix):
    fetched = provider_of(prefix).fetch_quotes(SIX)
    assert fetched.failures == {}
    quotes = {q.symbol: q for q in fetched.items}
    assert sorted(quotes) == sorted(SIX)
    assert str(quotes["AAPL"].price) == "174.97" and quotes["AAPL"].price == Decimal("174.97")
    assert quotes["AAPL"].observed_at == datetime(
        2017, 11, 24, 21, 0, 0, 123000, tzinfo=timezone.utc
    )
    for symbol, quote in quotes.items():
        ms = iex_server.quotes[symbol]["latestUpdate"]
        assert quote.observed_at == EPOCH + timedelta(milliseconds=ms)
        assert quote.observed_at.utcoffset() == timedelta(0) and not quote.simulated
    (seen,) = iex_server.seen()
    assert (seen.route, seen.prefix, seen.status) == ("batch", prefix, 200)
    assert seen.query == {"symbols": [",".join(SIX)], "types": ["quote"]}


def test_250_symbols_take_three_requests_of_at_most_100(iex_server, provider_of):
    for i, symbol in enumerate(MANY):
        iex_server.add(symbol, price=10 + i / 100)
    fetched = provider_of().fetch_quotes(MANY)
    assert fetched.failures == {}
    assert sorted(q.symbol for q in fetched.items) == MANY
    assert {q.symbol: q.price for q in fetched.items}["T249"] == Decimal("12.49")
    batches = iex_server.seen("batch")
    assert sorted(len(r.symbols) for r in batches) == [50, 100, 100]
    assert sorted(s for r in batches for s in r.symbols) == MANY
    assert len(iex_server.seen()) == 3


def test_the_token_goes_on_every_request_and_into_no_reason(iex_server, provider_of):
    iex_server.fail(route="batch", status=404, body="Unknown symbol")  # forces per-symbol routes
    iex_server.fail(route="quote", symbols=frozenset({"GE"}), status=500)
    fetched = provider_of("stable", token=TOKEN).fetch_quotes([*SIX, "ZZZZ"])
    assert set(fetched.failures) == {"GE", "ZZZZ"}
    assert {r.route for r in iex_server.seen()} == {"batch", "quote"}
    assert all(r.query.get("token") == [TOKEN] for r in iex_server.seen())
    assert not any(TOKEN in reason for reason in texts(fetched.failures).values())


def test_no_token_is_sent_when_none_is_set(iex_server, provider_of):
    iex_server.fail(route="batch", status=400, body="Bad Request", times=1)
    assert len(provider_of().fetch_profiles(SIX).items) == 6
    assert len(iex_server.seen()) == 1 + 2 * 6  # one batch, then quote and logo per symbol
    assert all("token" not in r.query for r in iex_server.seen())


def test_an_error_page_echoing_the_url_does_not_leak_the_token(iex_server, provider_of):
    iex_server.fail(status=403, body=f"Forbidden: GET /stable/stock/AAPL/quote?token={TOKEN}")
    fetched = provider_of("stable", token=TOKEN).fetch_quotes(["AAPL"])
    assert kinds(fetched.failures) == {FailureKind.HTTP_4XX}
    assert {failure.status for failure in fetched.failures.values()} == {403}
    assert not any(TOKEN in reason for reason in texts(fetched.failures).values())


def test_a_500_is_retried_and_then_the_batch_succeeds(iex_server, provider_of):
    iex_server.fail(route="batch", status=500, times=1)
    fetched = provider_of().fetch_quotes(SIX)
    assert (len(fetched.items), fetched.failures) == (6, {})
    assert [r.status for r in iex_server.seen()] == [500, 200]


def test_a_5xx_forever_costs_exactly_attempts_requests(iex_server, provider_of):
    iex_server.fail(status=503)
    fetched = provider_of().fetch_quotes(SIX)
    assert (fetched.items, sorted(fetched.failures)) == ([], sorted(SIX))
    assert kinds(fetched.failures) == {FailureKind.HTTP_5XX}
    assert len(iex_server.seen()) == FAST.attempts


def test_a_failing_batch_fails_only_its_own_symbols(iex_server, provider_of):
    for symbol in MANY:
        iex_server.add(symbol)
    middle = frozenset(MANY[100:200])
    iex_server.fail(status=500, symbols=middle)
    fetched = provider_of().fetch_quotes(MANY)
    assert set(fetched.failures) == middle
    assert kinds(fetched.failures) == {FailureKind.HTTP_5XX}
    assert sorted(q.symbol for q in fetched.items) == MANY[:100] + MANY[200:]
    batches = iex_server.seen("batch")
    assert sum(1 for r in batches if middle & set(r.symbols)) == FAST.attempts
    assert sum(1 for r in batches if not middle & set(r.symbols)) == 2


def test_retry_after_is_waited_then_the_batch_succeeds(iex_server, provider_of):
    iex_server.fail(status=429, headers={"Retry-After": "1"}, times=1)
    started = time.monotonic()
    fetched = provider_of().fetch_quotes(SIX)
    assert time.monotonic() - started >= 0.95
    assert (len(fetched.items), fetched.failures) == (6, {})


def test_retry_after_beyond_the_cap_fails_the_batch_at_once(iex_server, provider_of):
    iex_server.fail(status=429, headers={"Retry-After": "2"})
    # A small cap, so that a client ignoring it fails this test in seconds, not minutes.
    retry = RetryPolicy(attempts=3, backoff=0.01, max_delay=1.0)
    fetched = provider_of(http=replace(FAST_HTTP, retry=retry)).fetch_quotes(SIX)
    assert sorted(fetched.failures) == sorted(SIX) and kinds(fetched.failures) == {
        FailureKind.RATE_LIMITED
    }
    assert len(iex_server.seen()) == 1


def test_a_slow_upstream_times_out_without_falling_back(iex_server, provider_of):
    iex_server.fail(status=200, body="{}", content_type="application/json", delay=1.0)
    http = replace(FAST_HTTP, timeout=0.2, retry=RetryPolicy(attempts=2, backoff=0.01))
    provider = provider_of(http=http, token=TOKEN)
    started = time.monotonic()
    fetched = provider.fetch_quotes(SIX)
    assert time.monotonic() - started < 0.9
    assert sorted(fetched.failures) == sorted(SIX) and kinds(fetched.failures) == {
        FailureKind.TIMEOUT
    }
    assert [r.route for r in iex_server.seen()] == ["batch", "batch"]
    assert not any(TOKEN in reason for reason in texts(fetched.failures).values())


def test_a_refused_connection_fails_every_symbol_with_connect(provider_of):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetched = provider_of(base_url=f"http://127.0.0.1:{port}/stable", token=TOKEN).fetch_quotes(SIX)
    assert sorted(fetched.failures) == sorted(SIX) and kinds(fetched.failures) == {
        FailureKind.CONNECT
    }
    assert not any(TOKEN in reason for reason in texts(fetched.failures).values())


@pytest.mark.parametrize(
    "status, body",
    [
        (200, '{"AAPL": {"quote": {"latestPrice": 174.97'),
        (200, "<html><body>Temporarily unavailable</body></html>"),
        (400, "Bad Request"),
    ],
)
def test_a_bad_batch_answer_falls_back_to_per_symbol_routes(iex_server, provider_of, status, body):
    iex_server.fail(route="batch", symbols=frozenset({"NVDA"}), status=status, body=body)
    fetched = provider_of().fetch_quotes(SIX)
    assert (sorted(q.symbol for q in fetched.items), fetched.failures) == (sorted(SIX), {})
    assert sorted(r.symbols[0] for r in iex_server.seen("quote")) == sorted(SIX)


def test_malformed_json_for_one_symbol_is_bad_json(iex_server, provider_of):
    iex_server.fail(status=200, body="{'AAPL': ", content_type="application/json")
    fetched = provider_of().fetch_quotes(["AAPL"])
    assert kinds(fetched.failures) == {FailureKind.BAD_JSON} and fetched.items == []


def test_a_symbol_left_out_of_the_batch_fails_alone(iex_server, provider_of):
    iex_server.omit_from_batch.add("GE")
    fetched = provider_of().fetch_quotes([*SIX, "ZZZZ"])
    assert texts(fetched.failures) == {
        s: "unknown_symbol: not in the batch answer" for s in ("GE", "ZZZZ")
    }
    assert sorted(q.symbol for q in fetched.items) == sorted(set(SIX) - {"GE"})


def test_batch_keys_are_matched_whatever_their_case(iex_server, provider_of):
    body = {
        "aapl": {"quote": iex_server.quotes["AAPL"]},
        "Msft": {"quote": iex_server.quotes["MSFT"]},
    }
    iex_server.fail(
        route="batch", status=200, body=json.dumps(body), content_type="application/json"
    )
    fetched = provider_of().fetch_quotes(["AAPL", "MSFT"])
    assert (sorted(q.symbol for q in fetched.items), fetched.failures) == (["AAPL", "MSFT"], {})


def test_unknown_symbol_on_the_per_symbol_route_fails_only_that_symbol(iex_server, provider_of):
    iex_server.fail(route="batch", status=404, body="Unknown symbol")
    fetched = provider_of().fetch_quotes([*SIX, "ZZZZ"])
    assert list(fetched.failures) == ["ZZZZ"] and kinds(fetched.failures) == {
        FailureKind.UNKNOWN_SYMBOL
    }
    assert sorted(q.symbol for q in fetched.items) == sorted(SIX)
    assert len(iex_server.seen("quote")) == 7


BAD_PRICES = {"NULL": None, "NANX": float("nan"), "NEG": -1.5, "ZERO": 0}


def test_bad_prices_come_back_as_items_for_validation(iex_server, provider_of):
    for symbol, price in BAD_PRICES.items():
        iex_server.add(symbol, price=price)
    iex_server.add("WORD", price="a lot")
    iex_server.add("WHEN", latestUpdate="yesterday")
    raw = urllib.request.urlopen(f"{iex_server.url()}/stock/NANX/quote", timeout=2).read()
    assert b'"latestPrice": NaN' in raw  # the bare token, not a string
    fetched = provider_of().fetch_quotes([*BAD_PRICES, "WORD", "WHEN"])
    prices = {q.symbol: q.price for q in fetched.items}
    assert prices["NULL"] is None and prices["NANX"].is_nan()
    assert (prices["NEG"], prices["ZERO"]) == (Decimal("-1.5"), Decimal("0"))
    assert texts(fetched.failures) == {
        "WORD": "bad_body: latestPrice is not a number",
        "WHEN": "bad_body: latestUpdate is not epoch milliseconds",
    }


def test_bad_prices_are_rejected_by_the_poll_and_never_stored(iex_server, sessions, database_url):
    for symbol, price in BAD_PRICES.items():
        iex_server.add(symbol, price=price)
    configured = iex_settings(
        iex_server, ["AAPL", *BAD_PRICES, "MSFT"], database_url, provider_token=TOKEN
    )
    provider = build_provider(configured)
    try:
        poller = Poller(configured, provider, sessions)
        first, second = poller.poll_prices(), poller.poll_prices()
    finally:
        provider.close()
    assert (first.written, first.duplicates, first.failed) == (2, 0, {})
    assert first.report()["rejected"] == {
        "NULL": "price is missing",
        "NANX": "price is not finite (NaN)",
        "NEG": "price is not positive (-1.5)",
        "ZERO": "price is not positive (0)",
    }
    assert (second.written, second.duplicates, second.rejected) == (0, 2, first.rejected)
    assert {s: r.kind for s, r in first.rejected.items()} == {
        "NULL": RejectionKind.MISSING,
        "NANX": RejectionKind.NOT_FINITE,
        "NEG": RejectionKind.NOT_POSITIVE,
        "ZERO": RejectionKind.NOT_POSITIVE,
    }
    assert all(r.query.get("token") == [TOKEN] for r in iex_server.seen())
    with sessions() as session:
        assert count_ticks(session) == 2
        assert [count_ticks(session, s) for s in BAD_PRICES] == [0, 0, 0, 0]
        ticks = ticks_between(session, ["AAPL", "MSFT"], EPOCH)
        assert [(t.symbol, t.price) for t in ticks] == [
            ("AAPL", Decimal("174.97")),
            ("MSFT", Decimal("83.26")),
        ]
        assert ticks[0].observed_at == EPOCH + timedelta(milliseconds=T0_MS)


@pytest.mark.parametrize("fallback", [False, True])
def test_profiles_carry_name_band_and_logo(iex_server, provider_of, fallback):
    if fallback:
        iex_server.fail(route="batch", status=404, body="Unknown symbol")
    iex_server.logos["GE"] = {}  # no url at all
    del iex_server.logos["MSFT"]  # answered as {"url": ""}
    fetched = provider_of().fetch_profiles(["AAPL", "GE", "MSFT"])
    assert fetched.failures == {}
    profiles = {p.symbol: p for p in fetched.items}
    apple = profiles["AAPL"]
    assert (apple.company_name, apple.source, apple.simulated) == ("Apple Inc.", "iex", False)
    assert (apple.week52_high, apple.week52_low) == (Decimal("176.24"), Decimal("104.08"))
    assert apple.logo_url == "https://storage.googleapis.com/iex/api/logos/AAPL.png"
    assert profiles["GE"].logo_url is None and profiles["MSFT"].logo_url is None
    assert profiles["GE"].company_name == "General Electric Company"
    batch = iex_server.seen("batch")[0]
    assert batch.query["types"] == ["quote,logo"]
    assert len(iex_server.seen("logo")) == (3 if fallback else 0)


def test_the_previous_close_is_the_quotes_previous_close(iex_server, provider_of):
    iex_server.quotes["MSFT"]["previousClose"] = {"not": "a number"}
    quotes = {q.symbol: q for q in provider_of().fetch_quotes(["AAPL", "MSFT"]).items}
    assert quotes["AAPL"].previous_close == Decimal("174.47")
    assert quotes["MSFT"].price == Decimal("83.26") and quotes["MSFT"].previous_close is None
