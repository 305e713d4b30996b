"""FinnhubProvider against a fake Finnhub: one request per symbol, zeros, {} and the token."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from jobs.failures import FailureKind
from jobs.providers.finnhub import FinnhubProvider
from jobs.scheduler import PollingService
from tests.db.helpers import count_ticks
from tests.fakes.finnhub_server import T0, TOKEN, FakeFinnhub
from tests.jobs.helpers import LAST_PRICES, keyed_on, kinds, serving, settings, texts, wait_for

FOUR = ["AAPL", "MSFT", "GE", "NVDA"]

finnhub = serving(FakeFinnhub)
provider_of = keyed_on("finnhub", FinnhubProvider, (TOKEN,))


def test_each_symbol_is_one_quote_request_with_the_token_in_a_header(finnhub, provider_of):
    fetched = provider_of().fetch_quotes(FOUR)
    assert fetched.failures == {}
    quotes = {q.symbol: q for q in fetched.items}
    assert {s: q.price for s, q in quotes.items()} == {s: LAST_PRICES[s] for s in FOUR}
    assert quotes["AAPL"].observed_at == datetime(2025, 6, 2, 14, 30, 1, tzinfo=timezone.utc)
    assert quotes["NVDA"].observed_at.timestamp() == T0 + 3
    seen = finnhub.seen()
    assert sorted(r.query["symbol"][0] for r in seen) == sorted(FOUR)
    assert {r.path for r in seen} == {"/api/v1/quote"}
    assert all(r.headers["x-finnhub-token"] == TOKEN and "token" not in r.query for r in seen)


def test_an_all_zero_quote_is_an_unknown_symbol_not_a_price_of_zero(finnhub, provider_of):
    fetched = provider_of().fetch_quotes(["AAPL", "ZZZZ"])
    assert [q.symbol for q in fetched.items] == ["AAPL"]
    assert kinds(fetched.failures) == {FailureKind.UNKNOWN_SYMBOL}
    assert "all zeros" in str(fetched.failures["ZZZZ"])


def test_a_zero_price_with_a_time_is_passed_on_for_validation(finnhub, provider_of):
    finnhub.quotes["GE"] = {**finnhub.quotes["GE"], "c": 0}
    (quote,) = provider_of().fetch_quotes(["GE"]).items
    assert quote.price == 0  # the poll rejects it as "not positive"


def test_profiles_carry_name_logo_and_band_from_two_requests_each(finnhub, provider_of):
    fetched = provider_of().fetch_profiles(["AAPL", "GE"])
    assert fetched.failures == {}
    apple = {p.symbol: p for p in fetched.items}["AAPL"]
    assert (apple.company_name, apple.source, apple.simulated) == ("Apple Inc", "finnhub", False)
    assert apple.logo_url.endswith("/stock_logo/AAPL.png")
    assert (apple.week52_high, apple.week52_low) == (Decimal("260.1"), Decimal("169.21"))
    routes = sorted((r.route, r.query["symbol"][0]) for r in finnhub.seen())
    assert routes == [
        ("metric", "AAPL"),
        ("metric", "GE"),
        ("profile2", "AAPL"),
        ("profile2", "GE"),
    ]
    assert all(r.query["metric"] == ["all"] for r in finnhub.seen("metric"))


def test_an_empty_profile_is_an_unknown_symbol_and_costs_no_metric_request(finnhub, provider_of):
    fetched = provider_of().fetch_profiles(["ZZZZ"])
    assert kinds(fetched.failures) == {FailureKind.UNKNOWN_SYMBOL}
    assert [r.route for r in finnhub.seen()] == ["profile2"]


def test_missing_metrics_and_logo_leave_those_fields_empty(finnhub, provider_of):
    finnhub.metrics["GE"] = {}
    finnhub.profiles["GE"]["logo"] = ""
    (ge,) = provider_of().fetch_profiles(["GE"]).items
    assert (ge.company_name, ge.logo_url, ge.week52_high, ge.week52_low) == (
        "GE Aerospace",
        None,
        None,
        None,
    )


@pytest.mark.parametrize("token", ["fh_wrong_token_0000", None])
def test_a_refused_or_missing_token_is_one_clear_reason_and_a_backoff(
    finnhub, provider_of, caplog, token
):
    caplog.set_level(logging.DEBUG)
    provider = provider_of(keys=(token,), auth_backoff=30)
    fetched = provider.fetch_quotes(FOUR)
    reasons = {str(failure) for failure in fetched.failures.values()}
    assert sorted(fetched.failures) == sorted(FOUR) and len(reasons) == 1
    (reason,) = reasons
    assert reason.startswith("auth: finnhub ") and "set STOCKSTREAMER_FINNHUB_TOKEN" in reason
    asked = len(finnhub.seen())
    # In-flight requests may each see the 401; with no token at all nothing is sent.
    assert (1 <= asked <= 4) if token else (asked == 0)
    assert provider.ready_in() > 29
    assert texts(provider.fetch_profiles(FOUR).failures) == dict.fromkeys(FOUR, reason)
    assert len(finnhub.seen()) == asked
    if token:
        assert token not in caplog.text + reason


def test_a_429_with_retry_after_is_waited_then_succeeds(finnhub, provider_of):
    finnhub.fail(
        status=429,
        body='{"error": "API limit reached. Please try again later."}',
        content_type="application/json",
        headers={"Retry-After": "0.3"},
        times=1,
    )
    started = time.monotonic()
    fetched = provider_of().fetch_quotes(["AAPL"])
    assert time.monotonic() - started >= 0.3
    assert (len(fetched.items), fetched.failures) == (1, {})
    assert [r.status for r in finnhub.seen()] == [429, 200]


def test_a_429_beyond_the_cap_pauses_the_other_symbols_too(finnhub, provider_of):
    finnhub.fail(status=429, body="{}", headers={"Retry-After": "60"}, symbols=frozenset({"AAPL"}))
    provider = provider_of(concurrency=1)  # in order: AAPL first, then the rest wait it out
    fetched = provider.fetch_quotes(FOUR)
    assert sorted(fetched.failures) == sorted(FOUR) and kinds(fetched.failures) == {
        FailureKind.RATE_LIMITED
    }
    assert len(finnhub.seen()) == 1 and 59 < provider.ready_in() <= 60


def test_the_minute_budget_is_never_exceeded(finnhub, provider_of):
    fetched = provider_of(rate_limit=3, concurrency=1).fetch_quotes(FOUR)
    assert len(fetched.items) == 3 and kinds(fetched.failures) == {FailureKind.RATE_LIMITED}
    (starved,) = fetched.failures
    assert "budget of 3 requests/min is spent" in str(fetched.failures[starved])
    assert len(finnhub.seen()) == 3


def test_a_502_is_retried_and_then_succeeds(finnhub, provider_of):
    finnhub.fail(status=502, route="quote", times=1)
    fetched = provider_of().fetch_quotes(["AAPL"])
    assert (len(fetched.items), fetched.failures) == (1, {})
    assert [r.status for r in finnhub.seen()] == [502, 200]


@pytest.mark.parametrize(
    "body, kind",
    [
        ('{"c": 201.45, "t": ', FailureKind.BAD_JSON),
        ("[201.45]", FailureKind.BAD_BODY),
        ('{"c": "lots", "t": 1748874601}', FailureKind.BAD_BODY),
        ('{"c": 201.45, "t": "yesterday"}', FailureKind.BAD_BODY),
    ],
)
def test_a_malformed_quote_fails_its_symbol_only(finnhub, provider_of, body, kind):
    finnhub.fail(status=200, body=body, content_type="application/json", symbols=frozenset({"GE"}))
    fetched = provider_of().fetch_quotes(FOUR)
    assert list(fetched.failures) == ["GE"] and kinds(fetched.failures) == {kind}
    assert len(fetched.items) == 3


def test_the_poller_outlives_a_refused_token_and_takes_the_fixed_one_from_env_file(
    finnhub, sessions, tmp_path, monkeypatch, caplog
):
    caplog.set_level(logging.INFO)
    monkeypatch.delenv("STOCKSTREAMER_FINNHUB_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    env_file = tmp_path / ".env"
    env_file.write_text("STOCKSTREAMER_FINNHUB_TOKEN=fh_revoked_0000\n")
    service = PollingService(
        settings(
            symbols="AAPL,GE",
            provider="finnhub",
            finnhub_base_url=finnhub.url(),
            finnhub_rate_limit=6000,
            price_interval=0.05,
            auth_backoff=0.6,
            history_days=0,
        ),
        sessions,
    )
    service.start()
    try:
        assert wait_for(lambda: finnhub.seen(), 5.0)
        time.sleep(0.3)  # several ticks, all skipped while backing off
        refused = len(finnhub.seen())
        assert {r.status for r in finnhub.seen()} == {401} and refused <= 2
        env_file.write_text(f"STOCKSTREAMER_FINNHUB_TOKEN={TOKEN}\n")
        assert wait_for(lambda: ticks(sessions) == 2, 5.0), "prices never resumed"
    finally:
        service.stop()
    assert "finnhub accepted the key again" in caplog.text
    assert "fh_revoked_0000" not in caplog.text and TOKEN not in caplog.text
    statuses = [r.status for r in finnhub.seen()]
    assert statuses[:refused] == [401] * refused and 200 in statuses


def ticks(sessions) -> int:
    with sessions() as session:
        return count_ticks(session)


def test_the_previous_close_is_pc_and_a_bad_one_leaves_the_quote(finnhub, provider_of, caplog):
    finnhub.quotes["MSFT"]["pc"] = "n/a"
    quotes = {q.symbol: q for q in provider_of().fetch_quotes(["AAPL", "MSFT"]).items}
    assert quotes["AAPL"].previous_close == Decimal("200.25")
    assert quotes["MSFT"].price == LAST_PRICES["MSFT"] and quotes["MSFT"].previous_close is None
    assert "MSFT: pc, left out: pc is not a number" in caplog.text
