"""Reads for the dashboard: the watched stocks, a window of prices, and the ticks after T.

Times come back as UTC epoch milliseconds and prices as floats, computed by the
database, so a read of thousands of points builds no datetime or Decimal objects.
A window reads raw ticks only when the bars say it holds few enough of them;
otherwise it reads one close per bar of the finest width (a minute, 5 minutes,
an hour, a trading day) that fits the point budget, all from one table, so a read
costs rows in proportion to the points shown, whatever the tick cadence. Given
what retention keeps (`kept`), a level is read only over a window it still holds
whole: a year reads daily bars, a month hourly ones, never ticks already removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy import ColumnElement, Float, cast, func, select, union_all
from sqlalchemy.orm import Session

from core.retention import DAY, FIVE_MINUTES, HOUR, MINUTE, TICKS
from db.models import PriceBar, PriceTick, Stock, Watchlist
from db.rollups import BAR_WIDTHS, bucket_start
from db.watchlist import watching

UNION_PARTS = 400  # SQLite allows 500 parts in one compound SELECT
READ_OVER = 2.5  # how far over the point budget a window read may go
STITCH_AFTER = timedelta(days=2)  # a longer window is drawn whole, daily closes on its left


@dataclass(frozen=True, slots=True)
class ChartStock:
    """What the chart shows about a stock besides its prices."""

    symbol: str
    company_name: str | None
    logo_url: str | None
    week52_high: float | None
    week52_low: float | None
    color_slot: int
    simulated: bool
    history_bar_seconds: int | None = None  # some history filled from bars this wide
    history_at: datetime | None = None  # a provider's history last written (views redraw)
    # When its stored prices start because the provider had no history ("history starts now").
    history_starts_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Points:
    """One stock's points: UTC epoch milliseconds and prices, oldest first."""

    times: list[int]
    prices: list[float]
    resolution: str  # "tick", "minute", "5 minutes", "hour" or "day"


def epoch_ms(session: Session, column) -> ColumnElement[float]:
    """A timestamp column as UTC epoch milliseconds, computed in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        # date_part is float arithmetic; EXTRACT is numeric, and slower, since PostgreSQL 14.
        return cast(func.date_part("epoch", column), Float) * 1000
    # SQLite stores naive UTC text; julianday() reads it.
    return (func.julianday(column) - 2440587.5) * 86_400_000.0


def chart_stocks(session: Session) -> list[ChartStock]:
    """The watched stocks in the watchlist's order."""
    rows = session.execute(
        select(Stock, Watchlist.history_starts_at)
        .join(Watchlist, Watchlist.symbol == Stock.symbol)
        .where(watching())
        .order_by(Watchlist.position, Watchlist.symbol)
    ).all()
    return [
        ChartStock(
            symbol=s.symbol,
            company_name=s.company_name,
            logo_url=s.logo_url,
            week52_high=float(s.week52_high) if s.week52_high is not None else None,
            week52_low=float(s.week52_low) if s.week52_low is not None else None,
            color_slot=s.color_slot if s.color_slot is not None else 0,
            simulated=s.simulated,
            history_bar_seconds=s.history_bar_seconds,
            history_at=s.history_at,
            history_starts_at=history_starts_at,
        )
        for s, history_starts_at in rows
    ]


def ticks_in_window(
    session: Session, symbols: Sequence[str], start: datetime, end: datetime
) -> dict[str, int]:
    """About how many raw ticks each symbol has in [start, end), from the bars.

    Minutes for a day or less (exact to the minute), hourly bars beyond (a few
    rows per stock, at most two partial hours too many): only a choice of
    resolution depends on it.
    """
    width = MINUTE if (end - start).total_seconds() <= 86_400 else HOUR
    rows = (
        session.connection()
        .execute(
            select(PriceBar.symbol, func.sum(PriceBar.tick_count))
            .where(
                PriceBar.symbol.in_(list(symbols)), *_bars_from(width, start), PriceBar.start < end
            )
            .group_by(PriceBar.symbol)
        )
        .all()
    )
    return {symbol: int(count or 0) for symbol, count in rows}


