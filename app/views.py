"""What each callback computes: read through db/, shape through figures.py, return plain values.

These are plain functions of a session factory, a clock and the page's store,
so they are tested as functions against real databases; callbacks.py only wires
them to Dash. The page keeps its state in the store, so any worker can answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dash import Patch
from sqlalchemy.orm import Session, sessionmaker

from app.figures import data_patch, fingerprint, point_budget, tick_patch, window_patch
from core.times import Clock, from_ms, to_ms
from db.chart import ChartStock, Points, chart_stocks, read_after, read_window

DB_DOWN = "The database cannot be reached; the chart will catch up when it is back (retrying)."
NO_STOCKS = "No stocks are on the watchlist yet."
NO_PRICES = "No prices yet: the poller is fetching the first ones."


@dataclass
class View:
    """A callback's answer: a Patch (or None), the new store, and messages for the page."""

    patch: Patch | None
    store: dict
    messages: list[str] = field(default_factory=list)
    simulated: bool = False


def notes(stocks: list[ChartStock], series: dict[str, Points] | None) -> list[str]:
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


def load_window(
    sessions: sessionmaker[Session],
    clock: Clock,
    days: float,
    reset_view: object | None = None,
) -> View:
    """A whole-window load: the first one, "follow live", or after an outage or a stock change.

    Only `reset_view` (follow live) drops the user's zoom; any other reload keeps it.
    """
    with sessions() as session:
        stocks = chart_stocks(session)
        if not stocks:
            return View(None, {"ok": False}, [NO_STOCKS])
        now = clock()
        start = now - timedelta(days=days)
        series = read_window(
            session, [s.symbol for s in stocks], start, now, point_budget(len(stocks))
        )
    patch, last_seen = window_patch(stocks, series, reset_view)
    store = {"ok": True, "fp": fingerprint(stocks), "last": last_seen, "since": to_ms(start)}
    return View(patch, store, notes(stocks, series), any(s.simulated for s in stocks))


def refresh(
    sessions: sessionmaker[Session],
    clock: Clock,
    days: float,
    store: dict | None,
    following_live: bool = True,
) -> View:
    """One interval tick: append what is new since the page's last point, as a Patch.

    The whole window is read again instead after an outage, when what the chart
    shows about the stocks changed, or (following live) once the window's start
    is an hour stale, so that a page left open does not grow without end.
    """
    store = dict(store or {})
    with sessions() as session:
        stocks = chart_stocks(session)
        now = clock()
        stale = following_live and store.get("since", 0) < to_ms(
            now - timedelta(days=days, hours=1)
        )
        current = store.get("ok") and store.get("fp") == fingerprint(stocks) and not stale
        if current:
            last, since = store.get("last", {}), from_ms(store["since"])
            new = read_after(
                session,
                {s.symbol: from_ms(last[s.symbol]) if s.symbol in last else since for s in stocks},
            )
    if not current:
        return load_window(sessions, clock, days)
    patch, last_seen = tick_patch(stocks, new)
    store["last"] = {**store.get("last", {}), **last_seen}
    return View(patch, store, notes(stocks, None), any(s.simulated for s in stocks))


def zoom(
    sessions: sessionmaker[Session], store: dict | None, start: datetime, end: datetime
) -> View:
    """Re-read a zoomed range at the best resolution that fits the point budget."""
    store = dict(store or {})
    with sessions() as session:
        stocks = chart_stocks(session)
        if not store.get("ok") or store.get("fp") != fingerprint(stocks):
            return View(None, store)  # the next tick reloads everything first
        series = read_window(
            session, [s.symbol for s in stocks], start, end, point_budget(len(stocks))
        )
    return View(
        data_patch(stocks, series), store, notes(stocks, None), any(s.simulated for s in stocks)
    )
