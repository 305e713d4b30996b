"""US equity trading hours: 09:30-16:00 America/New_York on weekdays (holidays not modelled)."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
OPEN, CLOSE = time(9, 30), time(16, 0)


def us_market_open(at: datetime) -> bool:
    """Whether US equities trade at this instant."""
    local = at.astimezone(NEW_YORK)
    return local.weekday() < 5 and OPEN <= local.time() < CLOSE


def last_session_second(at: datetime) -> datetime:
    """The last second of the latest session that closed at or before `at` (UTC)."""
    local = at.astimezone(NEW_YORK)
    day = local.date()
    if local.time() < CLOSE:
        day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    close = datetime.combine(day, CLOSE, NEW_YORK) - timedelta(seconds=1)
    return close.astimezone(timezone.utc)
