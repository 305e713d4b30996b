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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

import psycopg2
from psycopg2 import extensions


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


# The monotonic time by which the current block's database work must end (see database_deadline).
_block_ends: ContextVar[float | None] = ContextVar("database_block_ends", default=None)


@contextmanager
def database_deadline(seconds: float) -> Iterator[None]:
    """Every psycopg2 wait in this block (ping, connect, query) ends within `seconds` from now."""
    token = _block_ends.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _block_ends.reset(token)


def wait_with_deadline(conn) -> None:
    """Wait for one psycopg2 operation; past the connection's deadline, close it and raise."""
    connecting = conn.status == extensions.STATUS_SETUP and not _connected(conn)
    limit = getattr(conn, "connect_seconds" if connecting else "wait_seconds", None)
    started = time.monotonic()
    ends = [t for t in (_block_ends.get(), None if limit is None else started + limit) if t]
    deadline = min(ends, default=None)
    limit = None if deadline is None else deadline - started
    while True:
        state = conn.poll()
        if state == extensions.POLL_OK:
            return
        if state not in (extensions.POLL_READ, extensions.POLL_WRITE):
            raise psycopg2.OperationalError(f"bad state from poll: {state}")
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
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
