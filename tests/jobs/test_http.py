"""JsonClient against a real local HTTP server: retries, Retry-After, timeouts, decode errors."""

from __future__ import annotations

import random
import socket
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from jobs.failures import FailureKind, ProviderError
from jobs.http import JsonClient, RetryPolicy, retry_after_seconds
from tests.fakes.iex_server import FakeIEX
from tests.jobs.helpers import FAST, made_on, serving

TOKEN = "sk_live_4f2b9c1d8e7a6b5c"
BAD_JSON, BAD_BODY = FailureKind.BAD_JSON, FailureKind.BAD_BODY
HTTP_4XX, HTTP_5XX = FailureKind.HTTP_4XX, FailureKind.HTTP_5XX


def on_fake(fake: FakeIEX, base_url: str | None = None, **kw) -> JsonClient:
    """A JsonClient on the fake's Cloud layout, or on another base URL."""
    return JsonClient(base_url or fake.url("stable"), **kw)


iex_server = serving(FakeIEX)
client_of = made_on("iex_server", on_fake, timeout=2.0, retry=FAST)


def error_of(client: JsonClient, path: str = "stock/AAPL/quote") -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        client.get(path)
    return caught.value


def test_a_get_keeps_the_base_path_and_merges_the_client_params(iex_server, client_of):
    client = client_of(params={"token": TOKEN})
    body = client.get("/stock/market/batch", params={"symbols": "AAPL", "types": "quote"})
    assert body["AAPL"]["quote"]["latestPrice"] == 174.97
    (seen,) = iex_server.seen()
    assert (seen.path, seen.prefix) == ("/stable/stock/market/batch", "stable")
    assert seen.query == {"symbols": ["AAPL"], "types": ["quote"], "token": [TOKEN]}


def test_a_500_is_retried_and_then_succeeds(iex_server, client_of):
    iex_server.fail(status=500, times=1)
    slept: list[float] = []
    body = client_of(sleep=slept.append).get("stock/AAPL/quote")
    assert body["symbol"] == "AAPL"
    assert [r.status for r in iex_server.seen()] == [500, 200]
    assert len(slept) == 1 and 0 <= slept[0] <= FAST.backoff


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_forever_fails_after_exactly_attempts_requests(iex_server, client_of, status):
    iex_server.fail(status=status)
    error = error_of(client_of())
    assert (error.kind, error.status) == (FailureKind.HTTP_5XX, status)
    assert str(error) == f"GET /stock/AAPL/quote answered {status}"
    assert len(iex_server.seen()) == FAST.attempts


@pytest.mark.parametrize("status", [400, 403, 404])
def test_a_4xx_is_final_and_named_by_its_status(iex_server, client_of, status):
    iex_server.fail(status=status, body="The API key provided is not valid.")
    error = error_of(client_of())
    assert (error.kind, error.status) == (FailureKind.HTTP_4XX, status)
    assert str(error.failure("AAPL")).startswith(f"http_{status}: ")
    assert "not valid" in str(error)
    assert len(iex_server.seen()) == 1


def test_unknown_symbol_text_is_its_own_kind(iex_server, client_of):
    error = error_of(client_of(), "stock/ZZZZ/quote")
    assert error.kind == FailureKind.UNKNOWN_SYMBOL
    iex_server.fail(status=200, body="Unknown symbol")
    assert error_of(client_of()).kind == FailureKind.UNKNOWN_SYMBOL


def test_retry_after_seconds_is_the_wait_before_the_next_try(iex_server, client_of):
    iex_server.fail(status=429, headers={"Retry-After": "1"}, times=1)
    slept: list[float] = []
    assert client_of(sleep=slept.append).get("stock/AAPL/quote")["symbol"] == "AAPL"
    assert slept == [1.0]
    assert [r.status for r in iex_server.seen()] == [429, 200]


def test_retry_after_is_really_waited(iex_server, client_of):
    iex_server.fail(status=429, headers={"Retry-After": "1"}, times=1)
    started = time.monotonic()
    assert client_of().get("stock/AAPL/quote")["symbol"] == "AAPL"
    assert 0.95 <= time.monotonic() - started < 2.0


