"""Client-side deadlines for psycopg2: a frozen server answers nothing, not even its own timeouts.

A hung PostgreSQL (SIGSTOP, a stalled disk, a dead network path the kernel still
ACKs) leaves libpq waiting forever: statement_timeout is the server's to enforce
and keepalives are answered by the server's kernel. A psycopg2 wait callback
waits on the socket with a deadline instead, then closes the connection, which
SQLAlchemy treats as a disconnect (the pool drops it, the caller gets an
OperationalError).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

import psycopg2
from psycopg2 import extensions
from sqlalchemy.exc import SQLAlchemyError


@cache
def deadline_connection_factory(connect_seconds: float, wait_seconds: float) -> type:
    """A psycopg2 connection class whose waits end after these many seconds."""
    return type(
        "DeadlineConnection",
        (extensions.connection,),
        {"connect_seconds": connect_seconds, "wait_seconds": wait_seconds},
    )


def install_deadline_wait() -> None:
    """Make psycopg2 wait through `wait_with_deadline` (process-wide; idempotent)."""
    if extensions.get_wait_callback() is not wait_with_deadline:
        extensions.set_wait_callback(wait_with_deadline)


# The current block's end (monotonic), its length, and whether it is the one trying a hung database.
_block: ContextVar[tuple[float, float, bool] | None] = ContextVar("database_block", default=None)
# A wait in a block with no answer for this long makes the database suspect: other blocks give up.
SUSPECT_AFTER = 1.0
# How often a waiting block looks whether the database became suspect meanwhile.
WATCH_STEP = 0.1


class DatabaseNotAnswering(SQLAlchemyError):
    """A block just found the database hung: this one fails at once instead of waiting too."""


class _Hang:
    """Whether the database lately left a block unanswered, and until when others fail at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.missed = False
        self.quiet_until = 0.0


_hang = _Hang()


@contextmanager
def database_deadline(seconds: float) -> Iterator[None]:
    """Every psycopg2 wait in this block (ping, connect, query) ends within `seconds` from now.

    When a block's wait has had no answer for SUSPECT_AFTER, the database is suspect:
    the other blocks give up at once (DatabaseNotAnswering or a closed connection) and,
    per `seconds`, one block tries it again. A hung server so holds one request thread,
    not all of them, and its first answer ends the suspicion.
    """
    now = time.monotonic()
    with _hang.lock:
        if _hang.missed and now < _hang.quiet_until:
            raise DatabaseNotAnswering("the database did not answer a moment ago")
        trying = _hang.missed
        if trying:
            _hang.quiet_until = now + seconds  # this block is the one that tries
    token = _block.set((now + seconds, seconds, trying))
    try:
        yield
    finally:
        _block.reset(token)


def wait_with_deadline(conn) -> None:
    """Wait for one psycopg2 operation; past the connection's deadline, close it and raise."""
    connecting = conn.status == extensions.STATUS_SETUP and not _connected(conn)
    limit = getattr(conn, "connect_seconds" if connecting else "wait_seconds", None)
    started, block = time.monotonic(), _block.get()
    ends = [t for t in (block and block[0], None if limit is None else started + limit) if t]
    deadline = min(ends, default=None)
    limit = None if deadline is None else deadline - started
    trying = block is not None and block[2]
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            if _hang.missed:
                with _hang.lock:
                    _hang.missed = False
            return
        if state not in (extensions.POLL_READ, extensions.POLL_WRITE):
            raise psycopg2.OperationalError(f"bad state from poll: {state}")
        now = time.monotonic()
        give_up = deadline is not None and now >= deadline
        if block is not None and not give_up:
            trying, give_up = _watch(now - started, block[1], trying)
        if give_up:
            if block is not None:
                with _hang.lock:
                    _hang.missed, _hang.quiet_until = True, time.monotonic() + block[1]
            _shut(conn.fileno())
            what = "connecting" if connecting else "waiting for the server"
            # "closed the connection": SQLAlchemy reads a disconnect, the pool drops it.
            message = f"gave up {what} after {now - started:.2g}s; closed the connection"
            raise psycopg2.OperationalError(message)
        left = None if deadline is None else deadline - now
        if block is not None:
            left = min(left or WATCH_STEP, WATCH_STEP)
        reading = state == extensions.POLL_READ
        fd = conn.fileno()
        select.select([fd] if reading else [], [] if reading else [fd], [], left)


def _watch(waited: float, seconds: float, trying: bool) -> tuple[bool, bool]:
    """(whether this wait is the one trying the database, whether it should give up now)."""
    with _hang.lock:
        if not _hang.missed and waited > SUSPECT_AFTER:
            _hang.missed, _hang.quiet_until = True, time.monotonic() + seconds
            return True, False
        return trying, _hang.missed and not trying


def _shut(fd: int) -> None:
    # conn.close() would deadlock here (the operation holds the connection's lock):
    # shutting the socket down ends the connection for libpq and the server alike.
    duplicate = socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM)
    with duplicate, contextlib.suppress(OSError):
        duplicate.shutdown(socket.SHUT_RDWR)


def _connected(conn) -> bool:
    # During the connection's set-up the server has sent no parameters yet.
    try:
        return conn.server_version != 0
    except psycopg2.Error:
        return False
