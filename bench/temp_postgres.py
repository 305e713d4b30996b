"""The benchmarks' PostgreSQL: which server, and a fresh database on it that is always dropped."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

DEFAULT_PG = "postgresql://stockstreamer:stockstreamer@127.0.0.1:5432/postgres"


def admin_url() -> str:
    """A role allowed to create databases: the bench's variable, else the tests', else local."""
    return (
        os.environ.get("STOCKSTREAMER_BENCH_POSTGRES_URL")
        or os.environ.get("STOCKSTREAMER_TEST_POSTGRES_URL")
        or DEFAULT_PG
    )


@contextmanager
def temp_postgres(url: str, keep: bool = False) -> Iterator[str | None]:
    """A fresh database, dropped afterwards (even on Ctrl-C) unless kept; None if unreachable."""
    admin = make_url(url).set(drivername="postgresql+psycopg2")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"stockstreamer_bench_{uuid.uuid4().hex[:12]}"  # ours: identifiers cannot be bound
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:
        print(
            f"PostgreSQL not reachable at {admin.render_as_string(hide_password=True)} "
            f"({type(exc.orig or exc).__name__}); measuring SQLite only."
        )
        engine.dispose()
        yield None
        return
    made = admin.set(database=name).render_as_string(hide_password=False)
    if keep:
        print(f"database kept: {made}")
        yield made
        engine.dispose()
        return
    try:
        yield made
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def run_bench(main: Callable[[], int]) -> None:
    """Exit with a bench's status; Ctrl-C unwinds its `temp_postgres` blocks first, and says so."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the temporary databases were removed", file=sys.stderr)
        sys.exit(130)
