"""The poller's lock: at most one process in a deployment holds it at any moment.

PostgreSQL: a session-level advisory lock on a dedicated connection (never a
pooled one: returning it to a pool would hand the lock to whoever borrows it
next, and a transaction-level lock ends with its transaction). The server frees
the lock as soon as that connection dies, however the process ended.

SQLite (one host): an exclusive file lock next to the database file.

`fence(session)` lets a writer check, inside its own transaction, that this
process still holds the lock, so a half-dead leader cannot keep writing.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from db.engine import CONNECT_TIMEOUT, STATEMENT_TIMEOUT, postgres_connect_args
from db.reachability import OutageLog, failure_cause

log = logging.getLogger(__name__)

# Fits in 31 bits, so pg_locks shows it as classid 0, objid KEY, objsubid 1.
POLLER_LOCK_KEY = 0x53544B53  # "STKS"


class NotLeader(Exception):
    """This process no longer holds the poller's lock; its write must not happen."""


class PollerLock(Protocol):
    """What the election needs from a lock."""

    # Whether the last try_acquire failed for want of a database, not to another holder.
    unreachable: bool

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it."""
        ...

    def still_held(self) -> bool:
        """Whether this process still holds it (False once its connection is gone)."""
        ...

    def fence(self, session: Session) -> None:
        """Raise NotLeader unless the lock is still ours, checked in the writer's transaction."""
        ...

    def release(self) -> None:
        """Let go of the lock and its connection."""
        ...


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock held on its own connection."""

    def __init__(
        self,
        database_url: str,
        key: int = POLLER_LOCK_KEY,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        statement_timeout: float = STATEMENT_TIMEOUT,
    ) -> None:
        # Keepalives make the server drop (and so unlock) a connection whose host vanished;
        # the timeouts and the client-side deadline keep a frozen server from hanging the election.
        self._engine = create_engine(
            database_url,
            poolclass=NullPool,
            connect_args={
                **postgres_connect_args(connect_timeout, statement_timeout),
                # Operators (and tests) see which process holds the lock in pg_stat_activity.
                "application_name": f"stockstreamer-poller-{os.getpid()}",
            },
        )
        self._key = key
        self._connection: Connection | None = None
        self._pid: int | None = None
        self.unreachable = False
        # Tried every election interval: an outage is said once, not twice a second.
        self._outage = OutageLog(log)

    @property
    def pid(self) -> int | None:
        """The server process id of the lock's connection while it is held."""
        return self._pid

    def try_acquire(self) -> bool:
        """Take the lock on a fresh dedicated connection; False when another process has it."""
        try:
            if self._connection is None:
                connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                # The server probes the client too, so a lost host frees the lock quickly.
                connection.execute(text("SET tcp_keepalives_idle = 5"))
                connection.execute(text("SET tcp_keepalives_interval = 2"))
                connection.execute(text("SET tcp_keepalives_count = 2"))
                self._connection = connection
                self._outage.recovered("poller lock: the database answers again")
            got = bool(
                self._connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
                ).scalar()
            )
            if got:
                self._pid = int(self._connection.execute(text("SELECT pg_backend_pid()")).scalar())
            else:
                self._drop()  # followers hold no idle connection between tries
            self.unreachable = False
            return got
        except DBAPIError as exc:
            self._outage.failed(f"poller lock: cannot reach the database ({failure_cause(exc)})")
            self._drop()
            self.unreachable = True
            return False

    def still_held(self) -> bool:
        """Ask the server, on the lock's own connection, whether the lock is still ours."""
        if self._connection is None:
            return False
        try:
            held = self._connection.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objid = :key AND objsubid = 1 AND pid = pg_backend_pid() AND granted)"
                ),
                {"key": self._key},
            ).scalar()
        except DBAPIError:
            held = False
        if not held:
            self._drop()
        return bool(held)

    def fence(self, session: Session) -> None:
        """In the writer's transaction: is the lock still held by our lock connection?"""
        held = (
            self._pid is not None
            and session.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objid = :key AND objsubid = 1 AND pid = :pid AND granted)"
                ),
                {"key": self._key, "pid": self._pid},
            ).scalar()
        )
        if not held:
            raise NotLeader("the poller lock is no longer held by this process")

    def release(self) -> None:
        """Unlock by closing the dedicated connection."""
        self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.close()
        self._connection = None
        self._pid = None


class SQLiteFileLock:
    """An exclusive file lock beside the SQLite database (one host)."""

    def __init__(self, database_url: str) -> None:
        database = make_url(database_url).database or "stockstreamer.db"
        self.path = Path(f"{database}.poller.lock")
        # Not thread-local: the election thread takes it, the poller threads check it.
        self._lock = FileLock(str(self.path), thread_local=False)
        self.unreachable = False  # a file lock needs no database
        self._outage = OutageLog(log)

    def try_acquire(self) -> bool:
        """Take the file lock without waiting; False when another process has it (or it cannot)."""
        if self._lock.is_locked:
            return True
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        except OSError as exc:
            # A missing or unwritable directory: expected, said once, no traceback.
            self._outage.failed(
                f"poller lock: cannot create {self.path} ({exc.strerror or type(exc).__name__})"
            )
            return False
        self._outage.recovered(f"poller lock: {self.path} can be created again")
        return True

    def still_held(self) -> bool:
        """The lock dies only with the process that holds it."""
        return self._lock.is_locked

    def fence(self, session: Session) -> None:
        """Writers share the process with the lock; nothing can fence them more."""
        if not self._lock.is_locked:
            raise NotLeader("the poller file lock is not held")

    def release(self) -> None:
        """Unlock the file."""
        if self._lock.is_locked:
            self._lock.release(force=True)


def poller_lock(database_url: str, **timeouts: float) -> PollerLock:
    """The right lock for the database (`timeouts`: connect_timeout, statement_timeout)."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return AdvisoryLock(database_url, **timeouts)
    return SQLiteFileLock(database_url)
