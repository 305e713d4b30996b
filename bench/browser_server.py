"""The real app for the browser bench: a filled database, gunicorn on 127.0.0.1, ticks every 5 s.

The history ends at the real "now" (the page follows the server's clock), and
the bench, not the poller, writes one tick per stock per interval, so every run
draws the same points and a tick always carries exactly one new point per stock.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from fill_history import TICK, WEEK, base_price, fill, seed_stocks

from core.records import Quote
from db.engine import make_engine, make_session_factory, unit_of_work
from db.migrate import upgrade
from db.writes import write_quotes

ROOT = Path(__file__).resolve().parents[1]


def history_end() -> datetime:
    """The latest whole tick time before now: the filled history's (exclusive) end."""
    now = int(time.time())
    return datetime.fromtimestamp(now - now % TICK, tz=timezone.utc)


def fill_database(url: str, symbols: Sequence[str]) -> datetime:
    """Migrate, watch `symbols` and fill 7 days of ticks every 5 s up to now; the end."""
    upgrade(url)
    engine = make_engine(url)
    try:
        seed_stocks(make_session_factory(engine), symbols)
        end = history_end()
        fill(engine, symbols, end - WEEK, end, TICK)
        return end
    finally:
        engine.dispose()


class TickWriter:
    """A thread writing one tick per stock at every whole interval, as the poller would."""

    def __init__(self, url: str, symbols: Sequence[str], interval: float = TICK) -> None:
        self.engine = make_engine(url)
        self.sessions = make_session_factory(self.engine)
        self.symbols, self.interval = list(symbols), interval
        self.written = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-ticks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.engine.dispose()

    def _run(self) -> None:
        while not self._stop.wait(self.interval - time.time() % self.interval):
            at = datetime.fromtimestamp(round(time.time()), tz=timezone.utc)
            move = [1 + 0.01 * math.sin(at.timestamp() / 600 + i) for i in range(len(self.symbols))]
            quotes = [
                Quote(s, Decimal(f"{base_price(s) * m:.4f}"), at, simulated=True)
                for s, m in zip(self.symbols, move, strict=True)
            ]
            with unit_of_work(self.sessions) as session:
                self.written += write_quotes(session, quotes, at).written


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(url: str, symbols: Sequence[str], extra_env: Mapping[str, str]) -> Iterator[str]:
    """gunicorn serving app.wsgi on a free port with no poller; the page's URL. Stopped after."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "STOCKSTREAMER_SYMBOLS": ",".join(symbols),
        "STOCKSTREAMER_WEB_POLLS": "false",
        "STOCKSTREAMER_REFRESH_INTERVAL": str(TICK),
        "STOCKSTREAMER_PRICE_INTERVAL": str(TICK),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_ACCESS_LOG": "0",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bench-browser-metrics-"),
        **extra_env,
    }
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed when the server stops)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "app.wsgi:server"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        _wait_ready(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(base: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{tail}")
        try:
            with urllib.request.urlopen(base + "healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")
