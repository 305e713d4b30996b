"""Poll runs against a real database: results, totals, backfill and the metadata pass."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from core.records import Quote, StockProfile
from db.models import PriceBar, Stock
from db.queries import latest_observation
from jobs.failures import Failure, FailureKind, RejectionKind
from jobs.metrics import PollerMetrics
from jobs.poll import Poller
from jobs.providers.base import Fetched, Provider
from jobs.providers.simulated import SimulatedMarket
from tests.db.helpers import count_ticks, watched_stocks
from tests.jobs import helpers

NOW = datetime(2026, 11, 25, 18, 30, 0, tzinfo=timezone.utc)
TIMED_OUT = Failure(FailureKind.TIMEOUT, "NVDA", "GET /stock/market/batch timed out")


def settings(**overrides):
    values = dict(symbols="AAPL,GE,NVDA", history_days=1, backfill_step=300)
    values.update(overrides)
    return helpers.settings(**values)


class ScriptedProvider(Provider):
    """A provider answering what the test scripted: odd cases a real one rarely gives."""

    name = "scripted"

    def __init__(self, quotes=(), failures=None, profiles=()):
        self.quotes, self.failures, self.profiles = (
            list(quotes),
            dict(failures or {}),
            list(profiles),
        )

    def fetch_quotes(self, symbols):
        return Fetched(list(self.quotes), dict(self.failures))

    def fetch_profiles(self, symbols):
        return Fetched(list(self.profiles), dict(self.failures))


def test_a_price_run_writes_each_symbol_and_then_counts_duplicates(sessions):
    registry = CollectorRegistry()
    poller = Poller(
        settings(),
        SimulatedMarket(clock=lambda: NOW),
        sessions,
        clock=lambda: NOW,
        metrics=PollerMetrics(registry),
    )
    poller.sync_watchlist()
    first = poller.poll_prices()
    again = poller.poll_prices()
    assert (first.written, first.duplicates, first.rejected, first.failed) == (3, 0, {}, {})
    assert (again.written, again.duplicates) == (0, 3)
    assert not first.all_failed
    assert registry.get_sample_value("stockstreamer_prices_written_total") == 3
    assert registry.get_sample_value("stockstreamer_duplicates_skipped_total") == 3
    with sessions() as session:
        assert latest_observation(session, ["AAPL", "GE", "NVDA"]) == dict.fromkeys(
            ["AAPL", "GE", "NVDA"], NOW
        )
        assert [s.symbol for s in watched_stocks(session)] == ["AAPL", "GE", "NVDA"]


def test_rejected_and_failed_symbols_never_drop_the_others(sessions):
    provider = ScriptedProvider(
        quotes=[
            Quote("AAPL", Decimal("174.97"), NOW),
            Quote("GE", Decimal("NaN"), NOW),
            Quote("GE", Decimal("-1"), NOW + timedelta(seconds=1)),
        ],
        failures={"NVDA": TIMED_OUT},
    )
    result = Poller(settings(), provider, sessions, clock=lambda: NOW).poll_prices()
    assert result.written == 1
    assert set(result.rejected) == {"GE"}
    assert result.failed == {"NVDA": TIMED_OUT}
    assert result.report()["failed"] == {"NVDA": "timeout: GET /stock/market/batch timed out"}
    with sessions() as session:
        assert count_ticks(session) == 1 and count_ticks(session, "AAPL") == 1


def test_everything_failing_is_reported_as_such(sessions):
    provider = ScriptedProvider(
        failures={s: Failure(FailureKind.CONNECT, s, "refused") for s in ("AAPL", "GE", "NVDA")}
    )
    result = Poller(settings(), provider, sessions, clock=lambda: NOW).poll_prices()
    assert result.all_failed and result.written == 0 and len(result.failed) == 3


def test_an_unreachable_database_is_a_counted_failure_not_a_crash(engine):
    broken = Poller(
        settings(symbols="AAPL"),
        ScriptedProvider(quotes=[Quote("AAPL", Decimal("1"), NOW)]),
        _sessions_on_missing_database(engine),
        clock=lambda: NOW,
    )
    result = broken.poll_prices()
    assert result.all_failed and str(result.failed["AAPL"]).startswith("database: ")
    assert result.failed["AAPL"].kind == FailureKind.DATABASE


def _sessions_on_missing_database(engine):
    from db.engine import make_engine, make_session_factory

    url = engine.url.set(database=engine.url.database + "_missing")
    if engine.dialect.name == "sqlite":
        url = engine.url.set(database="/nonexistent-dir/missing.sqlite")
    return make_session_factory(make_engine(url))


def test_backfill_writes_each_symbol_s_history_once_even_after_its_first_live_price(sessions):
    poller = Poller(settings(), SimulatedMarket(clock=lambda: NOW), sessions, clock=lambda: NOW)
    poller.sync_watchlist()
    # GE's live price came first (prices never wait for history): its day comes after.
    Poller(
        settings(symbols="GE"), SimulatedMarket(clock=lambda: NOW), sessions, clock=lambda: NOW
    ).poll_prices()
    first = poller.backfill()
    # One day at 300 s, both ends included, for each of the three; GE's NOW is stored already.
    assert (first.written, first.duplicates) == (3 * (24 * 12 + 1) - 1, 1)
    second = poller.backfill()
    assert (second.written, second.duplicates) == (0, 0)
    with sessions() as session:
        assert count_ticks(session, "GE") == 24 * 12 + 1
        assert count_ticks(session, "AAPL") == 24 * 12 + 1
        minutes = session.scalar(select(func.sum(PriceBar.tick_count)).where(PriceBar.width == 60))
        assert minutes == count_ticks(session)


def test_metadata_run_stores_profiles_and_rejects_bad_logos(sessions):
    provider = ScriptedProvider(
        profiles=[
            StockProfile(
                "AAPL",
                "Apple Inc.",
                "https://x.test/aapl.png",
                Decimal("260"),
                Decimal("160"),
                "scripted",
            ),
            StockProfile(
                "GE",
                "GE Aerospace",
                "javascript:alert(1)",
                Decimal("300"),
                Decimal("200"),
                "scripted",
            ),
        ]
    )
    result = Poller(settings(), provider, sessions, clock=lambda: NOW).poll_metadata()
    assert result.written == 1 and "logo" in str(result.rejected["GE"])
    assert result.rejected["GE"].kind == RejectionKind.LOGO
    with sessions() as session:
        apple, ge = session.get(Stock, "AAPL"), session.get(Stock, "GE")
        assert (apple.company_name, apple.week52_high, apple.week52_updated_at) == (
            "Apple Inc.",
            Decimal("260"),
            NOW,
        )
        assert ge is None or ge.logo_url is None


def test_previous_closes_are_stored_with_the_prices_and_a_bad_one_is_dropped(sessions, caplog):
    provider = ScriptedProvider(
        quotes=[
            Quote("AAPL", Decimal("174.97"), NOW, previous_close=Decimal("170.5")),
            Quote("GE", Decimal("18.21"), NOW, previous_close=Decimal("-2")),
            Quote("NVDA", Decimal("216.96"), NOW),
        ]
    )
    poller = Poller(settings(), provider, sessions, clock=lambda: NOW)
    result = poller.poll_prices()
    assert (result.written, result.rejected) == (3, {})
    assert "kept GE without its previous close: price is not positive (-2)" in caplog.text
    # An older observation never replaces a newer one.
    earlier = NOW - timedelta(minutes=1)
    provider.quotes = [Quote("AAPL", Decimal("174"), earlier, previous_close=Decimal("1"))]
    assert poller.poll_prices().written == 1
    with sessions() as session:
        stored = {
            s.symbol: (s.previous_close, s.previous_close_at)
            for s in session.scalars(select(Stock))
        }
    assert stored == {"AAPL": (Decimal("170.5"), NOW), "GE": (None, None), "NVDA": (None, None)}