def _bars_from(width: int, start: datetime) -> tuple[ColumnElement[bool], ...]:
    """The bars of one width from a window's start on."""
    # Minutes from the first that starts inside the window; a coarser bar from the one
    # holding `start`, so that a long window keeps its partial first bar.
    first = start if width == MINUTE else bucket_start(start, width)
    return (PriceBar.width == width, PriceBar.start >= first)


Kept = Mapping[int, datetime | None]  # per level (TICKS or a width), kept from (None: all)
LEVELS = {MINUTE: "minute", FIVE_MINUTES: "5 minutes", HOUR: "hour", DAY: "day"}


def _whole(kept: Kept | None, level: int, start: datetime) -> bool:
    """Whether retention still holds a level from `start` on."""
    since = kept.get(level) if kept is not None else None
    return since is None or since <= start


def resolution_for(start: datetime, end: datetime, budget: int, kept: Kept | None = None) -> int:
    """The finest bar width (seconds) whose bars over [start, end] about fit the budget.

    Up to READ_OVER times the budget is read, and the page downsamples the rest away
    (MinMaxLTTB keeps the shape): a week at a budget of 833 points reads 2,016
    five-minute bars, not 168 hourly ones, which would look coarse on a wide plot; a
    year reads 365 daily bars. A width retention no longer holds from `start` is skipped.
    """
    span = (end - start).total_seconds()
    whole = [w for w in BAR_WIDTHS if _whole(kept, w, start)] or [BAR_WIDTHS[-1]]
    fits = (w for w in whole if span / w <= budget * READ_OVER)
    return next(fits, whole[-1])


def finest_fitting(
    session: Session,
    symbols: Sequence[str],
    start: datetime,
    end: datetime,
    budget: int,
    kept: Kept | None = None,
) -> int:
    """One level for all `symbols` by the chart's rule: TICKS when every stock's ticks fit
    `budget` (and retention still holds them), else the finest kept bars that fit."""
    if _whole(kept, TICKS, start):
        counts = ticks_in_window(session, symbols, start, end)
        if max(counts.values(), default=0) <= budget:
            return TICKS
    return resolution_for(start, end, budget, kept)


def read_window(
    session: Session,
    symbols: Sequence[str],
    start: datetime,
    end: datetime,
    budget: int,
    kept: Kept | None = None,
) -> dict[str, Points]:
    """Prices in [start, end]: every tick if they fit the budget, else the finest fitting bars.

    Rows read are about the points shown, not the ticks stored: 7 days at 2,000
    points is 2,016 five-minute closes per stock, 5 years 1,826 daily ones. `kept`
    (Retention.kept_from(now)) leaves out the levels retention has cut short.
    """
    ticks_whole = _whole(kept, TICKS, start)
    counts = ticks_in_window(session, symbols, start, end) if ticks_whole else {}
    raw = [s for s in symbols if ticks_whole and counts.get(s, 0) <= budget]
    rolled = [s for s in symbols if s not in raw]
    width = resolution_for(start, end, budget, kept)
    level = LEVELS.get(width, f"{width} s")
    out: dict[str, Points] = {s: Points([], [], "tick") for s in raw}
    out.update({s: Points([], [], level) for s in rolled})
    if raw:
        _read_unordered(
            session,
            out,
            PriceTick,
            PriceTick.observed_at,
            PriceTick.price,
            PriceTick.symbol.in_(raw),
            PriceTick.observed_at >= start,
            PriceTick.observed_at <= end,
        )
    if rolled:
        _read_unordered(
            session,
            out,
            PriceBar,
            PriceBar.close_at,
            PriceBar.close,
            PriceBar.symbol.in_(rolled),
            *_bars_from(width, start),
            PriceBar.start <= end,
        )
    if width < DAY and end - start > STITCH_AFTER:
        _days_before(session, out, start)
    return out


