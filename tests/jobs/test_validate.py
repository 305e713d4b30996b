"""Validation rejects what must never reach the database, with a reason per symbol."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from core.records import Quote, StockProfile
from jobs.failures import RejectionKind as Kind
from jobs.validate import (
    Limits,
    logo_problem,
    profile_problem,
    quote_problem,
    split_valid,
    without_bad_previous_closes,
)

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)
EXPECTED = frozenset({"AAPL", "BRK.B"})


@pytest.mark.parametrize(
    ("quote", "reason", "kind"),
    [
        (Quote("AAPL", None, NOW), "price is missing", Kind.MISSING),
        (Quote("AAPL", Decimal("NaN"), NOW), "not finite", Kind.NOT_FINITE),
        (Quote("AAPL", Decimal("Infinity"), NOW), "not finite", Kind.NOT_FINITE),
        (Quote("AAPL", Decimal("0"), NOW), "not positive", Kind.NOT_POSITIVE),
        (Quote("AAPL", Decimal("-3.5"), NOW), "not positive", Kind.NOT_POSITIVE),
        (Quote("AAPL", Decimal("12345678901"), NOW), "absurd", Kind.ABSURD),
        (Quote("AAPL", Decimal("1"), None), "time is missing", Kind.MISSING),
        (Quote("AAPL", Decimal("1"), NOW.replace(tzinfo=None)), "no time zone", Kind.TIME_ZONE),
        (Quote("AAPL", Decimal("1"), NOW + timedelta(hours=1)), "in the future", Kind.FUTURE),
        (Quote("aapl; drop", Decimal("1"), NOW), "malformed", Kind.MALFORMED),
        (Quote("MSFT", Decimal("1"), NOW), "not asked for", Kind.NOT_ASKED),
    ],
)
def test_bad_quotes_are_rejected_with_a_reason(quote, reason, kind):
    problem = quote_problem(quote, NOW, Limits(), EXPECTED)
    assert problem is not None and reason in problem.message
    assert (problem.kind, problem.symbol) == (kind, quote.symbol)


def test_good_quotes_pass_including_a_little_clock_skew():
    for quote in (
        Quote("AAPL", Decimal("174.97"), NOW - timedelta(days=3)),
        Quote("BRK.B", Decimal("0.0001"), NOW + timedelta(minutes=4)),
    ):
        assert quote_problem(quote, NOW, Limits(), EXPECTED) is None


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "//evil.test/x.png",
        "ftp://x.test/a.png",
        "https:///nohost.png",
        "logo.png",
    ],
)
def test_logo_urls_must_be_http_or_a_local_path(url):
    assert logo_problem(url) is not None


@pytest.mark.parametrize(
    "url",
    [
        None,
        "https://storage.googleapis.com/iex/api/logos/AAPL.png",
        "http://x.test/a.svg",
        "/assets/logos/AAPL.svg",
    ],
)
def test_acceptable_logo_urls(url):
    assert logo_problem(url) is None


def test_profiles_need_a_sane_complete_band():
    def problem(**kw):
        return profile_problem(StockProfile("AAPL", **kw), Limits(), EXPECTED)

    assert problem(week52_high=Decimal("200"), week52_low=Decimal("150")) is None
    assert "incomplete" in str(problem(week52_high=Decimal("200")))
    assert "above the high" in str(problem(week52_high=Decimal("100"), week52_low=Decimal("150")))
    assert "not positive" in str(problem(week52_high=Decimal("100"), week52_low=Decimal("-1")))
    assert "logo" in str(problem(logo_url="javascript:alert(1)"))


def test_split_valid_keeps_the_good_and_names_the_bad():
    quotes = [Quote("AAPL", Decimal("1"), NOW), Quote("BRK.B", Decimal("-1"), NOW)]
    valid, rejected = split_valid(quotes, lambda q: quote_problem(q, NOW, Limits(), EXPECTED))
    assert valid == quotes[:1]
    assert list(rejected) == ["BRK.B"] and "not positive" in rejected["BRK.B"].message


def test_a_bad_previous_close_is_dropped_and_the_quote_kept():
    good = Quote("AAPL", Decimal("10"), NOW, previous_close=Decimal("9.5"))
    bad = [
        Quote(s, Decimal("10"), NOW, previous_close=Decimal(v))
        for s, v in (("NAN", "NaN"), ("ZERO", "0"), ("HUGE", "12345678901"))
    ]
    kept, dropped = without_bad_previous_closes(
        [good, *bad, Quote("NONE", Decimal(1), NOW)], Limits()
    )
    assert kept[0] == good
    assert [(q.symbol, q.price, q.previous_close) for q in kept[1:]] == [
        ("NAN", Decimal("10"), None),
        ("ZERO", Decimal("10"), None),
        ("HUGE", Decimal("10"), None),
        ("NONE", Decimal("1"), None),
    ]
    assert dropped == {
        "NAN": "previous close: price is not finite (NaN)",
        "ZERO": "previous close: price is not positive (0)",
        "HUGE": "previous close: price is absurd (12345678901 > 10000000)",
    }


@pytest.mark.parametrize(
    ("profile", "kind", "reason"),
    [
        (
            StockProfile("AAPL", "A" * 201),
            Kind.NAME,
            "company name is too long (201 characters > 200)",
        ),
        (StockProfile("AAPL", "Apple\x00"), Kind.NAME, "company name has control characters"),
        (StockProfile("AAPL", logo_url="/" + "a" * 1024), Kind.LOGO, "logo URL is too long"),
        (StockProfile("AAPL", source="s" * 33), Kind.MALFORMED, "source is too long"),
        (
            StockProfile("AAPL", week52_high=Decimal("1e12"), week52_low=Decimal(1)),
            Kind.ABSURD,
            "52-week band: price is absurd",
        ),
    ],
)
def test_every_profile_field_is_bounded_by_its_column(profile, kind, reason):
    limits = Limits(max_price=Decimal("1e15"))  # above the column: the column's bound holds
    problem = profile_problem(profile, limits, EXPECTED)
    assert problem is not None and problem.kind == kind and problem.message.startswith(reason)


def test_the_longest_name_and_the_smallest_price_the_columns_hold_pass():
    assert profile_problem(StockProfile("AAPL", "A" * 200), Limits(), EXPECTED) is None
    assert quote_problem(Quote("AAPL", Decimal("0.000001"), NOW), NOW, Limits(), EXPECTED) is None
    old = Quote("AAPL", Decimal("1"), datetime(1969, 12, 31, tzinfo=timezone.utc))
    assert "before 1970" in quote_problem(old, NOW, Limits(), EXPECTED).message
