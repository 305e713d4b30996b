"""The stockstreamer command, run as a real process against real databases."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import inspect

from db.engine import make_engine, make_session_factory
from db.migrate import head_revision
from tests.db.helpers import count_ticks, current_revision


def cli_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKSTREAMER_")}
    env.update(DATABASE_URL=database_url, STOCKSTREAMER_SYMBOLS="AAPL,GE", **extra)
    return env


def stockstreamer(*args: str, env: dict[str, str], cwd, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def start(*args: str, env: dict[str, str], cwd) -> subprocess.Popen:
    """The command running in the background, its output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )


def ticks(url: str) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return count_ticks(session)
    finally:
        engine.dispose()


def test_init_db_upgrades_to_head(database_url_factory, backend, tmp_path):
    url = database_url_factory(backend)
    done = stockstreamer("init-db", env=cli_env(url), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "newest schema" in done.stdout
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_revision()
        assert "price_ticks" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_poll_once_prints_the_result(database_url_factory, backend, tmp_path):
    url = database_url_factory(backend)
    assert stockstreamer("init-db", env=cli_env(url), cwd=tmp_path).returncode == 0
    done = stockstreamer("poll", "--once", env=cli_env(url), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["written"] + result["duplicates"] == 2
    assert result["failed"] == {} and result["rejected"] == {}
    assert ticks(url) == result["written"]


def test_poll_once_exits_non_zero_when_everything_failed(database_url_factory, tmp_path):
    url = database_url_factory("sqlite")
    with socket.socket() as probe:  # a port that refuses connections
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = cli_env(
        url,
        STOCKSTREAMER_PROVIDER="iex",
        STOCKSTREAMER_PROVIDER_BASE_URL=f"http://127.0.0.1:{port}/stable",
        STOCKSTREAMER_PROVIDER_TOKEN="sk_secret_token_42",
        STOCKSTREAMER_RETRY_ATTEMPTS="2",
        STOCKSTREAMER_RETRY_BACKOFF="0.01",
    )
    done = stockstreamer("poll", "--once", env=env, cwd=tmp_path)
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert set(result["failed"]) == {"AAPL", "GE"}
    assert all(reason.startswith("connect:") for reason in result["failed"].values())
    assert "sk_secret_token_42" not in done.stdout + done.stderr


def test_poll_runs_until_sigint_and_shuts_down_cleanly(database_url_factory, backend, tmp_path):
    url = database_url_factory(backend)
    env = cli_env(url, STOCKSTREAMER_PRICE_INTERVAL="0.2", STOCKSTREAMER_HISTORY_DAYS="0.01")
    assert stockstreamer("init-db", env=env, cwd=tmp_path).returncode == 0
    process = start("poll", env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while ticks(url) < 2 * 16 and time.monotonic() < deadline:  # history, then live ticks
            time.sleep(0.2)
        assert ticks(url) >= 2 * 16
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "poller started" in stderr and "poller stopped" in stderr
    assert "Traceback" not in stderr


def test_run_serves_the_dashboard_and_polls_on_the_embedded_defaults(tmp_path):
    """The README's first command: SQLite file in the working directory, simulated market."""
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env = {k: v for k, v in env.items() if not k.startswith("STOCKSTREAMER_")}
    env.update(
        STOCKSTREAMER_PORT=str(port),
        STOCKSTREAMER_HISTORY_DAYS="0.02",
        STOCKSTREAMER_PRICE_INTERVAL="0.5",
    )
    process = start("run", env=env, cwd=tmp_path)
    try:
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_dash-layout", timeout=5
                ) as r:
                    layout, headers = r.read().decode(), r.headers
                break
            except OSError:
                assert time.monotonic() < deadline, "the dashboard never answered"
                time.sleep(0.2)
        assert '"id": "chart"' in layout or '"id":"chart"' in layout
        # No "Server: Werkzeug/3.1.9 Python/3.11.7"; the security headers on every answer.
        assert headers["Server"] is None and headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/assets/logos/AAPL.svg", timeout=5
        ) as r:
            assert r.read().startswith(b"<svg")
        database = tmp_path / "stockstreamer.db"
        while ticks(f"sqlite:///{database}") < 6 * 29:  # 28 minutes of history and a live tick
            assert time.monotonic() < deadline, "the poller wrote nothing"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "poller stopped" in stderr


def test_the_first_run_says_the_address_once_and_nothing_that_looks_like_an_error(tmp_path):
    """The README's first command on a fresh SQLite file: a 7-day history fill, then live ticks.

    A half-second interval makes the fill outlast several price runs, the case that
    made APScheduler warn that a run was skipped.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKSTREAMER_")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'first-run.db'}",
        STOCKSTREAMER_PORT=str(port),
        STOCKSTREAMER_PRICE_INTERVAL="0.5",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(line.rstrip("\n") for line in process.stdout), daemon=True
    )
    reader.start()
    try:
        first_run = _first_lines(lines, seconds=10, until=_filled_and_polled)
        # What the server refuses still reaches the log: a request for a callback that does
        # not exist is a 400 and one line (it was a 500 and a traceback before issue 13).
        broken = urllib.request.Request(
            f"http://127.0.0.1:{port}/_dash-update-component",
            data=json.dumps(
                {"output": "nothing.here", "inputs": [], "changedPropIds": []}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError, match="400"):
            urllib.request.urlopen(broken, timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        reader.join(timeout=10)
    output = "\n".join(lines)
    assert process.returncode == 0, output
    assert _filled_and_polled(first_run), f"no history fill and price run in:\n{output}"
    assert output.count(f"127.0.0.1:{port}") == 1, output
    alarming = [
        line
        for line in first_run
        if any(word in line for word in ("WARNING", "ERROR", "Traceback", "Error"))
    ]
    assert alarming == [], output
    refusals = [line for line in lines if "refused POST /_dash-update-component: 400" in line]
    assert len(refusals) == 1 and "WARNING" in refusals[0], output
    assert "Traceback" not in output, output


def _filled_and_polled(lines: list[str]) -> bool:
    """The history fill is logged, and a price run after it."""
    filled = next((i for i, line in enumerate(lines) if "backfill:" in line), None)
    return filled is not None and any("prices:" in line for line in lines[filled:])


def _first_lines(lines: list[str], seconds: float, until, limit: float = 60) -> list[str]:
    """The lines read in the first `seconds`, or until `until(lines)` holds (at most `limit`)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if time.monotonic() - started >= seconds and until(lines):
            break
        time.sleep(0.2)
    return list(lines)
