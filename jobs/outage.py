"""Prices fetched while the database cannot take them: held in order, bounded, written later.

Only errors that say the database is unreachable or not answering start holding
(a refused connection, a dropped one, a pool or statement timeout): a bad row would
fail again on every retry and must not keep the rest waiting. Writes are
idempotent, so prices held by two processes are stored once.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from itertools import groupby

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.records import Quote
from db.deadlines import DatabaseNotAnswering

log = logging.getLogger(__name__)


def is_outage(exc: BaseException) -> bool:
    """Whether a database error means "cannot reach or use the database now"."""
    unreachable = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
    if isinstance(exc, (*unreachable, DatabaseNotAnswering)):  # the last: found hung just now
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def capacity_for(seconds: float, price_interval: float, symbols: int) -> int:
    """How many prices `seconds` of an outage bring: a price per symbol per interval."""
    return max(1, math.ceil(seconds / price_interval)) * max(1, symbols)


class OutageBuffer:
    """Quotes not yet stored, oldest first, at most `capacity`; past it the oldest go."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._held: OrderedDict[tuple[str, datetime], tuple[Quote, datetime]] = OrderedDict()
        self.dropped = 0  # since the outage began
        self.since: datetime | None = None  # when the first price was held

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, quotes: list[Quote], fetched_at: datetime) -> int:
        """Keep `quotes` (a repeat of one held is kept once); returns how many old ones went."""
        if self.since is None:
            self.since = fetched_at
        for quote in quotes:
            self._held.setdefault((quote.symbol, quote.observed_at), (quote, fetched_at))
        dropped = 0
        while len(self._held) > self.capacity:
            self._held.popitem(last=False)
            dropped += 1
        if dropped and not self.dropped:
            log.warning(
                "prices: outage buffer full (%d prices): dropping the oldest from now on; "
                "the provider's history fills them in when the database is back",
                self.capacity,
            )
        self.dropped += dropped
        return dropped

    def batches(self) -> Iterator[tuple[datetime, list[Quote]]]:
        """The held quotes in order, grouped by the time they were fetched."""
        for fetched_at, group in groupby(self._held.values(), key=lambda held: held[1]):
            yield fetched_at, [quote for quote, _ in group]

    def holds(self, quote: Quote) -> bool:
        """Whether `quote` is waiting here already."""
        return (quote.symbol, quote.observed_at) in self._held

    def clear(self) -> None:
        """Everything held is stored: the outage is over."""
        self._held.clear()
        self.dropped = 0
        self.since = None
