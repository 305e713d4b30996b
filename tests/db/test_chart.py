"""Chart reads: epoch ms computed by each database, tick or minute resolution, newer-than-T."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from core.market import day_start
from core.records import DailyBar, Quote
from core.retention import TICKS, Retention
from core.times import NEW_YORK, to_ms
from db.chart import (
    chart_stocks,
    finest_fitting,
    read_after,
    read_window,
    resolution_for,
    ticks_in_window,
)
from db.daily import write_daily_bars
from db.engine import unit_of_work
from db.watchlist import sync_watchlist
from db.writes import write_quotes

T0 = datetime(2026, 11, 27, 15, 0, 0, 250000, tzinfo=timezone.utc)


def seed(sessions, count: int, step: float = 5.0) -> list[Quote]:
    quotes = [
        Quote("AAPL", Decimal("100") + Decimal(i) / 100, T0 + timedelta(seconds=i * step))
        for i in range(count)
    ]
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "GE"])
        write_quotes(session, quotes, T0)
    return quotes


def test_a_small_window_reads_every_tick_with_exact_times(sessions):
    quotes = seed(sessions, 30)
    with sessions() as session:
        points = read_window(session, ["AAPL", "GE"], T0, T0 + timedelta(hours=1), budget=100)
    assert points["AAPL"].resolution == "tick"
    assert points["AAPL"].times == [to_ms(q.observed_at) for q in quotes]
    assert points["AAPL"].prices == [float(q.price) for q in quotes]
    assert points["GE"].times == []


def test_a_large_window_reads_one_close_per_minute(sessions):
    quotes = seed(sessions, 12 * 10)  # ten minutes at 5 s
    with sessions() as session:
        assert ticks_in_window(
            session, ["AAPL"], T0 - timedelta(minutes=1), T0 + timedelta(hours=1)
        ) == {"AAPL": 120}
        points = read_window(
            session, ["AAPL"], T0 - timedelta(minutes=1), T0 + timedelta(hours=1), 100
        )
    assert points["AAPL"].resolution == "minute"
    closes = {}
    for q in quotes:  # the last tick of each minute
        closes[q.observed_at.replace(second=0, microsecond=0)] = q
    assert points["AAPL"].times == [to_ms(q.observed_at) for q in closes.values()]
    assert points["AAPL"].prices == [float(q.price) for q in closes.values()]


def test_read_after_returns_only_newer_ticks_per_symbol(sessions):
    quotes = seed(sessions, 10)
    with sessions() as session:
        newer = read_after(session, {"AAPL": quotes[6].observed_at, "GE": T0})
        capped = read_after(session, {"AAPL": T0 - timedelta(days=1)}, limit=4)
    assert newer["AAPL"].times == [to_ms(q.observed_at) for q in quotes[7:]]
    assert newer["GE"].times == []
    assert capped["AAPL"].times == [to_ms(q.observed_at) for q in quotes[:4]]  # oldest first


def test_chart_stocks_are_the_watched_ones_with_their_slots(sessions):
    seed(sessions, 1)
    with sessions() as session:
        stocks = chart_stocks(session)
    assert [(s.symbol, s.color_slot) for s in stocks] == [("AAPL", 0), ("GE", 1)]
    assert stocks[0].week52_high is None and stocks[0].logo_url is None


def test_the_finest_rollup_that_fits_the_budget_is_chosen():
    week = (T0 - timedelta(days=7), T0)
    assert resolution_for(*week, 2_000) == 300  # 2,016 five-minute bars
    assert resolution_for(*week, 833) == 300  # 2,016 ≤ 2.5 × 833: read, then downsampled
    assert resolution_for(*week, 800) == 3600  # 168 hourly bars (many stocks)
    assert resolution_for(T0 - timedelta(hours=83), T0, 2_000) == 60  # 4,980 minutes
    assert resolution_for(T0 - timedelta(hours=84), T0, 2_000) == 300  # 5,040 > 5,000
    assert resolution_for(T0 - timedelta(days=1), T0, 200) == 300  # 288 five-minute bars
    assert resolution_for(T0 - timedelta(days=400), T0, 2_000) == 86400  # 400 daily bars
    assert resolution_for(T0 - timedelta(days=30), T0, 2_000) == 3600  # 720 hourly bars
    assert resolution_for(T0 - timedelta(days=5 * 366), T0, 800) == 86400  # 1,830 days
    assert resolution_for(T0 - timedelta(days=50 * 366), T0, 800) == 86400  # the coarsest, capped


def test_a_week_reads_five_minute_closes_and_a_budget_of_few_reads_hours(sessions):
    quotes = seed(sessions, 12 * 60 * 3, step=5.0)  # three hours at 5 s
    start = T0 - timedelta(days=6, hours=23)  # a week's window that ends after the data
    end = T0 + timedelta(hours=3)
    with sessions() as session:
        fives = read_window(session, ["AAPL"], start, end, 2_000)["AAPL"]
        hours = read_window(session, ["AAPL"], start, end, 400)["AAPL"]
    assert fives.resolution == "5 minutes" and hours.resolution == "hour"
    by_five, by_hour = {}, {}
    for q in quotes:  # the last tick of each bar
        stamp = int(q.observed_at.timestamp())
        by_five[stamp // 300] = q
        by_hour[stamp // 3600] = q
    assert fives.times == [to_ms(q.observed_at) for q in by_five.values()]
    assert fives.prices == [float(q.price) for q in by_five.values()]
    assert hours.times == [to_ms(q.observed_at) for q in by_hour.values()]


def test_long_ranges_read_the_finest_level_retention_still_holds(sessions):
    """1M reads hours, 6M, 1Y and 5Y days (years of daily history), the live edge the last tick."""
    now = T0
    history = [
        DailyBar(
            "AAPL",
            d,
            Decimal("50"),
            Decimal("52"),
            Decimal("49"),
            Decimal(50 + k % 7),
            day_start(d) + timedelta(hours=14, minutes=30),
            day_start(d) + timedelta(hours=20, minutes=59, seconds=59),
        )
        for k, d in enumerate(date(2021, 11, 1) + timedelta(days=i) for i in range(1850))
    ]  # every day to 2026-11-24, the day before the ticks' first
    ticks = [
        Quote("AAPL", Decimal("60") + Decimal(i % 50) / 10, now - timedelta(minutes=i))
        for i in range(60 * 24 * 2)  # the last two days, every minute
    ]
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL"])
        write_quotes(session, ticks, now)
        assert write_daily_bars(session, history) == len(history)
    kept = Retention({TICKS: 30, 60: 365, 300: 1825, 3600: 1825}).kept_from(now)
    spans = {"1M": 30, "6M": 182, "1Y": 365, "5Y": 1826}
    with sessions() as session:
        read = {
            name: read_window(session, ["AAPL"], now - timedelta(days=d), now, 800, kept)["AAPL"]
            for name, d in spans.items()
        }
        # Hourly bars cut to 10 days: a month falls back to days rather than a partial month.
        short = Retention({TICKS: 1, 3600: 10, 300: 10, 60: 10}).kept_from(now)
        month = read_window(session, ["AAPL"], now - timedelta(days=30), now, 800, short)["AAPL"]
    assert read["1M"].resolution == "hour" and month.resolution == "day"
    assert {read[n].resolution for n in ("6M", "1Y", "5Y")} == {"day"}
    newest = to_ms(max(t.observed_at for t in ticks))
    for name, points in read.items():  # the live edge: the newest tick, from today's bar
        assert points.times[-1] == newest, name
    by_day = {to_ms(b.close_at): float(b.close) for b in history}
    today = now.astimezone(NEW_YORK).date()
    for name in ("6M", "1Y", "5Y"):  # a point a day, from the day the window starts in
        first = (now - timedelta(days=spans[name])).astimezone(NEW_YORK).date()
        assert len(read[name].times) == (today - first).days + 1, name
        assert read[name].times == sorted(read[name].times)
        old = list(zip(read[name].times[:-3], read[name].prices[:-3], strict=True))
        assert all(by_day[t] == p for t, p in old)  # the provider's closes, at their close


def test_a_month_with_a_week_of_hours_draws_its_older_weeks_from_daily_closes(sessions):
    """A fresh install: years of provider daily bars, a week of finer history."""
    end = T0
    week_ago = end - timedelta(days=7)
    hourly = [
        Quote("AAPL", Decimal("150") + Decimal(i % 7), week_ago + timedelta(minutes=30 * i))
        for i in range(7 * 48)
    ]
    days = [end.date() - timedelta(days=d) for d in range(40, 7, -1)]  # 40 to 8 days ago
    bars = [
        DailyBar(
            "AAPL",
            d,
            *(Decimal("120") + k,) * 4,
            *(
                datetime.combine(d, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=h)
                for h in (14, 21)
            ),
        )
        for k, d in enumerate(days)
    ]
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "GE"])
        write_daily_bars(session, bars)
        write_quotes(session, hourly, end)
    start = end - timedelta(days=30)
    with sessions() as session:
        points = read_window(session, ["AAPL", "GE"], start, end, budget=300)
    apple = points["AAPL"]
    assert apple.resolution == "hour"
    daily = [to_ms(b.close_at) for b in bars if b.close_at >= start]
    assert apple.times[: len(daily)] == daily  # the weeks before the hours, a close a day
    assert apple.prices[: len(daily)] == [float(b.close) for b in bars if b.close_at >= start]
    assert apple.times[len(daily)] > daily[-1] and apple.times == sorted(apple.times)
    hours = {int(q.observed_at.timestamp()) // 3600 for q in hourly}
    assert len(apple.times) == len(daily) + len(hours)  # then every hour's close
    assert points["GE"].times == []
    with sessions() as session:  # a week is drawn from its own level alone
        week = read_window(session, ["AAPL"], week_ago, end, budget=300)["AAPL"]
    assert week.times[0] >= to_ms(week_ago)


def test_one_level_for_an_export_skips_the_ticks_retention_removed(sessions):
    seed(sessions, 30)  # a few ticks: they would all fit
    end = T0 + timedelta(hours=1)
    with sessions() as session:
        assert finest_fitting(session, ["AAPL"], T0, end, budget=100) == TICKS
        # Ticks kept only from after the window's start: the finest whole level is the minute.
        kept = Retention({TICKS: 1}).kept_from(T0 + timedelta(days=1, minutes=1))
        assert finest_fitting(session, ["AAPL"], T0, end, budget=100, kept=kept) == 60
