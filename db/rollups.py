"""Bars of ticks (a minute, 5 minutes, an hour, a trading day) and the one rule that merges bars.

`merge_bars` builds the only statement that writes bars, on both databases: an
INSERT … SELECT of the bars of some freshly inserted ticks, one per symbol,
width and bucket, ON CONFLICT merging each into the stored bar. PostgreSQL
groups the ticks first (a statement may not update a row twice); SQLite takes
them one row per tick and width, and merges each in turn. Either way a bar
equals what its raw ticks give, in any order of arrival; the tests hold both to
the raw ticks.

A daily bar (width DAY) is keyed by the start of its New York trading date, not
by an epoch-aligned day: PostgreSQL computes it with date_trunc in the exchange's
zone; SQLite has no zones, so its ticks come with their day's start (`day_start`,
computed in Python by the same function the tests use).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Float,
    FromClause,
    Integer,
    String,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import aggregate_order_by, array_agg
from sqlalchemy.sql.dml import Insert

from core.market import trading_day_start
from core.retention import DAY, FIVE_MINUTES, HOUR, MINUTE
from core.times import EXCHANGE_TZ
from db.models import PriceBar

# Seconds: 7 days are 2,016 five-minute or 168 hourly bars, 5 years 1,826 daily ones.
BAR_WIDTHS = (MINUTE, FIVE_MINUTES, HOUR, DAY)


def bucket_start(at: datetime, width: int) -> datetime:
    """The start of the bar holding `at`: its New York trading date's for DAY, else the
    `width`-second bucket aligned on the Unix epoch."""
    if width == DAY:
        return trading_day_start(at)
    seconds = int(at.timestamp()) // width * width
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def bucket_start_sql(
    dialect: str, at: ColumnElement, width: ColumnElement, day: ColumnElement | None = None
) -> ColumnElement:
    """`bucket_start` computed by the database, as the value the bar's key column stores.

    On SQLite `day` is the tick's trading-day start, given with it (no zones there).
    """
    if dialect == "postgresql":
        epoch = func.date_part("epoch", at, type_=Float)
        aligned = func.to_timestamp(epoch // width * width, type_=DateTime(timezone=True))
        day = func.date_trunc("day", at, EXCHANGE_TZ, type_=DateTime(timezone=True))
    else:
        # SQLite keeps UTCDateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' text: the key must be that.
        seconds = cast(func.strftime("%s", at), Integer) // width * width
        aligned = func.strftime("%Y-%m-%d %H:%M:%S", seconds, "unixepoch", type_=String) + ".000000"
        if day is None:
            raise ValueError("SQLite needs each tick's trading-day start (day_start)")
    return case((width == DAY, day), else_=aligned)


def merge_rule(dialect: str, new, old) -> dict[str, ColumnElement]:
    """How a new bar merges into a stored one: earlier open, later close, wider range, summed."""
    greatest, least = (
        (func.greatest, func.least) if dialect == "postgresql" else (func.max, func.min)
    )
    return {
        # A CASE per column keeps open/close right when ticks arrive out of order.
        "open": case((new.open_at < old.open_at, new.open), else_=old.open),
        "close": case((new.close_at > old.close_at, new.close), else_=old.close),
        "open_at": least(old.open_at, new.open_at),
        "close_at": greatest(old.close_at, new.close_at),
        "high": greatest(old.high, new.high),
        "low": least(old.low, new.low),
        "tick_count": old.tick_count + new.tick_count,
        "simulated": old.simulated | new.simulated,
    }


def merge_bars(dialect: str, ticks: FromClause) -> Insert:
    """INSERT the bars of `ticks` (symbol, observed_at, price, simulated) at every width, merged.

    On SQLite `ticks` also has `day_start`, each tick's trading-day start.
    """
    # A UNION rather than VALUES: SQLite cannot name the columns of a VALUES list.
    widths = union_all(
        *(select(literal_column(str(w), Integer).label("width")) for w in BAR_WIDTHS)
    ).subquery("widths")
    at, price, simulated = ticks.c.observed_at, ticks.c.price, ticks.c.simulated
    key = {
        "symbol": ticks.c.symbol,
        "width": widths.c.width,
        "start": bucket_start_sql(
            dialect,
            at,
            widths.c.width,
            ticks.c.get("day_start") if dialect != "postgresql" else None,
        ),
    }
    if dialect == "postgresql":  # one bar per key: a statement may not update a row twice
        bar = {
            "open": array_agg(aggregate_order_by(price, at))[1],
            "high": func.max(price),
            "low": func.min(price),
            "close": array_agg(aggregate_order_by(price, at.desc()))[1],
            "open_at": func.min(at),
            "close_at": func.max(at),
            "tick_count": func.count(),
            "simulated": func.bool_or(simulated),
        }
    else:  # a bar per tick and width, merged in turn
        bar = {
            "open": price,
            "high": price,
            "low": price,
            "close": price,
            "open_at": at,
            "close_at": at,
            "tick_count": literal_column("1", Integer),
            "simulated": simulated,
        }
    bars = select(*key.values(), *bar.values()).select_from(ticks.join(widths, true()))
    if dialect == "postgresql":
        # Ordered by key: one lock order for concurrent writers.
        bars = bars.group_by(*key.values()).order_by(*key.values())
    else:
        bars = bars.where(true())  # SQLite's grammar needs a WHERE before ON CONFLICT
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(PriceBar.__table__)
    statement = statement.from_select([*key, *bar], bars)
    return statement.on_conflict_do_update(
        index_elements=list(key),
        set_=merge_rule(dialect, statement.excluded, PriceBar.__table__.c),
    )
