"""One `stockstreamer run` watched from the outside: its price writes, its log, HTTP probes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, func, select

from db.models import PriceTick

ROOT = Path(__file__).resolve().parent.parent
PROBE_EVERY = 0.5  # seconds between two probes of a route (each route on its own thread)
WATCH_EVERY = 0.1  # seconds between two looks for a new price run's rows


def symbols(count: int) -> list[str]:
    """`count` tickers no provider knows (SAA, SAB, …): every one is new, none has history."""
    return [f"S{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(count)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Probe:
    """One GET: when it was sent (epoch seconds), how long the answer took, its status."""

    route: str
    sent: float
    seconds: float
    status: int


@dataclass
class Watched:
    """What was seen: each new price row of the watched symbol, the probes, the log lines."""

    spawned: float
    seen: list[tuple[float, datetime]] = field(default_factory=list)  # (seen at, fetched_at)
    probes: list[Probe] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)


class WatchedService:
    """`stockstreamer run` on a free port; a thread looks for new price rows, two probe."""

    def __init__(self, url: str, names: list[str], env: dict[str, str], log_path: Path) -> None:
        self.url, self.names, self.log_path = url, names, log_path
        self.port = free_port()
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("STOCKSTREAMER_", "PROMETHEUS_")) and k != "DATABASE_URL"
            },
            "DATABASE_URL": url,
            "STOCKSTREAMER_SYMBOLS": ",".join(names),
            "STOCKSTREAMER_HOST": "127.0.0.1",
            "STOCKSTREAMER_PORT": str(self.port),
            "STOCKSTREAMER_LOG_FORMAT": "json",  # UTC times to the microsecond
            **env,
        }
        self._stop = threading.Event()
        self.watched = Watched(spawned=time.time())
        self._process: subprocess.Popen | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        cli = Path(sys.executable).with_name("stockstreamer")
        self.watched.spawned = time.time()
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [str(cli), "run"], cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        self._threads = [
            threading.Thread(target=self._watch_writes, daemon=True),
            *(
                threading.Thread(target=self._probe, args=(route,), daemon=True)
                for route in ("/readyz", "/metrics")
            ),
        ]
        for thread in self._threads:
            thread.start()

    def read_log(self) -> list[dict]:
        """The service's JSON log lines so far (others, e.g. its start line, skipped)."""
        lines = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        self.watched.log = lines
        return lines

    def exited(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def stop(self) -> Watched:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self.read_log()
        return self.watched

    def _watch_writes(self) -> None:
        # One symbol's newest rows through its primary key: every price run writes all the
        # symbols in one transaction, so the moment this one's row appears is the run's commit.
        symbol = self.names[-1]  # the last one the history fill reaches
        engine = create_engine(self.url)
        last: datetime | None = None
        try:
            while not self._stop.wait(WATCH_EVERY):
                try:
                    with engine.connect() as connection:
                        query = select(PriceTick.observed_at, PriceTick.fetched_at).where(
                            PriceTick.symbol == symbol
                        )
                        if last is None:
                            query = query.where(PriceTick.fetched_at >= _utc(self.watched.spawned))
                        else:
                            query = query.where(PriceTick.observed_at > last)
                        rows = connection.execute(query.order_by(PriceTick.observed_at)).all()
                except Exception:  # the schema or the file is not there yet
                    continue
                now = time.time()
                for observed_at, fetched_at in rows:
                    self.watched.seen.append((now, fetched_at))
                    last = observed_at
        finally:
            engine.dispose()

    def _probe(self, route: str) -> None:
        url = f"http://127.0.0.1:{self.port}{route}"
        while not self._stop.wait(PROBE_EVERY):
            sent = time.time()
            try:
                with urllib.request.urlopen(url, timeout=10) as answer:
                    answer.read()
                    status = answer.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:  # not listening yet, or timed out
                continue
            self.watched.probes.append(Probe(route, sent, time.time() - sent, status))


def run_sizes(url: str) -> dict[datetime, int]:
    """Rows per fetched_at: a price run writes one row per symbol under one fetched_at."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(PriceTick.fetched_at, func.count()).group_by(PriceTick.fetched_at)
            ).all()
    finally:
        engine.dispose()
    return {at: count for at, count in rows}


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)
