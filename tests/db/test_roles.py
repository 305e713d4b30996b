"""docs/roles.sql as the EC2 guide applies it: the runtime role runs the service and no more.

The roles are made by the superuser of a cluster of the tests' own (tests/own_postgres.py),
with unique names, and dropped at the end with their database.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ProgrammingError

from app.factory import create_app
from core.market import ALWAYS_OPEN
from core.retention import TICKS, Retention
from core.settings import load_settings
from db.engine import make_engine, make_session_factory
from db.locks import poller_lock
from jobs.providers.registry import PROVIDERS
from jobs.retention import RetentionPass
from tests.app.test_cli import cli_env, stockstreamer
from tests.db.helpers import run_alembic
from tests.own_postgres import _as_postgres

DOCS = Path(__file__).resolve().parents[2] / "docs"
VERSION_WRITE = "UPDATE alembic_version SET version_num = '0001'"
HINT = " (migrate as the role that owns the schema: see docs/deploy-ec2.md)"


@dataclass
class Roles:
    """The guide's names of one test, and the URL of each role on their database."""

    port: int
    names: dict[str, str]  # migrator, runtime, database
    passwords: dict[str, str]  # migrator, runtime

    def url(self, role: str) -> str:
        name, password = self.names[role], self.passwords[role]
        url = URL.create("postgresql+psycopg2", name, password, "127.0.0.1", self.port)
        return url.set(database=self.names["database"]).render_as_string(hide_password=False)

    @property
    def migrator(self) -> str:
        return self.url("migrator")

    @property
    def runtime(self) -> str:
        return self.url("runtime")

    def psql(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """psql as the superuser, the way the guide runs it (ON_ERROR_STOP, the names set)."""
        names = [f"-v{key}={value}" for key, value in self.names.items()]
        command = ["psql", "-X", "-q", "-p", str(self.port), "-v", "ON_ERROR_STOP=1", *names]
        return subprocess.run(
            _as_postgres(*command, *args), input=stdin, capture_output=True, text=True, timeout=60
        )

    def apply(self, script: str, stdin: str = "") -> None:
        """One of docs/*.sql, from a copy the superuser may read (beside the one it includes)."""
        with tempfile.TemporaryDirectory(dir="/tmp") as folder:
            Path(folder).chmod(0o755)
            for sql in DOCS.glob("*.sql"):
                (Path(folder) / sql.name).write_text(sql.read_text())
            done = self.psql("-f", str(Path(folder) / script), stdin=stdin)
        assert done.returncode == 0, done.stderr


@pytest.fixture
def names(own_postgres) -> Iterator[Roles]:
    """Unique role and database names on the tests' own cluster; all dropped after the test."""
    tag = secrets.token_hex(4)
    names = {"migrator": f"sst_migrate_{tag}", "runtime": f"sst_run_{tag}"}
    roles = Roles(
        own_postgres.port,
        {**names, "database": f"sst_app_{tag}"},
        {role: secrets.token_hex(16) for role in names},
    )
    yield roles
    roles.psql("-c", f'DROP DATABASE IF EXISTS "{roles.names["database"]}" WITH (FORCE)')
    for name in names.values():
        roles.psql("-c", f'DROP ROLE IF EXISTS "{name}"')
    left = roles.psql("-tAc", f"SELECT rolname FROM pg_roles WHERE rolname LIKE '%{tag}'")
    assert left.stdout.strip() == ""


@pytest.fixture
def roles(names: Roles) -> Roles:
    """The guide's roles and database, made by applying docs/roles.sql as the superuser."""
    names.apply("roles.sql", stdin=f"{names.passwords['migrator']}\n{names.passwords['runtime']}\n")
    return names


def refused(url: str, statement: str) -> str:
    """The database's refusal of one statement run by this URL's role, its first line."""
    engine = make_engine(url)
    try:
        with pytest.raises(ProgrammingError) as caught, engine.begin() as connection:
            connection.execute(text(statement))
        return str(caught.value.orig).splitlines()[0]
    finally:
        engine.dispose()


def test_the_runtime_role_cannot_migrate_and_is_told_so_in_one_line(roles, project_root, tmp_path):
    # A new database: the runtime role cannot even make alembic's version table.
    done = run_alembic(roles.runtime, project_root, "upgrade", "head")
    assert done.returncode == 1
    assert (
        done.stderr.splitlines()[-1]
        == f"alembic: stopped: permission denied for schema public{HINT}"
    )
    assert "Traceback" not in done.stderr

    # A database one revision behind: the runtime role cannot alter the migration role's tables.
    assert run_alembic(roles.migrator, project_root, "upgrade", "0007").returncode == 0
    done = run_alembic(roles.runtime, project_root, "upgrade", "head")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == f"alembic: stopped: must be owner of table stocks{HINT}"
    assert run_alembic(roles.migrator, project_root, "current").stdout.startswith("0007")

    init_db = stockstreamer("init-db", env=cli_env(roles.runtime), cwd=tmp_path)
    [line] = init_db.stderr.splitlines()
    assert init_db.returncode != 0
    assert line.startswith("stockstreamer: cannot use the database at DATABASE_URL=")
    assert line.endswith(": must be owner of table stocks"), line


def test_the_runtime_role_runs_the_service_and_cannot_change_the_schema(
    roles, project_root, tmp_path
):
    assert run_alembic(roles.migrator, project_root, "upgrade", "head").returncode == 0
    env = cli_env(roles.runtime)

    # The poller: seeds the watchlist, writes stocks, prices and bars, under the advisory lock.
    poll = stockstreamer("poll", "--once", env=env, cwd=tmp_path)
    assert poll.returncode == 0, poll.stderr
    assert json.loads(poll.stdout)["written"] >= 2
    lock = poller_lock(roles.runtime)
    try:
        assert lock.try_acquire() and lock.still_held()
    finally:
        lock.release()

    # Watchlist edits, as the page's editor makes them.
    for args in (("add", "MSFT"), ("remove", "GE"), ("list",)):
        edit = stockstreamer("watch", *args, env=env, cwd=tmp_path)
        assert edit.returncode == 0, edit.stderr

    # The page's reads, through the real app.
    engine = make_engine(roles.runtime)
    sessions = make_session_factory(engine)
    try:
        settings = load_settings(PROVIDERS, database_url=roles.runtime)
        now = datetime.now(timezone.utc)
        client = create_app(settings, sessions, ALWAYS_OPEN, clock=lambda: now).server.test_client()
        stocks = client.get("/api/v1/stocks").get_json()["stocks"]
        assert [s["symbol"] for s in stocks] == ["AAPL", "MSFT"]
        prices = client.get("/api/v1/prices?symbols=AAPL&resolution=tick")
        assert prices.status_code == 200 and prices.get_json()["count"] >= 1
        assert client.get("/download.csv?range=1D").status_code == 200
        assert client.get("/readyz").status_code == 200

        # A retention pass ten days on: the ticks a day's retention no longer keeps are deleted.
        later = now + timedelta(days=10)
        result = RetentionPass(sessions, Retention({TICKS: 1}), 100, lambda: later).run()
        assert result.finished and result.removed[TICKS] >= 2
    finally:
        engine.dispose()

    assert refused(roles.runtime, "DROP TABLE price_ticks") == "must be owner of table price_ticks"
    # It reads the schema's revision (the poller checks it) and cannot mark another current.
    for statement in (VERSION_WRITE, "DELETE FROM alembic_version", "TRUNCATE alembic_version"):
        assert refused(roles.runtime, statement) == "permission denied for table alembic_version"
    assert refused(roles.runtime, "CREATE TABLE extra (x int)") == (
        "permission denied for schema public"
    )
    assert refused(roles.runtime, "CREATE TEMPORARY TABLE extra (x int)").startswith(
        "permission denied to create temporary tables in database"
    )
    assert refused(roles.runtime, "ALTER TABLE stocks ADD COLUMN x int") == (
        "must be owner of table stocks"
    )
    # The migration role still can (it owns them).
    engine = make_engine(roles.migrator)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE later_table (x int)"))
    finally:
        engine.dispose()
    # ... and a table a later migration makes is the runtime role's to write at once.
    engine = make_engine(roles.runtime)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO later_table VALUES (1)"))
            connection.execute(text("DELETE FROM later_table"))
    finally:
        engine.dispose()


def test_an_older_database_owned_by_the_runtime_role_is_handed_to_the_migration_role(
    names, project_root, tmp_path
):
    """The guide's steps for a deployment whose one role owned everything."""
    runtime, migrator, database = (names.names[k] for k in ("runtime", "migrator", "database"))
    password = names.passwords["runtime"]
    names.psql("-c", f"CREATE ROLE \"{runtime}\" LOGIN PASSWORD '{password}'")
    names.psql("-c", f'CREATE DATABASE "{database}" OWNER "{runtime}"')
    assert run_alembic(names.runtime, project_root, "upgrade", "head").returncode == 0

    password = names.passwords["migrator"]
    done = names.psql(
        "-d",
        database,
        "-c",
        f"CREATE ROLE \"{migrator}\" LOGIN PASSWORD '{password}'",
        "-c",
        f'REASSIGN OWNED BY "{runtime}" TO "{migrator}"',
    )
    assert done.returncode == 0, done.stderr
    names.apply("grants.sql")

    poll = stockstreamer("poll", "--once", env=cli_env(names.runtime), cwd=tmp_path)
    assert poll.returncode == 0, poll.stderr
    assert refused(names.runtime, "DROP TABLE price_ticks") == "must be owner of table price_ticks"
    assert refused(names.runtime, VERSION_WRITE) == "permission denied for table alembic_version"
    assert refused(names.runtime, "CREATE TABLE extra (x int)") == (
        "permission denied for schema public"
    )
    for step in ("-1", "head"):
        done = run_alembic(
            names.migrator, project_root, "downgrade" if step == "-1" else "upgrade", step
        )
        assert done.returncode == 0, done.stderr
    poll = stockstreamer("poll", "--once", env=cli_env(names.runtime), cwd=tmp_path)
    assert poll.returncode == 0, poll.stderr