def test_retry_after_beyond_the_cap_fails_at_once(iex_server, client_of):
    iex_server.fail(status=429, headers={"Retry-After": "60"})
    slept: list[float] = []
    error = error_of(client_of(sleep=slept.append))
    assert error.kind == FailureKind.RATE_LIMITED
    assert "exceeds the retry cap" in str(error)
    assert (len(iex_server.seen()), slept) == (1, [])


def test_429_without_retry_after_backs_off_then_gives_up(iex_server, client_of):
    iex_server.fail(status=429)
    slept: list[float] = []
    assert error_of(client_of(sleep=slept.append)).kind == FailureKind.RATE_LIMITED
    assert len(iex_server.seen()) == FAST.attempts
    assert len(slept) == FAST.attempts - 1
    assert all(0 <= s <= FAST.backoff * 2**i for i, s in enumerate(slept))


def test_a_slow_answer_times_out_within_a_bounded_time(iex_server, client_of):
    iex_server.fail(status=200, body="{}", content_type="application/json", delay=1.0)
    client = client_of(timeout=0.2, retry=RetryPolicy(attempts=2, backoff=0.01))
    started = time.monotonic()
    error = error_of(client)
    elapsed = time.monotonic() - started
    assert error.kind == FailureKind.TIMEOUT
    assert str(error) == "GET /stock/AAPL/quote timed out"
    assert len(iex_server.seen()) == 2
    assert elapsed < 0.9  # two 0.2 s tries, never the server's full second


def test_a_trickling_answer_is_cut_at_the_timeout(iex_server, client_of):
    iex_server.fail(
        status=200, body='{"symbol": "AAPL"}', content_type="application/json", trickle=0.08
    )
    client = client_of(timeout=0.3, retry=RetryPolicy(attempts=1))
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        client.get("stock/AAPL/quote")
    assert caught.value.kind == FailureKind.TIMEOUT
    assert time.monotonic() - started < 1.0


def test_a_refused_connection_is_a_connect_error(client_of):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = client_of(base_url=f"http://127.0.0.1:{port}/stable", params={"token": TOKEN})
    error = error_of(client)
    assert error.kind == FailureKind.CONNECT
    assert str(error) == "GET /stock/AAPL/quote failed: ConnectError"


@pytest.mark.parametrize(
    "status, body, content_type, kind, answered",
    [
        (200, '{"symbol": "AAPL", "latestPrice": 174.9', "application/json", BAD_JSON, None),
        (200, "", "application/json", BAD_JSON, None),
        (
            200,
            "<html><body><h1>Service Unavailable</h1></body></html>",
            "text/html",
            BAD_BODY,
            None,
        ),
        (
            502,
            "<html><head><title>502 Bad Gateway</title></head></html>",
            "text/html",
            HTTP_5XX,
            502,
        ),
        (404, "<html><body>Not Found</body></html>", "text/html", HTTP_4XX, 404),
    ],
)
def test_bodies_that_are_not_json_name_what_came_back(
    iex_server, client_of, status, body, content_type, kind, answered
):
    iex_server.fail(status=status, body=body, content_type=content_type)
    error = error_of(client_of())
    assert (error.kind, error.status) == (kind, answered)


def test_bare_nan_tokens_decode_as_float_nan(iex_server, client_of):
    iex_server.fail(status=200, body='{"latestPrice": NaN}', content_type="application/json")
    value = client_of().get("stock/AAPL/quote")["latestPrice"]
    assert value != value


@pytest.mark.parametrize(
    "value, expected",
    [("1", 1.0), (" 2.5 ", 2.5), ("0", 0.0), ("-3", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_retry_after_seconds_reads_seconds(value, expected):
    assert retry_after_seconds(value) == expected


def test_retry_after_seconds_reads_http_dates():
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 28 <= retry_after_seconds(later) <= 30
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_seconds("Wed, 99 Foo 2015 07:28:00 GMT") is None


class Highest(random.Random):
    """A random source that always picks the top of the range, to expose the bound."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_retry_delay_grows_with_the_attempt_up_to_the_cap():
    policy = RetryPolicy(attempts=10, backoff=0.5, max_delay=3.0)
    bounds = [policy.delay(n, Highest()) for n in range(1, 8)]
    assert bounds == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0]
    rng = random.Random(7)
    samples = [policy.delay(n, rng) for n in range(1, 8) for _ in range(200)]
    assert all(0 <= s <= 3.0 for s in samples)
    assert max(samples[:200]) <= 0.5 < max(samples[200:400]) <= 1.0
