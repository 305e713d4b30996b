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


# The current block's end (monotonic) and length (see database_deadline).
_block: ContextVar[tuple[float, float] | None] = ContextVar("database_block", default=None)


class DatabaseNotAnswering(SQLAlchemyError):
    """A block just found the database hung: this one fails at once instead of waiting too."""


class _Hang:
    """Whether a block lately missed its deadline, and until when others fail at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.missed = False
        self.quiet_until = 0.0


_hang = _Hang()


@contextmanager
def database_deadline(seconds: float) -> Iterator[None]:
    """Every psycopg2 wait in this block (ping, connect, query) ends within `seconds` from now.

    After a block missed its deadline, one block per `seconds` tries the database again
    and the others raise DatabaseNotAnswering at once: a hung server holds no more than
    one request thread at a time, and the first answer it gives ends the quiet.
    """
    now = time.monotonic()
    with _hang.lock:
        if _hang.missed and now < _hang.quiet_until:
            raise DatabaseNotAnswering("the database did not answer a moment ago")
        if _hang.missed:
            _hang.quiet_until = now + seconds  # this block is the one that tries
    token = _block.set((now + seconds, seconds))
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
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            if _hang.missed:
                with _hang.lock:
                    _hang.missed = False
            return
        if state not in (extensions.POLL_READ, extensions.POLL_WRITE):
            raise psycopg2.OperationalError(f"bad state from poll: {state}")
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            if block is not None:
                with _hang.lock:
                    _hang.missed, _hang.quiet_until = True, time.monotonic() + block[1]
            _shut(conn.fileno())
            what = "connecting" if connecting else "waiting for the server"
            # "closed the connection": SQLAlchemy reads a disconnect, the pool drops it.
            message = f"gave up {what} after {limit:g}s; closed the connection"
            raise psycopg2.OperationalError(message)
        reading = state == extensions.POLL_READ
        fd = conn.fileno()
        select.select([fd] if reading else [], [] if reading else [fd], [], left)


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
