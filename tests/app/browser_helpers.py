"""What the browser tests share: seeded prices, and reading the page (graph div, DOM, ticks).

What the page shows is read from the plotly graph div itself (gd.data,
gd.layout) and from the DOM that app/layout.py, app/cards.py and assets/*.js
build; what it should show is read back from the database the test seeded.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from core.records import Quote, StockProfile
from core.times import NEW_YORK, to_exchange_ms, to_ms, utc_now
from db.engine import unit_of_work
from db.models import PriceTick
from db.watchlist import sync_watchlist
from db.writes import upsert_profiles, write_quotes
from tests.app.conftest import wait_until

SYMBOLS = ["AAPL", "GE", "NVDA"]
BASE = {"AAPL": 180.0, "GE": 160.0, "NVDA": 120.0}
PROFILES = [
    StockProfile(
        s,
        name,
        f"/assets/logos/{s}.svg",
        Decimal(BASE[s] + 40),
        Decimal(BASE[s] - 40),
        "simulated",
        True,
    )
    for s, name in zip(SYMBOLS, ["Apple Inc.", "GE Aerospace", "NVIDIA Corporation"], strict=True)
]
GD = "var gd = document.querySelector('#chart .js-plotly-plot');"


# -- the database ------------------------------------------------------------------------
def price_at(symbol: str, at: datetime) -> Decimal:
    """A deterministic price that moves a few dollars over hours, to the cent."""
    hours = at.timestamp() / 3600
    value = BASE[symbol] + 6 * math.sin(hours / 2 + SYMBOLS.index(symbol)) + 0.3 * (hours * 7 % 1)
    return Decimal(f"{value:.2f}")


def seed(sessions, end: datetime, span: timedelta, step: int) -> None:
    """Watchlist, profiles (simulated) and a price every `step` s over `span` up to `end`."""
    quotes, t = [], end - span
    while t <= end:
        quotes += [Quote(s, price_at(s, t), t, simulated=True) for s in SYMBOLS]
        t += timedelta(seconds=step)
    with unit_of_work(sessions) as session:
        sync_watchlist(session, SYMBOLS)
        upsert_profiles(session, PROFILES, end)
        write_quotes(session, quotes, fetched_at=end)


def seed_week(sessions, end: datetime | None = None) -> datetime:
    """7 days every 10 min, the last 90 min every 20 s, up to `end` (now); returns `end`."""
    end = (end or utc_now()).replace(microsecond=0)
    seed(sessions, end, timedelta(days=7), 600)
    seed(sessions, end, timedelta(minutes=90), 20)
    return end


def write_ticks(
    sessions, count: int, at: datetime | None = None, symbols: list[str] = SYMBOLS
) -> datetime:
    """`count` new prices per stock, one second apart, ending `at` (default: now)."""
    end = at or utc_now().replace(microsecond=0)
    quotes = [
        Quote(s, price_at(s, end) + i, end - timedelta(seconds=count - 1 - i), simulated=True)
        for s in symbols
        for i in range(count)
    ]
    with unit_of_work(sessions) as session:
        write_quotes(session, quotes, fetched_at=end)
    return end


def newest_row(sessions, symbol: str, before: datetime | None = None) -> tuple[float, datetime]:
    """The newest stored (price, UTC time) of `symbol`, or the newest before `before`."""
    query = select(PriceTick.price, PriceTick.observed_at).where(PriceTick.symbol == symbol)
    if before is not None:
        query = query.where(PriceTick.observed_at < before)
    with sessions() as session:
        price, at = session.execute(query.order_by(PriceTick.observed_at.desc()).limit(1)).one()
    return float(price), at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def new_york_midnight(at: datetime) -> datetime:
    """The start (UTC) of `at`'s New York calendar day: the simulated market's session open."""
    day = at.astimezone(NEW_YORK).date()
    return datetime(day.year, day.month, day.day, tzinfo=NEW_YORK).astimezone(timezone.utc)


def wall_ms(at: datetime) -> int:
    """A UTC time as epoch ms of the New York wall clock (what the chart's x axis holds)."""
    return to_exchange_ms([to_ms(at)])[0]


# -- the page ----------------------------------------------------------------------------
def severe_logs(driver) -> list[dict]:
    """Console entries at SEVERE since the last read (reading drains them)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def traces(driver) -> dict[str, int] | None:
    """Each trace's name and number of points, or None before the chart has data."""
    return driver.execute_script(
        GD
        + """
        if (!gd || !gd.data || !gd.data.length) return null;
        var out = {};
        gd.data.forEach(function (t) { out[t.name] = t.x ? t.x.length : 0; });
        return out;
        """
    )


def figure(driver, script: str):
    """The value of a JS expression over the graph div `gd`."""
    return driver.execute_script(GD + "return " + script + ";")


def ticks(driver) -> int:
    """How many interval-tick callbacks have answered since the page loaded."""
    return driver.execute_script("return window.__ticks || 0;")


def wait_ticks(driver, count: int, timeout: float = 15.0) -> None:
    start = ticks(driver)
    wait_until(lambda: ticks(driver) >= start + count, timeout, message=f"{count} interval ticks")
    time.sleep(0.2)  # the last answer's Patch has been drawn


def as_ms(value: object) -> float:
    """An x-axis value (number, or plotly's date text) as epoch ms of its wall clock."""
    if isinstance(value, int | float):
        return float(value)
    text_value = str(value).replace("T", " ")
    return float(to_ms(datetime.fromisoformat(text_value).replace(tzinfo=timezone.utc)))


def x_range_ms(driver) -> list[float]:
    """gd.layout.xaxis.range as epoch ms of the New York wall clock."""
    return [as_ms(v) for v in figure(driver, "gd.layout.xaxis.range")]


def axis_text(ms: float) -> str:
    """Wall-clock epoch ms as the date text plotly itself puts in relayout events."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def title(driver) -> str:
    return figure(driver, "gd.layout.title.text")


def open_page(driver, url: str, shown: list[str] | None = None) -> dict[str, int]:
    """Load the page and wait until each shown stock's line is drawn; returns trace lengths."""
    shown = SYMBOLS if shown is None else shown
    driver.get("about:blank")
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    return wait_until(
        lambda: (t := traces(driver)) and set(t) == set(shown) and all(t.values()) and t,
        timeout=30,
        message=f"a trace with points for each of {shown}",
    )


def wait_growth(driver, before: dict[str, int], timeout: float = 15.0) -> dict[str, int]:
    return wait_until(
        lambda: (now := traces(driver)) and all(now[s] > before[s] for s in before) and now,
        timeout,
        message=f"every trace to grow past {before}",
    )


def text_of(driver, css: str) -> str:
    return driver.find_element("css selector", css).text


def click(driver, css: str) -> None:
    driver.find_element("css selector", css).click()
