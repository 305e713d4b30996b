"""Engines and sessions, built by functions (never at import)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from db.deadlines import deadline_connection_factory, install_deadline_wait

# Nothing waits forever: the defaults of STOCKSTREAMER_DB_*_TIMEOUT, in seconds.
CONNECT_TIMEOUT = 5.0
STATEMENT_TIMEOUT = 10.0
POOL_TIMEOUT = 5.0


def make_engine(
    database_url: str,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    statement_timeout: float = STATEMENT_TIMEOUT,
    pool_timeout: float = POOL_TIMEOUT,
    **kwargs: object,
) -> Engine:
    """An engine with pre-ping and timeouts; SQLite gets WAL, a busy timeout and foreign keys."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        connect_args = postgres_connect_args(connect_timeout, statement_timeout)
        kwargs["connect_args"] = {**connect_args, **kwargs.get("connect_args", {})}  # type: ignore[dict-item]
    if "poolclass" not in kwargs and url.database not in (None, "", ":memory:"):
        # A checkout waits this long for a free connection, then fails (QueuePool only).
        kwargs["pool_timeout"] = pool_timeout
    engine = create_engine(database_url, pool_pre_ping=True, **kwargs)  # type: ignore[arg-type]
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def postgres_connect_args(connect_timeout: float, statement_timeout: float) -> dict[str, object]:
    """psycopg2 arguments that bound a connection: connect, statement and client-side deadlines."""
    install_deadline_wait()
    return {
        # libpq counts whole seconds (and at least 2).
        "connect_timeout": max(2, math.ceil(connect_timeout)),
        "options": f"-c statement_timeout={math.ceil(statement_timeout * 1000)}",
        # Keepalives notice a server whose host or network vanished.
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 2,
        # A frozen server enforces no statement_timeout: the client gives up a little later.
        "connection_factory": deadline_connection_factory(connect_timeout, statement_timeout + 1),
    }


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the dashboard read while the poller writes; the busy timeout
    # makes a second writer wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory; each unit of work opens its own session from it."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session, one transaction: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session
