"""When the market trades: one object answers it for the simulated market, readiness and the page.

US equities trade by the New York Stock Exchange's calendar (exchange-calendars'
XNYS: 09:30-16:00 New York on trading days, holidays closed, half days to 13:00);
the default simulated market trades around the clock, so a demo moves on
weekends too, and counts a New York calendar day as its session.
"""

from __future__ import annotations

import warnings
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import cache

import pandas as pd

from core.times import NEW_YORK

CALENDAR = "XNYS"
# Sessions are built once for these years: about 25,000 of them in 0.2 s, then every
# question is a bisection of two sorted lists (a microsecond, per poll and per probe).
FIRST_DAY, LAST_DAY = "2000-01-01", "2099-12-31"
SECOND = timedelta(seconds=1)
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # English, whatever the locale


@dataclass(frozen=True)
class MarketStatus:
    """Whether the market trades now, and the line the page shows about it."""

    open: bool
    text: str


@dataclass(frozen=True)
class Sessions:
    """Each session's open and close as UTC epoch seconds, both ascending."""

    opens: list[int]
    closes: list[int]

    def latest(self, at: datetime) -> int:
        """The index of the latest session that opened at or before `at`."""
        i = bisect_right(self.opens, at.timestamp()) - 1
        if i < 0 or i + 1 >= len(self.opens):
            raise ValueError(f"{at.isoformat()} is outside the {CALENDAR} calendar we build")
        return i


@cache
def us_sessions() -> Sessions:
    """The XNYS sessions, built on first use (nothing happens at import)."""
    import exchange_calendars  # imported here: it takes a quarter of a second

    with warnings.catch_warnings():
        # Its own use of a pandas API that pandas 3 deprecates; nothing we can act on.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
        calendar = exchange_calendars.get_calendar(CALENDAR, start=FIRST_DAY, end=LAST_DAY)
    epoch, second = pd.Timestamp(0, tz="UTC"), pd.Timedelta(seconds=1)
    return Sessions(
        opens=((calendar.opens - epoch) // second).tolist(),
        closes=((calendar.closes - epoch) // second).tolist(),
    )


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _new_york_midnight(at: datetime) -> datetime:
    # Midnight is never skipped or repeated in New York: DST changes at 02:00.
    return day_start(at.astimezone(NEW_YORK).date())


def day_start(day: date) -> datetime:
    """New York midnight (UTC) opening a calendar day: the key of that trading day's bar."""
    return datetime.combine(day, time(0), NEW_YORK).astimezone(timezone.utc)


def trading_day_start(at: datetime) -> datetime:
    """The start (New York midnight, UTC) of the trading date `at` falls on: a daily bar's key.

    Sessions of both calendars lie inside one New York calendar day, so the New York
    date is the trading date, whatever the UTC date.
    """
    return _new_york_midnight(at)


@dataclass(frozen=True)
class TradingDay:
    """One session: its New York date, and its first and last trading second (UTC)."""

    day: date
    opens: datetime
    last_second: datetime


@dataclass(frozen=True)
class MarketHours:
    """A trading calendar: around the clock, or the New York Stock Exchange's."""

    around_the_clock: bool = False

    def is_open(self, at: datetime) -> bool:
        """Whether the market trades at this instant."""
        if self.around_the_clock:
            return True
        sessions = us_sessions()
        return at.timestamp() < sessions.closes[sessions.latest(at)]

    def last_trade_time(self, at: datetime) -> datetime:
        """`at` to the second while open; otherwise the last second of the last session."""
        at = at.replace(microsecond=0)
        return at if self.is_open(at) else last_session_second(at)

    def session_open(self, at: datetime) -> datetime:
        """The open (UTC) of the session in progress, or when closed of the latest one opened."""
        if self.around_the_clock:
            return _new_york_midnight(at)
        sessions = us_sessions()
        return _utc(sessions.opens[sessions.latest(at)])

    def trading_days(self, first: date, last: date) -> list[TradingDay]:
        """The sessions whose New York date is in [first, last], oldest first."""
        if self.around_the_clock:
            days = (first + timedelta(days=i) for i in range((last - first).days + 1))
            return [
                TradingDay(d, day_start(d), day_start(d + timedelta(days=1)) - SECOND) for d in days
            ]
        sessions = us_sessions()
        lo = bisect_right(sessions.opens, day_start(first).timestamp() - 1)
        hi = bisect_right(sessions.opens, day_start(last + timedelta(days=1)).timestamp() - 1)
        return [
            TradingDay(
                _utc(sessions.opens[i]).astimezone(NEW_YORK).date(),
                _utc(sessions.opens[i]),
                _utc(sessions.closes[i]) - SECOND,
            )
            for i in range(lo, hi)
        ]

    def status(self, at: datetime, name: str = "Simulated market") -> MarketStatus:
        """Open or closed at `at`, and the header's line saying until when."""
        if self.around_the_clock:
            return MarketStatus(True, f"{name} · trades around the clock")
        sessions = us_sessions()
        i = sessions.latest(at)
        if at.timestamp() < sessions.closes[i]:
            close = _utc(sessions.closes[i]).astimezone(NEW_YORK)
            return MarketStatus(True, f"New York open · closes {close:%H:%M} ET")
        opens = _utc(sessions.opens[i + 1]).astimezone(NEW_YORK)
        today = opens.date() == at.astimezone(NEW_YORK).date()
        day = "" if today else f"{DAY_NAMES[opens.weekday()]} "
        return MarketStatus(False, f"Closed · opens {day}{opens:%H:%M} ET")


ALWAYS_OPEN = MarketHours(around_the_clock=True)
US_EQUITIES = MarketHours()


def last_session_second(at: datetime) -> datetime:
    """The last second of the latest US session that closed at or before `at` (UTC)."""
    closes = us_sessions().closes
    j = bisect_right(closes, at.timestamp()) - 1
    if j < 0:
        raise ValueError(f"{at.isoformat()} is before the first session of the calendar we build")
    return _utc(closes[j]) - timedelta(seconds=1)
