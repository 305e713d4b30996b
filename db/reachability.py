"""Whether the configured database can be used at all, and why not, in a few words.

Start-up tells two kinds of failure apart: a database that is not there yet (a
server down, unreachable, still being created: wait for it) and one that never
will be (a SQLite file that cannot be created or written: the setting is wrong).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError


class DatabaseUnusable(Exception):
    """The database setting cannot work as it stands; the message says why in a few words."""


def sqlite_path_problem(database_url: str) -> str | None:
    """Why a SQLite URL's file cannot be created or written, or None (also for non-SQLite URLs).

    Probed by creating a throwaway file beside it: as root, os.access says yes to
    read-only places such as /sys. The poller's lock file goes beside it too.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database)
    directory = path.parent
    if not directory.exists():
        return f"the directory {directory} does not exist"
    if not directory.is_dir():
        return f"{directory} is not a directory"
    if path.exists() and not path.is_file():
        return f"{path} is not a file"
    try:
        with tempfile.TemporaryFile(dir=directory, prefix=".stockstreamer-probe-"):
            pass
        if path.exists():
            with path.open("r+b"):
                pass
    except OSError as exc:
        return f"{path} is not writable ({exc.strerror or type(exc).__name__})"
    return None


def require_usable_sqlite_path(database_url: str) -> None:
    """Raise DatabaseUnusable when a SQLite URL's file cannot be created or written."""
    problem = sqlite_path_problem(database_url)
    if problem is not None:
        raise DatabaseUnusable(problem)


def failure_cause(exc: BaseException) -> str:
    """A database error in a few words: the driver's first line, without the address it repeats."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    first = lines[0] if lines else type(original).__name__
    # psycopg2: 'connection to server at "127.0.0.1", port 1 failed: Connection refused'
    # (DATABASE_URL, logged beside it, already says where).
    _, failed, cause = first.partition(" failed: ")
    cause = cause if failed else first
    # The server's severity ("FATAL:  database … does not exist") says nothing to an operator.
    for severity in ("FATAL:", "ERROR:"):
        cause = cause.removeprefix(severity).strip()
    return cause.rstrip(".")


def is_lasting(database_url: str, exc: BaseException) -> bool:
    """Whether waiting cannot help: a SQLite file that cannot be opened (a busy one can wait)."""
    if make_url(database_url).get_backend_name() != "sqlite":
        return False
    return "locked" not in failure_cause(exc).lower()


class OutageLog:
    """Says an outage once when it starts or changes, every `remind` seconds, and when it ends."""

    # A loop that retries every second must not log every second.

    def __init__(
        self,
        logger: logging.Logger,
        remind: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        level: int = logging.WARNING,
    ) -> None:
        self._log = logger
        self._level = level
        self._remind = remind
        self._clock = clock
        self._cause: str | None = None
        self._since = 0.0
        self._said_at = 0.0

    @property
    def failing(self) -> bool:
        """Whether an outage is going on."""
        return self._cause is not None

    def failed(self, cause: str) -> None:
        """Another failure: said when new, when its cause changed, or as the periodic reminder."""
        now = self._clock()
        if self._cause is None:
            self._since = now
        elif cause == self._cause and now - self._said_at < self._remind:
            return
        suffix = f" (for {now - self._since:.0f} s)" if self._cause == cause else ""
        self._log.log(self._level, "%s%s", cause, suffix)
        self._cause, self._said_at = cause, now

    def recovered(self, message: str) -> None:
        """Say once that the outage ended (nothing when there was none)."""
        if self._cause is not None:
            self._log.info("%s (after %.0f s)", message, self._clock() - self._since)
            self._cause = None
