"""Real gunicorn processes for the service tests: started, read and stopped, every wait bounded."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO \[(?P<pid>\d+)\] jobs\.poll: "
    r"prices: written=(?P<written>\d+) duplicates=(?P<duplicates>\d+)"
)


@dataclass(frozen=True)
class PriceRun:
    """One logged price run: when, by which process, and what it wrote."""

    at: datetime
    pid: int
    written: int
    duplicates: int


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout: float, what: str, step: float = 0.05):
    """Poll `condition` until it returns a true value, or fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    """GET a URL: (status, body), with HTTP errors returned rather than raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def service_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a service process: this one's, minus stray settings, plus ours."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STOCKSTREAMER_", "PROMETHEUS_")) and k != "DATABASE_URL"
    }
    env.update(
        DATABASE_URL=database_url,
        GUNICORN_ACCESS_LOG="0",
        STOCKSTREAMER_HISTORY_DAYS="0.01",
        STOCKSTREAMER_SYMBOLS="AAPL,GE,NVDA",
        **extra,
    )
    return env


@dataclass
class Service:
    """A gunicorn (or any) process started from the repository root, logging to a file."""

    command: list[str]
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str | None = "/healthz") -> Service:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if ready_path:
            wait_until(lambda: self._answers(ready_path), 60, f"{self.command[0]} to answer")
        return self

    def _answers(self, path: str) -> bool:
        assert self.process.poll() is None, f"exited early:\n{self.log()[-3000:]}"
        try:
            return get(self.url + path, timeout=1)[0] == 200
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def price_runs(self) -> list[PriceRun]:
        runs = []
        for line in self.log().splitlines():
            match = RUN_LINE.match(line)
            if match:
                at = datetime.strptime(match["at"], "%Y-%m-%d %H:%M:%S,%f")
                runs.append(
                    PriceRun(at, int(match["pid"]), int(match["written"]), int(match["duplicates"]))
                )
        return runs

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def gunicorn(env: dict[str, str], tmp_path: Path, workers: int = 3, *args: str) -> Service:
    """gunicorn with the repository's gunicorn.conf.py, as the Procfile runs it."""
    port = free_port()
    metrics_dir = tmp_path / f"metrics-{port}"  # one per instance, as on separate hosts
    metrics_dir.mkdir()
    env = {
        **env,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    command = [sys.executable, "-m", "gunicorn", *args, "app.wsgi:server"]
    return Service(command, env, tmp_path / f"gunicorn-{port}.log", port)


def lock_holder_pid(admin_engine, database: str) -> int | None:
    """The OS pid of the process holding the poller lock on `database`, from pg_stat_activity."""
    from sqlalchemy import text

    with admin_engine.connect() as connection:
        name = connection.execute(
            text(
                "SELECT a.application_name FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = :db"
            ),
            {"db": database},
        ).scalar()
    return int(name.rsplit("-", 1)[1]) if name else None
