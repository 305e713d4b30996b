"""The poller's metrics: each failure and rejection counted under its kind's label."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from prometheus_client import CollectorRegistry

from core.records import Quote, StockProfile
from jobs.failures import Failure, FailureKind, ProviderError
from jobs.metrics import PollerMetrics
from jobs.validate import Limits, profile_problem, quote_problem

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)
ASKED = frozenset({"AAPL"})
QUOTES = [
    (Quote("AAPL", None, NOW), "missing"),
    (Quote("AAPL", Decimal("NaN"), NOW), "not_finite"),
    (Quote("AAPL", Decimal("0"), NOW), "not_positive"),
    (Quote("AAPL", Decimal("1e12"), NOW), "absurd"),
    (Quote("AAPL", Decimal("1"), None), "missing"),
    (Quote("AAPL", Decimal("1"), NOW.replace(tzinfo=None)), "time_zone"),
    (Quote("AAPL", Decimal("1"), NOW + timedelta(hours=1)), "future"),
    (Quote("aapl;", Decimal("1"), NOW), "malformed"),
    (Quote("MSFT", Decimal("1"), NOW), "not_asked"),
]
PROFILES = [
    (dict(symbol="MSFT"), "malformed"),
    (dict(logo_url="javascript:x"), "logo"),
    (dict(week52_high=Decimal(1)), "52-week"),
    (dict(week52_high=Decimal("NaN"), week52_low=Decimal(1)), "not_finite"),
    (dict(week52_high=Decimal(2), week52_low=Decimal(0)), "not_positive"),
    (dict(week52_high=Decimal("1e12"), week52_low=Decimal(1)), "absurd"),
    (dict(week52_high=Decimal(1), week52_low=Decimal(2)), "52-week"),
]


def test_every_rejection_is_counted_under_the_label_it_always_had():
    registry = CollectorRegistry()
    rejected = [quote_problem(q, NOW, Limits(), ASKED) for q, _ in QUOTES]
    fields = [{"symbol": "AAPL", **p} for p, _ in PROFILES]
    rejected += [profile_problem(StockProfile(**f), Limits(), ASKED) for f in fields]
    PollerMetrics(registry).record("prices", 0, 0, rejected, [], 0.1)
    expected: dict[str, int] = {}
    for _, label in QUOTES + PROFILES:
        expected[label] = expected.get(label, 0) + 1
    counted = {
        s.labels["reason"]: s.value
        for metric in registry.collect()
        for s in metric.samples
        if s.name == "stockstreamer_rejections_total"
    }
    assert counted == expected


def test_failures_are_counted_by_kind_and_a_refusal_by_one_label_whatever_its_status():
    registry = CollectorRegistry()
    failed = [
        ProviderError(FailureKind.HTTP_4XX, "GET /x answered 404: ''", status=404).failure("A"),
        ProviderError(FailureKind.HTTP_4XX, "GET /x answered 400: ''", status=400).failure("B"),
        Failure(FailureKind.TIMEOUT, "C", "GET /x timed out"),
    ]
    PollerMetrics(registry).record("prices", 0, 0, [], failed, 0.1)
    assert [str(f) for f in failed[:2]] == [
        "http_404: GET /x answered 404: ''",
        "http_400: GET /x answered 400: ''",
    ]
    sample = registry.get_sample_value
    assert sample("stockstreamer_fetch_errors_total", {"kind": "http_4xx"}) == 2
    assert sample("stockstreamer_fetch_errors_total", {"kind": "timeout"}) == 1
