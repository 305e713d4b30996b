"""What the page's tests share: stocks, seeded prices, a clock moved by hand, a Patch read back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from core.records import Quote, StockProfile
from core.times import to_ms
from db.chart import ChartStock
from db.engine import unit_of_work
from db.watchlist import sync_watchlist
from db.writes import upsert_profiles, write_quotes

NOW = datetime(2026, 11, 27, 20, 0, tzinfo=timezone.utc)
SYMBOLS = ["AAPL", "GE"]
PROFILES = [
    StockProfile(
        "AAPL", "Apple Inc.", "/assets/logos/AAPL.svg", Decimal(160), Decimal(90), "simulated", True
    ),
    StockProfile(
        "GE", "GE Aerospace", "/assets/logos/GE.svg", Decimal(220), Decimal(140), "simulated", True
    ),
]


def utc_ms(*args: int) -> int:
    """An expected time: datetime(*args) in UTC as epoch ms, by core.times."""
    return to_ms(datetime(*args, tzinfo=timezone.utc))


def stock(symbol: str = "AAPL", slot: int = 0, **fields: object) -> ChartStock:
    """A ChartStock with a name, a logo and a 52-week range unless `fields` say otherwise."""
    values: dict[str, object] = dict(
        company_name="Apple Inc.",
        logo_url="/assets/logos/AAPL.svg",
        week52_high=260.0,
        week52_low=160.0,
        simulated=True,
    )
    values.update(fields)
    return ChartStock(symbol=symbol, color_slot=slot, **values)  # type: ignore[arg-type]


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def ops(figure_patch) -> dict[tuple, object]:
    """A Patch's operations by location: (operation, value)."""
    return {
        tuple(op["location"]): (op["operation"], op["params"].get("value"))
        for op in figure_patch.to_plotly_json()["operations"]
    }


def seed(sessions, start: datetime, end: datetime, step: int = 60, profiles: bool = True) -> int:
    """Prices for SYMBOLS every `step` seconds from `start` to `end`; returns how many each."""
    quotes = []
    t, i = start, 0
    while t <= end:
        quotes += [
            Quote(s, Decimal(100 + k * 50) + Decimal(i % 17) / 4, t, True)
            for k, s in enumerate(SYMBOLS)
        ]
        t += timedelta(seconds=step)
        i += 1
    with unit_of_work(sessions) as session:
        sync_watchlist(session, SYMBOLS)
        write_quotes(session, quotes, fetched_at=end)
        if profiles:
            upsert_profiles(session, PROFILES, end)
    return i
