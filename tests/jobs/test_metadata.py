"""Metadata in bounded batches: one fetch and one short transaction per METADATA_BATCH symbols."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select

from core.records import StockProfile
from db.models import Stock
from jobs.failures import FailureKind, ProviderError
from jobs.poll import METADATA_BATCH, Poller
from jobs.providers.base import Fetched, Provider
from tests.jobs import helpers
from tests.jobs.helpers import CountingFence

NOW = datetime(2026, 11, 25, 18, 30, 0, tzinfo=timezone.utc)
SYMBOLS = [f"S{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(2 * METADATA_BATCH + 20)]


class Profiles(Provider):
    """Names and bands for any symbol, each request recorded; the n-th one refused (429)."""

    name = "profiles"

    def __init__(self, refuse: int | None = None) -> None:
        self.asked: list[list[str]] = []
        self.refuse = refuse

    def fetch_quotes(self, symbols):
        return Fetched([], {})

    def fetch_profiles(self, symbols):
        self.asked.append(list(symbols))
        if len(self.asked) == self.refuse:
            raise ProviderError(FailureKind.RATE_LIMITED, "429 Too Many Requests")
        # Cheap, unlike the simulated market's 52-week bands (~25 ms a symbol).
        band = (Decimal("20"), Decimal("10"), self.name)
        return Fetched([StockProfile(s, f"{s} Inc.", None, *band) for s in symbols], {})


def poller(sessions, provider: Provider, fence: CountingFence) -> Poller:
    configured = helpers.settings(symbols=",".join(SYMBOLS), history_days=0)
    made = Poller(configured, provider, sessions, clock=lambda: NOW, fence=fence)
    made.sync_watchlist()  # one transaction
    return made


def named(sessions) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(Stock.symbol).where(Stock.company_name.is_not(None))))


def test_each_batch_is_fetched_and_written_on_its_own(sessions):
    provider, fence = Profiles(), CountingFence()
    result = poller(sessions, provider, fence).poll_metadata()
    assert [len(asked) for asked in provider.asked] == [METADATA_BATCH, METADATA_BATCH, 20]
    assert fence.count == 1 + 3  # the watchlist's, then one per batch
    assert result.written == len(SYMBOLS) and not result.failed
    assert named(sessions) == set(SYMBOLS)


def test_a_refused_request_fails_the_symbols_not_yet_stored_and_keeps_the_others(sessions):
    provider = Profiles(refuse=2)
    result = poller(sessions, provider, CountingFence()).poll_metadata()
    assert len(provider.asked) == 2  # no request after the refusal
    assert result.written == METADATA_BATCH and named(sessions) == set(SYMBOLS[:METADATA_BATCH])
    assert set(result.failed) == set(SYMBOLS[METADATA_BATCH:])
    assert helpers.kinds(result.failed) == {FailureKind.RATE_LIMITED}


def test_a_refused_write_fails_that_batch_and_the_rest_and_keeps_what_was_committed(sessions):
    fence = CountingFence(refuse=1 + 2)  # the second batch's transaction
    result = poller(sessions, Profiles(), fence).poll_metadata()
    assert result.written == METADATA_BATCH and named(sessions) == set(SYMBOLS[:METADATA_BATCH])
    assert set(result.failed) == set(SYMBOLS[METADATA_BATCH:])
    assert helpers.kinds(result.failed) == {FailureKind.NOT_LEADER}
