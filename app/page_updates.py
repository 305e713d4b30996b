"""What the page's callbacks compute: read through db/, shape a view or a Patch, the next state.

`Page` holds what every answer needs (sessions, clock, market hours, limits);
its methods are plain functions of the URL, the theme and the page's state, so
they are tested against real databases; callbacks.py only wires them to Dash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dash import Patch
from sqlalchemy.orm import Session, sessionmaker

from app.cards import card_frame, card_numbers
from app.figure import theme_of
from app.page_state import PageState
from app.panels import price_view
from app.patches import axis_names, downsample, fingerprint, point_budget, tick_patch
from app.query import COMPARE, DEFAULT_RANGE, RANGE_NAMES, VIEWS, PageQuery, parse_query
from app.tick_cache import DirectReads, SharedReads
from app.views import Drawn, Frame, compare_view
from core.market import MarketHours
from core.retention import KEEP_EVERYTHING, Retention
from core.times import NEW_YORK, Clock, from_ms, to_ms
from db.cards import card_prices
from db.chart import ChartStock, Points, chart_stocks, read_after, read_window

DB_DOWN = "The database cannot be reached; the chart will catch up when it is back (retrying)."
NO_STOCKS = "No stocks are on the watchlist yet."
NO_PRICES = "No prices yet: the poller is fetching the first ones."
ALL_HIDDEN = "Every stock is hidden: click a card to show it again."


@dataclass(frozen=True)
class PageUpdate:
    """An answer: the figure (a whole one, a Patch, or None to leave it), state, notes, cards."""

    figure: dict | Patch | None
    state: PageState
    messages: list[str] = field(default_factory=list)
    numbers: dict | None = None  # the cards' numbers and the market line, for assets/page.js
    cards: list | None = None  # each card's frame (cards.card_frame), when the stocks changed
    height: int | None = None  # the chart's height in px, when drawn anew
    query: PageQuery | None = None  # what was drawn (None: the tick kept the view)
    simulated: bool = False  # some stock's prices are simulated: the page says so


def title_of(query: PageQuery) -> str:
    """The chart's title: the view and the range it shows."""
    view = VIEWS[query.view]
    if query.custom and query.start and query.end:
        start, end = (t.astimezone(NEW_YORK) for t in (query.start, query.end))
        same_day = start.date() == end.date()
        end_text = end.strftime("%H:%M" if same_day else "%b %d %H:%M")
        return f"{view} · {start:%b %d %H:%M} – {end_text} ET (custom range)"
    return f"{view} · last {RANGE_NAMES[query.range]}"


def notes(stocks: Sequence[ChartStock], series: dict[str, Points] | None) -> list[str]:
    """Plain-language notes about what is missing."""
    out = []
    if series is not None and stocks and not any(p.times for p in series.values()):
        out.append(NO_PRICES)
    no_band = [s.symbol for s in stocks if s.week52_high is None or s.week52_low is None]
    if no_band:
        out.append(f"No 52-week range yet for {', '.join(no_band)}.")
    for s in stocks:
        if s.history_starts_at is not None:
            # Added where the provider gives no past prices: the line starts when it was added.
            at = s.history_starts_at.astimezone(NEW_YORK)
            out.append(
                f"{s.symbol}: the provider has no history; its prices start {at:%b %d %H:%M} ET."
            )
    return out