def _days_before(session: Session, out: dict[str, Points], start: datetime) -> None:
    """Daily closes before each line's first point, where the finer level starts late.

    A month reads hourly bars, yet a fresh install holds a week of those and years of
    daily bars (the provider's daily history): the month is drawn whole, coarser on
    its left, instead of three empty weeks.
    """
    firsts = {s: p.times[0] if p.times else None for s, p in out.items()}
    ranges = [
        (s, [PriceBar.width == DAY, PriceBar.close_at >= start, *before(first)])
        for s, first in firsts.items()
    ]
    days = {s: Points([], [], "day") for s in out}
    _read_into(session, days, PriceBar, PriceBar.close_at, PriceBar.close, PriceBar.start, ranges)
    for symbol, older in days.items():
        if older.times:
            points = out[symbol]
            points.times[:0], points.prices[:0] = older.times, older.prices


def before(first_ms: int | None) -> list[ColumnElement[bool]]:
    """Rows closing before a line's first point (all of them for an empty line)."""
    if first_ms is None:
        return []
    return [PriceBar.close_at < datetime.fromtimestamp(first_ms / 1000, tz=timezone.utc)]


def read_after(
    session: Session, after: Mapping[str, datetime], limit: int = 10_000
) -> dict[str, Points]:
    """Ticks newer than each symbol's last seen time, oldest first, at most `limit` in all."""
    out = {s: Points([], [], "tick") for s in after}
    _read_into(
        session,
        out,
        PriceTick,
        PriceTick.observed_at,
        PriceTick.price,
        PriceTick.observed_at,
        [(s, [PriceTick.observed_at > at]) for s, at in after.items()],
        limit=limit,
    )
    return out


def _read_into(session, out, model, at, price, key, ranges, limit=None) -> None:
    """Read (symbol, epoch ms, price) in key order, one SELECT per symbol united.

    Each part is an index range scan, so SQLite does not walk the whole index for
    an OR of ranges under ORDER BY … LIMIT.
    """
    for i in range(0, len(ranges), UNION_PARTS):
        parts = [
            select(
                model.symbol.label("symbol"), at.label("at"), price.label("price"), key.label("k")
            ).where(model.symbol == symbol, *conditions)
            for symbol, conditions in ranges[i : i + UNION_PARTS]
        ]
        united = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
        query = select(
            united.c.symbol, epoch_ms(session, united.c.at), cast(united.c.price, Float)
        ).order_by(united.c.symbol, united.c.k)
        if limit is not None:
            query = query.limit(limit)
        _split(session.connection().execute(query).all(), out)


def _read_unordered(session, out, model, at, price, *where) -> None:
    """Read a window with no ORDER BY and sort it here.

    With long histories PostgreSQL answers `symbol IN (…)` by a bitmap scan, and an
    ORDER BY would add a sort on the server; numpy sorts the same rows in a fraction.
    """
    query = select(model.symbol, epoch_ms(session, at), cast(price, Float)).where(*where)
    rows = session.connection().execute(query).all()
    if not rows:
        return
    symbols, times, _ = zip(*rows, strict=True)
    _, codes = np.unique(np.asarray(symbols, dtype=object), return_inverse=True)
    order = np.lexsort((np.asarray(times, dtype="float64"), codes))
    _split([rows[k] for k in order.tolist()], out)


def _split(rows, out: dict[str, Points]) -> None:
    if not rows:
        return
    symbols, times, prices = zip(*rows, strict=True)
    times_ms = np.rint(np.asarray(times, dtype="float64")).astype("int64").tolist()
    first = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or symbols[i] != symbols[first]:
            points = out[symbols[first]]
            points.times.extend(times_ms[first:i])
            points.prices.extend(prices[first:i])
            first = i
