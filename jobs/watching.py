"""The poller's copy of the watchlist: read from the database at each price run, changes queued.

The list lives in the database (db/watchlist.py), edited by the page or the command
line in any process; the elected poller reads it every second in a job of its own (a
read inside the price run made that run late beside a long history write on SQLite),
so an edit is polled from the next price run, without a restart. A stock that joins is
queued for its name, logo and 52-week band and for its history, which the metadata and
history jobs pick up within a second; one that leaves is simply not asked for any more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from db.watchlist import seed_watchlist, watched_symbols

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WatchlistChange:
    """What an edit changed: the symbols that joined and those that left."""

    added: tuple[str, ...]
    removed: tuple[str, ...]


class FollowedWatchlist:
    """The symbols polled now, and the joined ones still waiting for metadata or history."""

    def __init__(self, seed: Sequence[str]) -> None:
        self.seed = tuple(seed)  # the settings' list: a new database's first watchlist
        # Until load(), the seed is polled (a bare Poller in a test); replaced whole: no lock.
        self.symbols: tuple[str, ...] = self.seed
        self.loaded = False
        self._lock = threading.Lock()
        self._profiles_due: set[str] = set()
        self._history_due: set[str] = set()

    def load(self, session: Session, now: datetime) -> None:
        """Seed a new database's watchlist, then take the list it holds (nothing queued)."""
        seed_watchlist(session, self.seed, now)
        self.take(watched_symbols(session), queue=False)  # a start fetches everything anyway
        self.loaded = True

    def follow(self, sessions: sessionmaker[Session]) -> WatchlistChange | None:
        """Read the list; on a change take it and queue what joined. None when nothing changed.

        A database that cannot be read leaves the list as it was: prices go on being
        fetched (and held, in an outage) for the stocks watched until then.
        """
        if not self.loaded:
            return None
        try:
            with sessions() as session:
                now = tuple(watched_symbols(session))
        except SQLAlchemyError as exc:
            log.debug("watchlist: not read (%s); polling the same symbols", type(exc).__name__)
            return None
        return self.take(now)

    def take(self, symbols: Sequence[str], queue: bool = True) -> WatchlistChange | None:
        """Make `symbols` the list; queue the joined ones. None when nothing changed."""
        symbols = tuple(symbols)
        if symbols == self.symbols:
            return None
        before = set(self.symbols)
        change = WatchlistChange(
            added=tuple(s for s in symbols if s not in before),
            removed=tuple(s for s in self.symbols if s not in set(symbols)),
        )
        joined = set(change.added) if queue else set()
        with self._lock:
            self.symbols = symbols
            self._profiles_due = (self._profiles_due | joined) - set(change.removed)
            self._history_due = (self._history_due | joined) - set(change.removed)
        if queue and (change.added or change.removed):  # not a mere reordering
            log.info(
                "watchlist: %d symbols now (added %s; removed %s)",
                len(symbols),
                ",".join(change.added) or "none",
                ",".join(change.removed) or "none",
            )
        return change

    @property
    def history_due(self) -> bool:
        """Whether a stock joined whose history was not filled yet."""
        return bool(self._history_due)

    def take_history(self) -> set[str]:
        """The joined stocks whose history is to be filled now (given back if that fails)."""
        with self._lock:
            due, self._history_due = self._history_due, set()
        return due

    def history_failed(self, due: set[str]) -> None:
        """Fill these again next time (those still watched)."""
        with self._lock:
            self._history_due |= due & set(self.symbols)

    def take_profiles(self) -> list[str]:
        """The joined stocks waiting for their name, logo and band, in list order."""
        with self._lock:
            due, self._profiles_due = self._profiles_due, set()
        return [s for s in self.symbols if s in due]
