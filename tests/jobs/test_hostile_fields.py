"""A hostile provider, one field at a time: its row is refused and logged, the others written.

A fake IEX-compatible server answers well for AAPL and MSFT and one hostile value
for EVIL; each poll runs on both databases (a value too long for its column failed
the whole metadata write on PostgreSQL, and SQLite stored 100 KB names).
"""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.models import Stock
from jobs.failures import RejectionKind as Kind
from jobs.poll import Poller, RunResult
from jobs.providers.registry import build_provider
from tests.db.helpers import count_ticks
from tests.fakes.iex_server import FakeIEX
from tests.jobs.helpers import iex_settings, serving

iex_server = serving(FakeIEX)
GOOD = ["AAPL", "MSFT"]
LONG_NAME = "M" * 100_000


def one_pass(fake: FakeIEX, sessions, database_url: str, caplog, kind: str) -> RunResult:
    """A poller on the fake for AAPL, MSFT and EVIL: one "prices" or "metadata" pass."""
    configured = iex_settings(fake, [*GOOD, "EVIL"], database_url)
    provider = build_provider(configured)
    try:
        poller = Poller(configured, provider, sessions)
        poller.sync_watchlist()
        with caplog.at_level(logging.INFO):
            return poller.poll_prices() if kind == "prices" else poller.poll_metadata()
    finally:
        provider.close()


def refusal_lines(caplog, symbol: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if symbol in r.getMessage() and r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    ("fields", "logo", "kind", "reason"),
    [
        ({"companyName": LONG_NAME}, None, Kind.NAME, "company name is too long (100,000"),
        ({"companyName": "Evil\x00Corp"}, None, Kind.NAME, "company name has control characters"),
        ({"companyName": "Evil\nINFO forged line"}, None, Kind.NAME, "control characters"),
        ({}, "https://x.test/" + "a" * 2000, Kind.LOGO, "logo URL is too long (2,015"),
        ({}, "javascript:alert(1)", Kind.LOGO, "logo URL must be http(s)"),
        ({"week52High": 1e15}, None, Kind.ABSURD, "52-week band: price is absurd"),
        ({"week52Low": 1e-9}, None, Kind.ABSURD, "52-week band: price is below the smallest"),
        ({"week52Low": -5}, None, Kind.NOT_POSITIVE, "52-week band: price is not positive"),
    ],
)
def test_a_hostile_profile_field_refuses_its_row_only(
    iex_server, sessions, database_url, caplog, fields, logo, kind, reason
):
    iex_server.add("EVIL", **fields)
    if logo is not None:
        iex_server.logos["EVIL"] = {"url": logo}
    result = one_pass(iex_server, sessions, database_url, caplog, "metadata")

    assert result.written == 2 and result.failed == {}
    assert list(result.rejected) == ["EVIL"] and result.rejected["EVIL"].kind == kind
    assert reason in str(result.rejected["EVIL"])
    (line,) = refusal_lines(caplog, "EVIL")
    assert line.exc_info is None and len(line.getMessage()) < 200
    with sessions() as session:
        names = dict(session.execute(select(Stock.symbol, Stock.company_name)).all())
    assert names == {
        "AAPL": "Apple Inc.",
        "MSFT": "Microsoft Corporation",
        "EVIL": None,
    }


@pytest.mark.parametrize(
    ("fields", "kind", "reason"),
    [
        ({"latestPrice": 1e15}, Kind.ABSURD, "price is absurd (1000000000000000.0 >"),
        ({"latestPrice": 1e-9}, Kind.ABSURD, "price is below the smallest step stored"),
        ({"latestUpdate": -1000}, Kind.ABSURD, "is before 1970"),
    ],
)
def test_a_hostile_price_field_refuses_its_row_only(
    iex_server, sessions, database_url, caplog, fields, kind, reason
):
    iex_server.add("EVIL", **fields)
    result = one_pass(iex_server, sessions, database_url, caplog, "prices")

    assert result.written == 2 and result.failed == {}
    assert result.rejected["EVIL"].kind == kind and reason in str(result.rejected["EVIL"])
    (line,) = refusal_lines(caplog, "EVIL")
    assert line.exc_info is None
    with sessions() as session:
        assert [count_ticks(session, s) for s in [*GOOD, "EVIL"]] == [1, 1, 0]


@pytest.mark.parametrize("previous", [1e15, 1e-9, -1])
def test_a_hostile_previous_close_is_dropped_and_its_price_kept(
    iex_server, sessions, database_url, caplog, previous
):
    iex_server.add("EVIL", price=12.5, previousClose=previous)
    result = one_pass(iex_server, sessions, database_url, caplog, "prices")

    assert (result.written, result.rejected, result.failed) == (3, {}, {})
    (line,) = refusal_lines(caplog, "EVIL")
    assert "previous close" in line.getMessage() and line.exc_info is None
    with sessions() as session:
        closes = dict(session.execute(select(Stock.symbol, Stock.previous_close)).all())
    assert closes["EVIL"] is None
    assert closes["AAPL"] == Decimal("174.47")
