"""The page's watchlist edits on the server: refused unless STOCKSTREAMER_WATCHLIST_EDITABLE.

The page hides its add and remove controls when editing is off, but the server
decides: an edit request that reaches it anyway is refused here. With sign-in on,
`signed_in_only` refuses an edit from no one (and names the user of one done). The
checks themselves are jobs/watchlist_edits.py's, the same the command line runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from core.options import env_name
from core.settings import Settings
from core.times import Clock, utc_now
from jobs.providers.base import Provider
from jobs.watchlist_edits import EditResult, WatchlistEdits

log = logging.getLogger(__name__)
ACTIONS = ("add", "remove", "undo")  # an undo of a removal is adding the stock back


class WatchlistEditor:
    """What the page's callback calls: `edit(action, symbol)`; its provider is made lazily."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        provider: Callable[[], Provider],
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self._provider = provider
        self._edits: WatchlistEdits | None = None
        self._lock = threading.Lock()

    @property
    def editable(self) -> bool:
        """Whether the page may edit the watchlist (it shows its controls only then)."""
        return self.settings.watchlist_editable

    def edit(self, action: str, symbol: str) -> EditResult:
        """Add, remove or undo a removal of `symbol`, or say why not (one line)."""
        if not self.editable:
            variable = env_name(Settings, "watchlist_editable")
            message = f"The watchlist cannot be edited here ({variable} is off)"
            return EditResult(False, message, reason="not_editable")
        if action not in ACTIONS:
            return EditResult(False, f"No such edit: {action[:20]!r}", reason="action")
        edits = self._watchlist_edits()
        return edits.remove(symbol) if action == "remove" else edits.add(symbol)

    def _watchlist_edits(self) -> WatchlistEdits:
        with self._lock:
            if self._edits is None:
                self._edits = WatchlistEdits(
                    self.settings, self.sessions, self._provider(), self.clock
                )
            return self._edits


def signed_in_only(
    editor: Callable[[str, str], EditResult], user: Callable[[], str | None]
) -> Callable[[str, str], EditResult]:
    """`editor` for signed-in users only: the server checks, whatever reached the callback."""

    def edit(action: str, symbol: str) -> EditResult:
        who = user()
        if who is None:
            return EditResult(False, "Sign in to edit the watchlist", reason="not_signed_in")
        result = editor(action, symbol)
        if result.ok:
            log.info("watchlist %s %s by %s", action, result.symbol, who)
        return result

    return edit


def edit(
    settings: Settings,
    sessions: sessionmaker[Session],
    provider: Provider,
    action: str,
    symbol: str,
) -> EditResult:
    """One edit with its checks, refused when editing is off (see WatchlistEditor)."""
    return WatchlistEditor(settings, sessions, lambda: provider).edit(action, symbol)
