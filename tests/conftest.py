"""Test composition root: real databases (PostgreSQL and SQLite), created here and dropped after.

PostgreSQL comes from STOCKSTREAMER_TEST_POSTGRES_URL, a URL of a role allowed to
create databases (its database part is only used to connect). Without it, or when
it cannot be reached, PostgreSQL tests skip with the reason, unless
STOCKSTREAMER_TEST_NO_SKIP=1 (as in CI), which turns every skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from db.models import Base
from tests.own_postgres import own_postgres  # noqa: F401  (a cluster the tests may freeze)

PG_ENV = "STOCKSTREAMER_TEST_POSTGRES_URL"
DEFAULT_PG = "postgresql+psycopg2://stockstreamer:stockstreamer@127.0.0.1:5432/postgres"
NO_SKIP = os.environ.get("STOCKSTREAMER_TEST_NO_SKIP") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped test is an error: it would hide a missing service."""
    outcome = yield
    report = outcome.get_result()
    if NO_SKIP and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped, but STOCKSTREAMER_TEST_NO_SKIP=1 forbids skips: {reason}"


class PostgresServer:
    """Creates and drops uniquely named databases on a PostgreSQL server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url).set(drivername="postgresql+psycopg2")
        self.engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"stockstreamer_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        """Drop a database made by create_database, closing its connections first."""
        name = make_url(url).database
        with self.engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        """Drop whatever is left and close the admin engine."""
        for name in list(self.created):
            with self.engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server, or a skip saying why there is none."""
    url = os.environ.get(PG_ENV, DEFAULT_PG)
    try:
        server = PostgresServer(url)
        with server.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable via {PG_ENV} ({type(exc).__name__}); see README")
    yield server
    server.close()


@pytest.fixture
def database_url_factory(request, tmp_path) -> Iterator:
    """Make empty databases of a backend ("postgresql" or "sqlite"); all removed after the test."""
    made: list[tuple[str, str]] = []

    def make(backend: str) -> str:
        if backend == "postgresql":
            url = request.getfixturevalue("postgres_server").create_database()
        else:
            url = f"sqlite:///{tmp_path / f'db-{len(made)}.sqlite'}"
        made.append((backend, url))
        return url

    yield make
    for backend, url in made:
        if backend == "postgresql":
            request.getfixturevalue("postgres_server").drop_database(url)


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(request) -> str:
    """Each test that asks for a database runs on both backends."""
    return request.param


@pytest.fixture(scope="session")
def _migrated_postgresql(postgres_server) -> Iterator[str]:
    url = postgres_server.create_database()
    upgrade(url)
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite'}"
    upgrade(url)
    return url


@pytest.fixture
def database_url(request, backend) -> str:
    """A migrated database of the current backend, emptied after each test."""
    return request.getfixturevalue(f"_migrated_{backend}")


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    """An engine on the migrated test database; its tables are emptied afterwards."""
    engine = make_engine(database_url)
    yield engine
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture
def sessions(engine) -> sessionmaker[Session]:
    """A session factory on the test database."""
    return make_session_factory(engine)


@pytest.fixture
def project_root() -> Path:
    """The repository root (where alembic.ini lives)."""
    return Path(__file__).resolve().parent.parent
