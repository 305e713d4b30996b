"""Market hours: the NYSE calendar (weekends, holidays, half days, DST) and around the clock."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from core.market import (
    ALWAYS_OPEN,
    US_EQUITIES,
    MarketStatus,
    last_session_second,
)
from core.times import NEW_YORK

UTC = timezone.utc


def ny(*args: int) -> datetime:
    """A New York wall-clock time as an aware datetime."""
    return datetime(*args, tzinfo=NEW_YORK)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_weekend_is_closed_and_points_to_monday():
    saturday = ny(2026, 12, 5, 12, 0)
    assert not US_EQUITIES.is_open(saturday)
    assert US_EQUITIES.status(saturday) == MarketStatus(False, "Closed · opens Mon 09:30 ET")
    assert US_EQUITIES.session_open(saturday) == ny(2026, 12, 4, 9, 30)
    assert US_EQUITIES.last_trade_time(saturday) == ny(2026, 12, 4, 15, 59, 59)


@pytest.mark.parametrize(
    ("holiday", "before", "after"),
    [
        (ny(2026, 11, 26, 11, 0), ny(2026, 11, 25), "Fri"),  # Thanksgiving
        (ny(2026, 7, 3, 11, 0), ny(2026, 7, 2), "Mon"),  # Independence Day, observed
    ],
)
def test_a_holiday_is_closed(holiday, before, after):
    assert not US_EQUITIES.is_open(holiday)
    assert US_EQUITIES.status(holiday).text == f"Closed · opens {after} 09:30 ET"
    assert US_EQUITIES.session_open(holiday) == before.replace(hour=9, minute=30)
    assert US_EQUITIES.last_trade_time(holiday) == before.replace(hour=15, minute=59, second=59)


def test_the_day_after_thanksgiving_closes_at_one():
    assert US_EQUITIES.status(ny(2026, 11, 27, 10, 0)) == MarketStatus(
        True, "New York open · closes 13:00 ET"
    )
    assert US_EQUITIES.is_open(ny(2026, 11, 27, 12, 59, 59))
    assert not US_EQUITIES.is_open(ny(2026, 11, 27, 13, 0))
    assert not US_EQUITIES.is_open(ny(2026, 11, 27, 13, 30))
    assert US_EQUITIES.status(ny(2026, 11, 27, 13, 30)).text == "Closed · opens Mon 09:30 ET"
    assert last_session_second(ny(2026, 11, 28, 10, 0)) == ny(2026, 11, 27, 12, 59, 59)
    # an ordinary day closes at four
    assert US_EQUITIES.status(ny(2026, 11, 30, 15, 59)).text == "New York open · closes 16:00 ET"
    assert not US_EQUITIES.is_open(ny(2026, 11, 30, 16, 0))


def test_before_the_open_the_status_says_today_without_a_day_name():
    assert US_EQUITIES.status(ny(2026, 12, 1, 8, 0)) == MarketStatus(
        False, "Closed · opens 09:30 ET"
    )
    assert US_EQUITIES.status(ny(2026, 11, 30, 17, 0)).text == "Closed · opens Tue 09:30 ET"


@pytest.mark.parametrize(
    ("at", "opened"),
    [
        (ny(2026, 12, 1, 9, 30), ny(2026, 12, 1, 9, 30)),  # the open itself starts the session
        (ny(2026, 12, 1, 15, 0), ny(2026, 12, 1, 9, 30)),
        (ny(2026, 12, 1, 9, 29, 59), ny(2026, 11, 30, 9, 30)),  # before the open: yesterday's
        (ny(2026, 12, 1, 0, 0), ny(2026, 11, 30, 9, 30)),  # across midnight
        (ny(2026, 11, 30, 0, 30), ny(2026, 11, 27, 9, 30)),  # across the weekend
        (ny(2026, 11, 27, 8, 0), ny(2026, 11, 25, 9, 30)),  # across Thanksgiving
    ],
)
def test_session_open_is_the_latest_session_that_has_opened(at, opened):
    assert US_EQUITIES.session_open(at) == opened
    assert US_EQUITIES.session_open(at).tzinfo == UTC


def test_around_the_clock_a_session_is_a_new_york_day():
    for at in (utc(2026, 11, 28, 3, 0), ny(2026, 11, 26, 11, 0), ny(2026, 12, 5, 23, 59, 59)):
        assert ALWAYS_OPEN.is_open(at)
        assert ALWAYS_OPEN.session_open(at) == datetime.combine(
            at.astimezone(NEW_YORK).date(), datetime.min.time(), NEW_YORK
        )
    # 03:00 UTC is still the evening before in New York
    assert ALWAYS_OPEN.session_open(utc(2026, 11, 28, 3, 0)) == utc(2026, 11, 27, 5, 0)
    at = utc(2026, 11, 28, 3, 0, 7, 500)
    assert ALWAYS_OPEN.last_trade_time(at) == utc(2026, 11, 28, 3, 0, 7)
    assert ALWAYS_OPEN.status(at) == MarketStatus(
        True, "Simulated market · trades around the clock"
    )
    assert ALWAYS_OPEN.status(at, name="Demo").text == "Demo · trades around the clock"


@pytest.mark.parametrize(
    ("day", "open_utc", "midnight_utc"),
    [
        (ny(2026, 3, 6), utc(2026, 3, 6, 14, 30), utc(2026, 3, 6, 5)),  # the Friday before, EST
        (ny(2026, 3, 8), None, utc(2026, 3, 8, 5)),  # clocks go forward at 02:00: still EST
        (ny(2026, 3, 9), utc(2026, 3, 9, 13, 30), utc(2026, 3, 9, 4)),  # the Monday after, EDT
        (ny(2026, 10, 30), utc(2026, 10, 30, 13, 30), utc(2026, 10, 30, 4)),  # EDT
        (ny(2026, 11, 1), None, utc(2026, 11, 1, 4)),  # clocks go back at 02:00: still EDT
        (ny(2026, 11, 2), utc(2026, 11, 2, 14, 30), utc(2026, 11, 2, 5)),  # EST again
    ],
)
def test_daylight_saving_changes_move_the_open_in_utc(day, open_utc, midnight_utc):
    noon = day.replace(hour=12)
    assert ALWAYS_OPEN.session_open(noon) == midnight_utc
    if open_utc is None:  # a Sunday
        assert not US_EQUITIES.is_open(noon)
        return
    assert US_EQUITIES.session_open(noon) == open_utc
    assert US_EQUITIES.is_open(open_utc)
    assert not US_EQUITIES.is_open(open_utc - timedelta(seconds=1))
    assert US_EQUITIES.status(open_utc - timedelta(minutes=1)).text == "Closed · opens 09:30 ET"


def test_times_outside_the_calendar_are_a_clear_error():
    with pytest.raises(ValueError, match="outside the XNYS calendar"):
        US_EQUITIES.is_open(utc(1990, 1, 2, 15))


def test_nothing_is_built_at_import():
    code = "import sys, core.market; print('exchange_calendars' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_question_costs_microseconds_once_the_calendar_is_built():
    US_EQUITIES.is_open(utc(2026, 11, 30, 15))  # builds the calendar
    started = time.perf_counter()
    for minute in range(10_000):
        at = utc(2026, 11, 30) + timedelta(minutes=minute)
        US_EQUITIES.is_open(at)
        US_EQUITIES.session_open(at)
    # About 3 µs a pair here; a calendar method call would take tens of microseconds.
    assert time.perf_counter() - started < 0.5


def test_trading_days_are_new_york_dates_with_their_first_and_last_second():
    from datetime import date

    from core.market import day_start, trading_day_start

    thanksgiving_week = US_EQUITIES.trading_days(date(2026, 11, 23), date(2026, 11, 29))
    assert [d.day.day for d in thanksgiving_week] == [23, 24, 25, 27]  # closed Thu, half Fri
    friday = thanksgiving_week[-1]
    assert (friday.opens, friday.last_second) == (
        utc(2026, 11, 27, 14, 30),
        utc(2026, 11, 27, 17, 59, 59),
    )
    # Around the clock a session is a New York calendar day, 23 or 25 hours at the changes.
    spring = ALWAYS_OPEN.trading_days(date(2026, 3, 8), date(2026, 3, 8))[0]
    assert (spring.opens, spring.last_second) == (utc(2026, 3, 8, 5), utc(2026, 3, 9, 3, 59, 59))
    assert day_start(date(2026, 7, 14)) == utc(2026, 7, 14, 4)
    assert trading_day_start(utc(2026, 7, 14, 3, 59)) == utc(2026, 7, 13, 4)
    assert trading_day_start(utc(2026, 12, 2, 4, 59)) == utc(2026, 12, 1, 5)
