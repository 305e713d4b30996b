"""AlpacaProvider against a fake Alpaca: trades, paginated bars, refused keys, 429s, repeats."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

import jobs.poll
from db.chart import chart_stocks
from jobs.failures import FailureKind, ProviderError
from jobs.poll import Poller
from jobs.providers.alpaca import AlpacaProvider
from tests.db.helpers import count_ticks
from tests.fakes.alpaca_server import KEY_ID, SECRET_KEY, FakeAlpaca, bar, daily_bars, trade
from tests.jobs.helpers import LAST_PRICES, keyed_on, kinds, serving, settings, texts

SIX = ["AAPL", "MSFT", "GE", "AMZN", "NVDA", "INTC"]
NOW = datetime(2025, 6, 2, 15, 0, tzinfo=timezone.utc)
UTC = timezone.utc


alpaca = serving(FakeAlpaca)
provider_of = keyed_on("alpaca", AlpacaProvider, (KEY_ID, SECRET_KEY), clock=lambda: NOW)


def replace_bar(bars: list[dict], day: str, o: float, h: float, low: float, c: float) -> None:
    (i,) = [i for i, b in enumerate(bars) if b["t"].startswith(day)]
    bars[i] = bar(bars[i]["t"], o, h, low, c)


def test_six_latest_trades_come_from_one_request_with_the_keys_in_headers(alpaca, provider_of):
    fetched = provider_of().fetch_quotes(SIX)
    assert fetched.failures == {}
    quotes = {q.symbol: q for q in fetched.items}
    assert {s: q.price for s, q in quotes.items()} == {s: LAST_PRICES[s] for s in SIX}
    # Nanoseconds are cut (not rounded) to microseconds; every time is UTC.
    assert quotes["AAPL"].observed_at == datetime(2025, 6, 2, 14, 30, 1, 123456, tzinfo=UTC)
    assert quotes["AMZN"].observed_at == datetime(2025, 6, 2, 14, 30, 0, 1, tzinfo=UTC)
    assert quotes["MSFT"].observed_at == datetime(2025, 6, 2, 14, 30, 2, 500000, tzinfo=UTC)
    assert quotes["GE"].observed_at == datetime(2025, 6, 2, 14, 29, 59, tzinfo=UTC)
    assert all(
        q.observed_at.utcoffset() == timedelta(0) and not q.simulated for q in quotes.values()
    )
    (seen,) = alpaca.seen()
    assert (seen.path, seen.status) == ("/v2/stocks/snapshots", 200)
    assert seen.query == {"symbols": [",".join(SIX)], "feed": ["iex"]}
    assert seen.headers["apca-api-key-id"] == KEY_ID
    assert seen.headers["apca-api-secret-key"] == SECRET_KEY


def test_an_offset_time_is_converted_to_utc(alpaca, provider_of):
    alpaca.trades["AAPL"] = trade("2025-06-02T10:30:01.5-04:00", 201.45)
    (quote,) = provider_of().fetch_quotes(["AAPL"]).items
    assert quote.observed_at == datetime(2025, 6, 2, 14, 30, 1, 500000, tzinfo=UTC)


def test_150_symbols_take_two_requests(alpaca, provider_of):
    many = [f"T{i:03d}" for i in range(150)]
    for symbol in many:
        alpaca.trades[symbol] = trade("2025-06-02T14:30:00Z", 10.0)
    fetched = provider_of().fetch_quotes(many)
    assert (len(fetched.items), fetched.failures) == (150, {})
    assert sorted(len(r.symbols) for r in alpaca.seen()) == [50, 100]


def test_a_symbol_alpaca_does_not_know_fails_alone(alpaca, provider_of):
    fetched = provider_of().fetch_quotes(["AAPL", "ZZZZ"])
    assert [q.symbol for q in fetched.items] == ["AAPL"]
    assert texts(fetched.failures) == {"ZZZZ": "unknown_symbol: not in alpaca's answer"}


def test_the_52_week_band_follows_every_page_of_a_year_of_daily_bars(alpaca, provider_of):
    alpaca.daily["AAPL"] = daily_bars(date(2025, 5, 30), 400, 200.0)
    alpaca.daily["MSFT"] = daily_bars(date(2025, 5, 30), 400, 450.0)
    # Inside the year: the band's ends. Before it: a spike that must not count.
    replace_bar(alpaca.daily["AAPL"], "2025-05-23", 250, 260.1, 240, 255)
    replace_bar(alpaca.daily["AAPL"], "2025-01-14", 170, 175, 164.08, 171)
    replace_bar(alpaca.daily["AAPL"], "2024-05-20", 900, 999.99, 1.0, 950)
    alpaca.page_size = 100
    fetched = provider_of().fetch_profiles(["AAPL", "MSFT", "ZZZZ"])
    assert texts(fetched.failures) == {"ZZZZ": "unknown_symbol: not in alpaca's answer"}
    apple = {p.symbol: p for p in fetched.items}["AAPL"]
    assert (apple.week52_high, apple.week52_low) == (Decimal("260.1"), Decimal("164.08"))
    assert (apple.company_name, apple.logo_url, apple.source) == (None, None, "alpaca")
    in_year = [b for s in ("AAPL", "MSFT") for b in alpaca.daily[s] if b["t"] >= "2024-06-02"]
    pages = alpaca.seen("bars")
    assert len(pages) == -(-len(in_year) // 100) > 3
    first = pages[0].query
    assert first == {
        "symbols": ["AAPL,MSFT,ZZZZ"],
        "timeframe": ["1Day"],
        "start": ["2024-06-02T00:00:00Z"],
        "feed": ["iex"],
        "limit": ["10000"],
    }
    tokens = [p.query.get("page_token", [None])[0] for p in pages]
    assert tokens[0] is None and set(tokens[1:]) == alpaca.tokens
    assert all({**p.query, "page_token": None} == {**first, "page_token": None} for p in pages)


def test_the_band_is_computed_once_a_day(alpaca, provider_of):
    alpaca.daily["AAPL"] = daily_bars(date(2025, 5, 30), 30, 200.0)
    now = [NOW]
    provider = provider_of(clock=lambda: now[0])
    first = provider.fetch_profiles(["AAPL"])
    assert provider.fetch_profiles(["AAPL"]).items == first.items
    assert len(alpaca.seen("bars")) == 1
    now[0] += timedelta(days=1)
    provider.fetch_profiles(["AAPL"])
    assert len(alpaca.seen("bars")) == 2
    assert alpaca.seen("bars")[1].query["start"] == ["2024-06-03T00:00:00Z"]


def test_history_is_the_open_of_each_minute_bar_across_pages(alpaca, provider_of):
    start, end = NOW - timedelta(days=7), NOW
    minutes = [start + timedelta(minutes=m) for m in range(-5, 25)]
    alpaca.minutes["AAPL"] = [
        bar(t.strftime("%Y-%m-%dT%H:%M:%SZ"), 100 + i / 100, 101, 99, 100)
        for i, t in enumerate(minutes)
    ]
    alpaca.page_size = 7
    quotes = provider_of().history("AAPL", start, end, step=60)
    assert [q.observed_at for q in quotes] == minutes[5:]
    assert quotes[0].price == Decimal("100.05") and quotes[0].symbol == "AAPL"
    pages = alpaca.seen("bars")
    assert len(pages) == 4  # 25 bars, 7 a page
    assert pages[0].query["timeframe"] == ["1Min"]
    assert (pages[0].query["start"], pages[0].query["end"]) == (
        ["2025-05-26T15:00:00Z"],
        ["2025-06-02T15:00:00Z"],
    )
    provider_of().history("AAPL", start, end, step=300)
    assert alpaca.seen("bars")[-1].query["timeframe"] == ["5Min"]


def test_pages_that_never_end_are_a_bad_answer(alpaca, provider_of, monkeypatch):
    monkeypatch.setattr("jobs.providers.alpaca.MAX_PAGES", 3)
    alpaca.minutes["AAPL"] = [
        bar(f"2025-06-02T14:{m:02d}:00Z", 100, 101, 99, 100) for m in range(10)
    ]
    alpaca.page_size = 1
    with pytest.raises(ProviderError, match="did not end within 3 pages"):
        provider_of().history("AAPL", NOW - timedelta(hours=1), NOW, step=60)
    assert len(alpaca.seen("bars")) == 3


@pytest.mark.parametrize(
    "keys", [("AKWRONG", SECRET_KEY), (KEY_ID, "wrong-secret"), (KEY_ID, None), (None, None)]
)
def test_refused_or_missing_keys_name_the_settings_and_back_off(alpaca, provider_of, caplog, keys):
    caplog.set_level(logging.DEBUG)
    provider = provider_of(keys=keys, auth_backoff=30)
    first = provider.fetch_quotes(SIX)
    assert sorted(first.failures) == sorted(SIX) and kinds(first.failures) == {FailureKind.AUTH}
    reason = str(first.failures["AAPL"])
    assert "alpaca" in reason
    assert "STOCKSTREAMER_ALPACA_KEY_ID and STOCKSTREAMER_ALPACA_SECRET_KEY" in reason
    asked = len(alpaca.seen())
    assert asked == (1 if all(keys) else 0)  # no key at all: nothing to send
    assert 29 < provider.ready_in() <= 30
    assert provider.fetch_quotes(SIX).failures == first.failures
    assert len(alpaca.seen()) == asked  # backing off: no request
    assert SECRET_KEY not in reason + caplog.text and "wrong-secret" not in reason + caplog.text


def test_a_fixed_key_is_picked_up_after_the_backoff_without_restart(alpaca, provider_of, caplog):
    caplog.set_level(logging.INFO)
    fixed: list[tuple[str, str]] = []
    provider = provider_of(
        keys=("AKOLD", SECRET_KEY),
        auth_backoff=0.2,
        reload=lambda: fixed[-1] if fixed else ("AKOLD", SECRET_KEY),
    )
    assert kinds(provider.fetch_quotes(["AAPL"]).failures) == {FailureKind.AUTH}
    time.sleep(0.25)
    assert kinds(provider.fetch_quotes(["AAPL"]).failures) == {
        FailureKind.AUTH
    }  # the same key again
    assert [r.status for r in alpaca.seen()] == [401, 401]
    fixed.append((KEY_ID, SECRET_KEY))
    time.sleep(0.25)
    fetched = provider.fetch_quotes(["AAPL"])
    assert (len(fetched.items), fetched.failures) == (1, {})
    assert provider.ready_in() == 0
    assert alpaca.seen()[-1].headers["apca-api-key-id"] == KEY_ID
    assert "alpaca accepted the key again" in caplog.text


def test_sip_data_without_a_subscription_is_a_403_naming_the_settings(alpaca, provider_of):
    fetched = provider_of(feed="sip").fetch_quotes(["AAPL"])
    assert kinds(fetched.failures) == {FailureKind.AUTH}
    assert "403" in str(fetched.failures["AAPL"]) and "SIP" in str(fetched.failures["AAPL"])


def test_a_429_with_retry_after_is_waited_then_succeeds(alpaca, provider_of):
    alpaca.fail(
        status=429, body='{"message": "too many requests."}', headers={"Retry-After": "1"}, times=1
    )
    started = time.monotonic()
    fetched = provider_of().fetch_quotes(SIX)
    assert time.monotonic() - started >= 0.95
    assert (len(fetched.items), fetched.failures) == (6, {})
    assert [r.status for r in alpaca.seen()] == [429, 200]


def test_a_long_reset_pauses_every_request_until_then(alpaca, provider_of):
    reset = str(int(time.time()) + 40)
    alpaca.fail(
        status=429, body='{"message": "too many requests."}', headers={"X-RateLimit-Reset": reset}
    )
    provider = provider_of()
    fetched = provider.fetch_quotes(SIX)
    assert kinds(fetched.failures) == {FailureKind.RATE_LIMITED} and len(alpaca.seen()) == 1
    assert 35 < provider.ready_in() <= 40
    assert kinds(provider.fetch_profiles(SIX).failures) == {FailureKind.RATE_LIMITED}
    assert len(alpaca.seen()) == 1


def test_a_503_is_retried_and_then_succeeds(alpaca, provider_of):
    alpaca.fail(status=503, route="snapshots", times=2)
    fetched = provider_of().fetch_quotes(SIX)
    assert (len(fetched.items), fetched.failures) == (6, {})
    assert [r.status for r in alpaca.seen()] == [503, 503, 200]


@pytest.mark.parametrize(
    "body, kind",
    [
        ('{"AAPL": {"latestTrade": ', FailureKind.BAD_JSON),
        ('{"snapshots": []}', FailureKind.BAD_BODY),
        ("[]", FailureKind.BAD_BODY),
    ],
)
def test_a_malformed_answer_fails_the_symbols_it_was_for(alpaca, provider_of, body, kind):
    alpaca.fail(status=200, body=body, content_type="application/json")
    fetched = provider_of().fetch_quotes(["AAPL", "MSFT"])
    assert fetched.items == [] and kinds(fetched.failures) == {kind}


def test_a_trade_with_a_bad_time_fails_alone(alpaca, provider_of):
    alpaca.trades["MSFT"] = trade("June 2nd, 2:30 pm", 461.97)
    fetched = provider_of().fetch_quotes(["AAPL", "MSFT"])
    assert [q.symbol for q in fetched.items] == ["AAPL"]
    assert texts(fetched.failures) == {"MSFT": "bad_body: t is not an RFC 3339 time"}


def test_a_repeated_trade_is_not_written_again(alpaca, provider_of, sessions, monkeypatch):
    provider = provider_of()
    writes: list[int] = []
    real_write = jobs.poll.write_quotes

    def counted_write(session, quotes, **kwargs):
        writes.append(len(quotes))
        return real_write(session, quotes, **kwargs)

    monkeypatch.setattr(jobs.poll, "write_quotes", counted_write)
    poller = Poller(settings(symbols="AAPL,MSFT", provider="alpaca"), provider, sessions)
    first, closed = poller.poll_prices(), poller.poll_prices()
    alpaca.trades["AAPL"] = trade("2025-06-02T14:30:05.000000001Z", 201.5)
    moved = poller.poll_prices()
    assert (first.written, first.duplicates) == (2, 0)
    assert (closed.written, closed.duplicates) == (0, 2)
    assert (moved.written, moved.duplicates) == (1, 1)
    assert writes == [2, 1]  # the market-closed poll opened no transaction
    assert len(alpaca.seen("snapshots")) == 3
    with sessions() as session:
        assert count_ticks(session, "AAPL") == 2 and count_ticks(session, "MSFT") == 1


@pytest.mark.parametrize("wrapped", [False, True])
def test_the_previous_close_is_the_previous_daily_bar_close(alpaca, provider_of, wrapped):
    alpaca.wrapped = wrapped  # some mirrors answer {"snapshots": {...}}
    alpaca.previous_closes["MSFT"] = None  # no prevDailyBar: a first day of trading
    fetched = provider_of().fetch_quotes(SIX)
    quotes = {q.symbol: q for q in fetched.items}
    assert fetched.failures == {} and len(quotes) == 6
    assert quotes["AAPL"].previous_close == Decimal("200.45")
    assert quotes["MSFT"].price == LAST_PRICES["MSFT"] and quotes["MSFT"].previous_close is None


def test_a_snapshot_without_a_latest_trade_is_a_bad_body(alpaca, provider_of):
    body = '{"snapshots": {"AAPL": {"prevDailyBar": {"c": 1}}}}'
    alpaca.fail(status=200, body=body, content_type="application/json")
    fetched = provider_of().fetch_quotes(["AAPL"])
    assert texts(fetched.failures) == {"AAPL": "bad_body: latestTrade is not a JSON object"}


def test_history_filled_from_minute_bars_is_marked_for_the_chart(alpaca, provider_of, sessions):
    minutes = [NOW - timedelta(minutes=m) for m in range(30, 0, -1)]
    alpaca.minutes["AAPL"] = [
        bar(t.strftime("%Y-%m-%dT%H:%M:%SZ"), 100, 101, 99, 100) for t in minutes
    ]
    poller = Poller(
        settings(symbols="AAPL,MSFT", provider="alpaca", history_days=1),
        provider_of(),
        sessions,
        clock=lambda: NOW,
    )
    poller.sync_watchlist()
    assert poller.backfill().written == 30
    with sessions() as session:
        marks = {s.symbol: s.history_bar_seconds for s in chart_stocks(session)}
    assert marks == {"AAPL": 60, "MSFT": None}  # MSFT had no bars: nothing to say
