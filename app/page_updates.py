"""What each callback computes: read through db/, build a Patch, and the page's next state.

These are plain functions of a session factory, a clock and the page's state,
so they are tested as functions against real databases; callbacks.py only wires
them to Dash. The page keeps its state in the browser, so any worker can answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dash import Patch
from sqlalchemy.orm import Session, sessionmaker

from app.page_state import NOT_LOADED, PageState, ViewMode
from app.patches import fingerprint, point_budget, tick_patch, window_patch, zoom_patch
from core.times import Clock, from_ms, to_ms
from db.chart import ChartStock, Points, chart_stocks, read_after, read_window

DB_DOWN = "The database cannot be reached; the chart will catch up when it is back (retrying)."
NO_STOCKS = "No stocks are on the watchlist yet."
NO_PRICES = "No prices yet: the poller is fetching the first ones."


@dataclass(frozen=True)
class PageUpdate:
    """A callback's answer: a Patch (None leaves the chart), the page's next state, notes."""

    patch: Patch | None
    state: PageState
    messages: list[str] = field(default_factory=list)
    simulated: bool = False  # some stock's prices are simulated: the page says so


def notes(stocks: Sequence[ChartStock], series: Mapping[str, Points] | None) -> list[str]:
    """Plain-language notes about what is missing."""
    out = []
    if series is not None and not any(p.times for p in series.values()):
        out.append(NO_PRICES)
    no_band = [s.symbol for s in stocks if s.week52_high is None or s.week52_low is None]
    no_logo = [s.symbol for s in stocks if not s.logo_url]
    if no_band:
        out.append(f"No 52-week range yet for {', '.join(no_band)}.")
    if no_logo:
        out.append(f"No logo yet for {', '.join(no_logo)}.")
    return out


def _update(
    patch: Patch,
    state: PageState,
    stocks: Sequence[ChartStock],
    series: Mapping[str, Points] | None = None,
) -> PageUpdate:
    return PageUpdate(patch, state, notes(stocks, series), any(s.simulated for s in stocks))


def load_window(
    sessions: sessionmaker[Session],
    clock: Clock,
    days: float,
    reset_view: object | None = None,
) -> PageUpdate:
    """A whole-window load: the first one, "follow live", or after an outage or a stock change.

    Only `reset_view` (follow live) drops the user's zoom; any other reload keeps it.
    """
    with sessions() as session:
        stocks = chart_stocks(session)
        if not stocks:
            return PageUpdate(None, NOT_LOADED, [NO_STOCKS])
        now = clock()
        start = now - timedelta(days=days)
        series = read_window(
            session, [s.symbol for s in stocks], start, now, point_budget(len(stocks))
        )
    patch, last_ms = window_patch(stocks, series, reset_view)
    state = PageState(True, fingerprint(stocks), last_ms, to_ms(start))
    return _update(patch, state, stocks, series)


def refresh(
    sessions: sessionmaker[Session],
    clock: Clock,
    days: float,
    state: PageState,
    mode: ViewMode,
) -> PageUpdate:
    """One interval tick: append what is new since the page's last point, as a Patch.

    The whole window is read again instead after an outage, when what the chart
    shows about the stocks changed, or (following live) once the window's start
    is an hour stale, so that a page left open does not grow without end.
    """
    with sessions() as session:
        stocks = chart_stocks(session)
        now = clock()
        stale = mode.following_live and state.since_ms < to_ms(now - timedelta(days=days, hours=1))
        current = state.loaded and state.fingerprint == fingerprint(stocks) and not stale
        if current:
            since = from_ms(state.since_ms)
            after = {
                s.symbol: from_ms(state.last_ms[s.symbol]) if s.symbol in state.last_ms else since
                for s in stocks
            }
            new = read_after(session, after)
    if not current:
        return load_window(sessions, clock, days)
    patch, last_ms = tick_patch(stocks, new)
    return _update(patch, state.with_points(last_ms), stocks)


def zoom(
    sessions: sessionmaker[Session], state: PageState, start: datetime, end: datetime
) -> PageUpdate:
    """Re-read a zoomed range at the best resolution that fits the point budget."""
    with sessions() as session:
        stocks = chart_stocks(session)
        if not state.loaded or state.fingerprint != fingerprint(stocks):
            return PageUpdate(None, state)  # the next tick reloads everything first
        series = read_window(
            session, [s.symbol for s in stocks], start, end, point_budget(len(stocks))
        )
    return _update(zoom_patch(stocks, series), state, stocks)
