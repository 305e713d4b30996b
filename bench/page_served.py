"""The page as one browser tab sees it: app/page_updates.Page behind its registered Dash callback.

Every request goes through Dash's wrapper of `on_update` (dash_body.py), so a
measured answer includes all its outputs (figure, stores, status, numbers,
cards, pressed buttons…) serialized as Dash sends them. Like the browser, the
tab keeps the page and edge stores of each answer for its next tick.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dash import Dash
from dash_body import ServedCallback, answer_of
from fill_history import NOW

from app.callbacks import register_callbacks
from app.page_updates import Page
from core.market import US_EQUITIES
from core.retention import KEEP_EVERYTHING, Retention

LONGEST = timedelta(days=7)  # the longest range served, unless a bench asks for another
REFRESH_SECONDS = PRICE_SECONDS = 5
THEME = "light"
SCREEN = "wide"  # a desktop tab (a phone gets the compact chart)


class ServedPage:
    """A Dash app serving one database, and one tab's stores; `now` is the server's clock.

    `longest` is the longest range offered and `retention` what each level keeps
    (the reads skip what it removed), as app/factory.py gives them to the page.
    """

    def __init__(
        self, sessions, longest: timedelta = LONGEST, retention: Retention = KEEP_EVERYTHING
    ) -> None:
        self.now: datetime = NOW
        self.page = Page(
            sessions,
            lambda: self.now,
            US_EQUITIES,
            longest,
            REFRESH_SECONDS,
            PRICE_SECONDS,
            retention=retention,
        )
        app = Dash(__name__)
        self.on_update = ServedCallback(app, register_callbacks(app, self.page).on_update)
        self.search, self.store, self.edge, self.ticks = "", None, None, 0

    def load(self, search: str) -> str:
        """The body of the tab's first request for `search` (a new tab: no stores yet)."""
        self.search = search
        return self.on_update.body("url.search", search, None, THEME, SCREEN, None, None)

    def tick(self) -> str:
        """The body of one interval, from the stores the tab kept."""
        self.ticks += 1
        return self.on_update.body(
            "tick.n_intervals", self.search, self.ticks, THEME, SCREEN, self.store, self.edge
        )

    def keep(self, body: str) -> dict[str, int]:
        """Keep the stores an answer sets, as the browser does; each stock's newest point (ms)."""
        answer = answer_of(body)
        self.store = answer.get("page", {}).get("data", self.store)
        self.edge = answer.get("edge", {}).get("data", self.edge)
        return dict((self.edge or {}).get("last") or {})
