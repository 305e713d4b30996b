"""A PostgreSQL cluster of the tests' own, which they may freeze (SIGSTOP) and thaw.

Never the main cluster on 5432: CI and other sessions use it. The cluster is made
with pg_createcluster (Debian's postgresql-common, as in CI), started, given a
role and a database, and dropped with `pg_dropcluster --stop` at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

VERSION = "15"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str) -> list[str]:
    # pg_createcluster and psql run as the postgres user; tests in CI run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


class OwnPostgres:
    """One cluster: its URL for a test role and database, and freeze()/thaw()."""

    def __init__(self, name: str | None = None, port: int | None = None) -> None:
        # A fixed name lets a benchmark drop what a killed run of it left behind.
        self.name = name or f"sst_{uuid.uuid4().hex[:8]}"
        self.port = port or _free_port()
        self.url = f"postgresql+psycopg2://sst:sst@127.0.0.1:{self.port}/sst"

    def start(self) -> None:
        subprocess.run(
            ["pg_createcluster", VERSION, self.name, "-p", str(self.port), "--start"],
            check=True,
            capture_output=True,
        )
        for sql in ("CREATE ROLE sst LOGIN PASSWORD 'sst'", "CREATE DATABASE sst OWNER sst"):
            psql = ["psql", "-q", "-p", str(self.port), "-v", "ON_ERROR_STOP=1", "-c", sql]
            subprocess.run(_as_postgres(*psql), check=True, capture_output=True)

    def drop(self) -> None:
        self.thaw()
        subprocess.run(
            ["pg_dropcluster", VERSION, self.name, "--stop"], check=False, capture_output=True
        )

    def _pids(self) -> list[int]:
        pid_file = Path(f"/var/lib/postgresql/{VERSION}/{self.name}/postmaster.pid")
        if not pid_file.exists():
            return []
        postmaster = int(pid_file.read_text().split()[0])
        children = subprocess.run(
            ["pgrep", "-P", str(postmaster)], capture_output=True, text=True
        ).stdout.split()
        return [postmaster, *map(int, children)]

    def freeze(self) -> None:
        """Stop the postmaster and its children: connections stay open, nothing answers."""
        for pid in self._pids():
            with contextlib.suppress(ProcessLookupError):  # a child that just ended
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """Let the cluster run again."""
        for pid in self._pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    @contextmanager
    def stopped(self):
        """Shut down (fast) inside the block, started again after it."""
        control = ["pg_ctlcluster", VERSION, self.name]
        subprocess.run([*control, "stop", "-m", "fast"], check=True, capture_output=True)
        try:
            yield
        finally:
            subprocess.run([*control, "start"], check=True, capture_output=True)

    @contextmanager
    def frozen(self):
        """Frozen inside the block, running again after it, whatever happens."""
        self.freeze()
        try:
            yield
        finally:
            self.thaw()


@pytest.fixture(scope="session")
def own_postgres():
    """A started cluster of the tests' own, dropped at the end; a skip says why there is none."""
    if shutil.which("pg_createcluster") is None:
        pytest.skip("pg_createcluster (postgresql-common) is not installed: no cluster to freeze")
    cluster = OwnPostgres()
    try:
        cluster.start()
    except subprocess.CalledProcessError as exc:
        cluster.drop()
        pytest.skip(f"pg_createcluster failed: {exc.stderr.decode(errors='replace')[-300:]}")
    yield cluster
    cluster.drop()
