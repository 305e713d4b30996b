"""Start-up failures of the stockstreamer command: one line, an exit status, no traceback."""

from __future__ import annotations

import signal
import socket
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.migrate import upgrade
from tests.app.test_cli import cli_env, start, stockstreamer, ticks

UNREACHABLE = "postgresql://stockstreamer:s3cret-pw@127.0.0.1:1/nowhere"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("command", [["init-db"], ["poll", "--once"]])
def test_an_unreachable_database_is_one_line_naming_database_url_and_status_1(command, tmp_path):
    done = stockstreamer(*command, env=cli_env(UNREACHABLE), cwd=tmp_path, timeout=60)
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line == (
        "stockstreamer: cannot use the database at DATABASE_URL="
        "postgresql+psycopg2://stockstreamer:***@127.0.0.1:1/nowhere: Connection refused"
    )
    assert done.stdout == ""


def _unusable_sqlite_paths(tmp_path):
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-directory.db").mkdir()
    return {
        "missing directory": (tmp_path / "missing" / "x.db", "does not exist"),
        "read-only place": ("/sys/x.db", "is not writable"),
        "parent is a file": (tmp_path / "a-file" / "x.db", "is not a directory"),
        "database is a directory": (tmp_path / "a-directory.db", "is not a file"),
    }


@pytest.mark.parametrize(
    "kind", ["missing directory", "read-only place", "parent is a file", "database is a directory"]
)
@pytest.mark.parametrize("command", [["init-db"], ["poll", "--once"], ["poll"], ["run"]])
def test_an_unusable_sqlite_path_is_one_line_and_status_2(command, kind, tmp_path):
    path, says = _unusable_sqlite_paths(tmp_path)[kind]
    env = cli_env(f"sqlite:///{path}", STOCKSTREAMER_PORT=str(free_port()))
    done = stockstreamer(*command, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr)
    assert line.startswith(
        f"stockstreamer: cannot use the database at DATABASE_URL=sqlite:///{path}"
    )
    assert says in line
    assert done.stdout == ""


@pytest.mark.parametrize("url", ["not a url", "mysql://user@host/db", "sqlite:/x.db"])
def test_a_malformed_database_url_is_one_line_and_status_2(url, tmp_path):
    done = stockstreamer("poll", env=cli_env(url), cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert one_line(done.stderr).startswith("stockstreamer: invalid setting DATABASE_URL: ")


@pytest.mark.parametrize("command", [["init-db"], ["poll", "--once"]])
def test_a_schema_from_a_newer_release_is_one_line_and_status_1(command, tmp_path):
    database = tmp_path / "newer.db"
    upgrade(f"sqlite:///{database}")
    with sqlite3.connect(database) as connection:  # as a later release's migration leaves it
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    done = stockstreamer(*command, env=cli_env(f"sqlite:///{database}"), cwd=tmp_path, timeout=60)
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith(
        f"stockstreamer: cannot use the database at DATABASE_URL=sqlite:///{database}"
    )
    assert "'9999'" in line and "newer stockstreamer" in line
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("9999",)
        ]


def test_a_port_in_use_stops_run_before_the_database_is_touched(tmp_path):
    database = tmp_path / "stockstreamer.db"
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = cli_env(f"sqlite:///{database}", STOCKSTREAMER_PORT=str(port))
        done = stockstreamer("run", env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith(
        f"stockstreamer: cannot listen on STOCKSTREAMER_HOST:STOCKSTREAMER_PORT=127.0.0.1:{port}: "
    )
    assert "in use" in line
    assert "dashboard on" not in done.stdout
    assert list(tmp_path.iterdir()) == []  # no database, no lock file: nothing written


def test_an_address_that_cannot_be_listened_on_is_one_line_and_status_2(tmp_path):
    env = cli_env(f"sqlite:///{tmp_path / 'x.db'}", STOCKSTREAMER_HOST="192.0.2.1")
    done = stockstreamer("run", env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert one_line(done.stderr) == (
        "stockstreamer: cannot listen on STOCKSTREAMER_HOST:STOCKSTREAMER_PORT=192.0.2.1:8050: "
        "cannot assign requested address"
    )
    assert list(tmp_path.iterdir()) == []


class Lines:
    """A process's stderr, read as it comes in a thread of its own."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)

    def wait_for(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(needle in line for line in self.lines):
            assert time.monotonic() < deadline, "".join(self.lines)
            time.sleep(0.1)

    def text(self) -> str:
        self._thread.join(timeout=30)
        return "".join(self.lines)


@pytest.mark.parametrize("command", ["poll", "run"])
def test_run_and_poll_wait_for_a_database_that_is_not_there_yet(command, postgres_server, tmp_path):
    """The database appears (migrated, under its name) while the command waits: it then polls."""
    target = f"stockstreamer_test_later_{command}_{int(time.time() * 1000) % 10**9}"
    url = make_url(postgres_server.create_database())
    wanted = url.set(database=target).render_as_string(hide_password=False)
    port = free_port()
    env = cli_env(
        wanted,
        STOCKSTREAMER_PORT=str(port),
        STOCKSTREAMER_PRICE_INTERVAL="0.5",
        STOCKSTREAMER_HISTORY_DAYS="0.001",
    )
    process = start(command, env=env, cwd=tmp_path)
    stderr = Lines(process.stderr)
    try:
        stderr.wait_for(f'database "{target}" does not exist', timeout=30)
        if command == "run":  # the port is held while it waits: no second run can start
            with pytest.raises(OSError), socket.create_server(("127.0.0.1", port)):
                pass
        # The database appears at once, migrated: a rename, so the command never sees it half-made.
        upgrade(url.render_as_string(hide_password=False))
        with postgres_server.engine.connect() as admin:
            admin.execute(text(f'ALTER DATABASE "{url.database}" RENAME TO "{target}"'))
        postgres_server.created[postgres_server.created.index(url.database)] = target
        deadline = time.monotonic() + 60
        while ticks(wanted) < 2:
            assert time.monotonic() < deadline, "".join(stderr.lines)
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    said = stderr.text()
    assert process.returncode == 0, said
    waits = [line for line in said.splitlines() if "cannot use the database" in line]
    assert len(waits) == 1, said
    assert "DATABASE_URL=postgresql+psycopg2://stockstreamer:***@" in waits[0]
    assert "answers now" in said
    assert "Traceback" not in said


def test_a_wait_for_the_database_ends_cleanly_on_sigterm(tmp_path):
    process = start("poll", env=cli_env(UNREACHABLE), cwd=tmp_path)
    stderr = Lines(process.stderr)
    try:
        stderr.wait_for("cannot use the database", timeout=30)
        time.sleep(3)  # a few tries: still one line
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    said = stderr.text()
    assert process.returncode == 0, said
    assert sum("cannot use the database" in line for line in said.splitlines()) == 1, said
    assert "s3cret-pw" not in said and "Traceback" not in said