@dataclass(frozen=True)
class Page:
    """The page's reads and shapes, for one database and market."""

    sessions: sessionmaker[Session]
    clock: Clock
    market: MarketHours
    longest: timedelta  # the longest range the database serves
    refresh_seconds: float  # how often the page asks
    price_seconds: float  # how often the poller fetches: 3 missed make a price stale
    # Reads every viewer asks alike, answered once for many (app/tick_cache.py); default: apart.
    shared: SharedReads | DirectReads = field(default_factory=DirectReads)
    # Which bar levels still reach back how far: a long range reads only what is kept.
    retention: Retention = KEEP_EVERYTHING

    def load(
        self,
        search: str,
        theme: object,
        preset: str = DEFAULT_RANGE,
        compact: bool = False,
        cards: str = "",
    ) -> PageUpdate:
        """The whole view the URL asks for: the first load, a control, back/forward, a reload.

        `preset` is the range "Follow live" returns to from a custom range; `compact`
        draws for a phone (narrow margins, and no drag, so that a swipe scrolls the page);
        the cards are sent only when they differ from the page's (`cards`, a fingerprint).
        Viewers asking the same within the shared reads' TTL share one answer: a view as
        of a moment that recent, which their ticks then continue from its newest points.
        """
        theme = theme_of(theme)
        key = ("load", search or "", theme, preset, compact, cards)
        return self.shared.get(key, lambda: self._load(search, theme, preset, compact, cards))

    def _load(self, search: str, theme: str, preset: str, compact: bool, cards: str) -> PageUpdate:
        """The whole view, read and drawn now."""
        query, url_notices = parse_query(search, self.longest)
        now = self.clock()
        with self.sessions() as session:
            stocks = self._stocks(session)
            shown = query.shown(stocks)
            # Live, a range ends at the last trade: while the market is closed, the last session.
            last_trade = self.market.last_trade_time(now)
            start, end = (
                (query.start, query.end) if query.custom else (last_trade - query.span(), now)
            )
            assert start is not None and end is not None
            budget = point_budget(len(shown), end - start)
            kept = self.retention.kept_from(now)
            series = read_window(session, [s.symbol for s in shown], start, end, budget, kept)
            numbers = self._numbers(session, stocks, now, query)
        series = {k: downsample(v, budget) for k, v in series.items()}
        last_ms = {k: p.times[-1] for k, p in series.items() if p.times}
        if query.custom:
            bounds = (to_ms(start), to_ms(end))
        else:
            bounds = query.live_bounds(max(last_ms.values(), default=to_ms(now)))
        build = compare_view if query.view == COMPARE else price_view
        drawn: Drawn = build(Frame(shown, series, bounds, theme, title_of(query), compact))
        messages = url_notices + notes(shown, series)
        if not stocks:
            messages.append(NO_STOCKS)
        elif not shown:
            messages.append(ALL_HIDDEN)
        state = PageState(
            True,
            search or "",
            theme,
            fingerprint(shown),
            last_ms,
            to_ms(start),
            drawn.base,
            drawn.y,
            preset if query.custom else query.range,
            compact,
            fingerprint(stocks),
            drawn.logo_y,
        )
        same_cards = cards == state.cards
        drawn_cards = None if same_cards else [card_frame(s) for s in stocks]
        simulated = any(s.simulated for s in stocks)
        return PageUpdate(
            drawn.figure, state, messages, numbers, drawn_cards, drawn.height, query, simulated
        )

    def tick(
        self, state: PageState, search: str, theme: object, compact: bool = False
    ) -> PageUpdate:
        """One interval: append what is new since the page's last point, as a Patch.

        The whole view is drawn again instead when the page holds none, when the
        URL, the theme or what the chart shows about the stocks changed, and
        (following live) once the window read has aged a tenth of its range, so
        that a page left open does not grow without end.
        """
        theme = theme_of(theme)

        def again() -> PageUpdate:  # the whole view drawn anew
            return self.load(search, theme, state.preset, compact, state.cards)

        if (
            not state.loaded
            or state.search != (search or "")
            or state.theme != theme
            or state.compact != compact
        ):
            return again()
        query, url_notices = parse_query(search, self.longest)  # kept on screen, not only once
        now = self.clock()
        span = query.span()
        # A session connects on its first query: a tick answered from shared reads uses none.
        with self.sessions() as session:
            stocks = self._stocks(session)
            shown = query.shown(stocks)
            last_trade = self.market.last_trade_time(now)
            aged = not query.custom and state.since_ms < to_ms(last_trade - span - span / 10)
            unfit = not set(axis_names(query.view, len(shown))) <= state.y.keys()
            if aged or unfit or state.fingerprint != fingerprint(shown):
                return again()
            since = from_ms(state.since_ms)
            after = {
                s.symbol: from_ms(state.last_ms[s.symbol]) if s.symbol in state.last_ms else since
                for s in shown
            }
            ended = query.custom and query.end is not None and query.end <= now
            new = {} if ended else self._after(session, after)  # an ended range gets no points
            numbers = self._numbers(session, stocks, now, query)
        if any(
            p.times and (s not in state.last_ms or (query.view == COMPARE and s not in state.base))
            for s, p in new.items()
        ):
            # A stock's first point needs a baseline (Compare) or a fitted axis (Price).
            return again()
        newest = max(
            [*state.last_ms.values(), *(p.times[-1] for p in new.values() if p.times)],
            default=None,
        )
        live = None if query.custom or newest is None else query.live_bounds(newest)
        extended = tick_patch(query.view, shown, new, state.base, state.y, live, state.logo_y)
        return PageUpdate(
            extended.patch,
            state.with_points(extended.last_ms, extended.y, extended.logo_y),
            url_notices + notes(shown, None),
            numbers,
            simulated=any(s.simulated for s in stocks),
        )

    def _stocks(self, session: Session) -> list[ChartStock]:
        """The watched stocks, shared between viewers."""
        return self.shared.get(("stocks",), lambda: chart_stocks(session))

    def _after(self, session: Session, after: dict[str, datetime]) -> dict[str, Points]:
        """The points after each stock's time, shared by the viewers that hold the same points."""
        key = ("after", tuple(sorted((s, to_ms(t)) for s, t in after.items())))
        return self.shared.get(key, lambda: read_after(session, after))

    def _numbers(self, session: Session, stocks: list[ChartStock], now: datetime, query: PageQuery):
        """The cards' numbers and which are hidden, the market line, when this answer was made."""
        symbols, session_open = [s.symbol for s in stocks], self.market.session_open(now)
        prices = self.shared.get(
            ("cards", tuple(symbols), session_open),
            lambda: card_prices(session, symbols, session_open),
        )
        status = self.market.status(now)
        return {
            "at": to_ms(now),
            "live": not query.custom,
            "open": status.open,
            "market": status.text,
            "cards": card_numbers(stocks, prices),
            "hidden": sorted(query.hidden & {s.symbol for s in stocks}),
        }
