"""When the market trades: one object answers it for the simulated market, readiness and the page.

US equities trade 09:30-16:00 America/New_York on weekdays (holidays are not
modelled); the default simulated market trades around the clock, so a demo
moves on weekends too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from core.times import NEW_YORK

OPEN, CLOSE = time(9, 30), time(16, 0)


@dataclass(frozen=True)
class MarketHours:
    """A trading calendar: around the clock, or US equity hours."""

    around_the_clock: bool = False

    def is_open(self, at: datetime) -> bool:
        """Whether the market trades at this instant."""
        if self.around_the_clock:
            return True
        local = at.astimezone(NEW_YORK)
        return local.weekday() < 5 and OPEN <= local.time() < CLOSE

    def last_trade_time(self, at: datetime) -> datetime:
        """`at` to the second while open; otherwise the last second of the last session."""
        at = at.replace(microsecond=0)
        return at if self.is_open(at) else last_session_second(at)


ALWAYS_OPEN = MarketHours(around_the_clock=True)
US_EQUITIES = MarketHours()


def last_session_second(at: datetime) -> datetime:
    """The last second of the latest US session that closed at or before `at` (UTC)."""
    local = at.astimezone(NEW_YORK)
    day = local.date()
    if local.time() < CLOSE:
        day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    close = datetime.combine(day, CLOSE, NEW_YORK) - timedelta(seconds=1)
    return close.astimezone(timezone.utc)
