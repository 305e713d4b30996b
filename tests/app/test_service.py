"""The service as operators run it: real gunicorn processes on a real PostgreSQL.

Exactly one process polls, however many workers or instances run; a killed
leader is replaced within two price intervals; health, readiness and metrics
answer; the Procfile's commands work as written. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from itertools import pairwise

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.app.service_helpers import (
    ROOT,
    Service,
    free_port,
    get,
    gunicorn,
    lock_holder_pid,
    service_env,
    wait_until,
)

pytestmark = [pytest.mark.timeout(300)]


@pytest.fixture
def pg(database_url_factory, postgres_server):
    """A migrated PostgreSQL database: (url, database name, admin engine)."""
    from db.migrate import upgrade

    url = database_url_factory("postgresql")
    upgrade(url)
    return url, make_url(url).database, postgres_server.engine


@pytest.fixture
def services():
    started: list[Service] = []
    yield started
    for service in started:
        service.stop()


def ticks(url: str) -> tuple[int, int]:
    """(rows, distinct (symbol, observed_at)) in price_ticks."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return tuple(
                connection.execute(
                    text("SELECT count(*), count(DISTINCT (symbol, observed_at)) FROM price_ticks")
                ).one()
            )
    finally:
        engine.dispose()


def metric_values(url: str) -> dict[str, float]:
    """Every sample of /metrics by name (labels dropped, values summed)."""
    status, body = get(url + "/metrics")
    assert status == 200
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            values[sample.name] = values.get(sample.name, 0.0) + sample.value
    return values


def test_three_workers_poll_once_per_interval_for_a_minute(pg, services, tmp_path):
    url, database, admin = pg
    service = gunicorn(service_env(url, tmp_path, STOCKSTREAMER_PRICE_INTERVAL="0.5"), tmp_path)
    services.append(service.start())
    wait_until(lambda: service.price_runs(), 30, "the first price run")
    time.sleep(60)
    runs = service.price_runs()
    pids = {run.pid for run in runs}
    assert len(pids) == 1, f"price runs came from several processes: {pids}"
    assert lock_holder_pid(admin, database) in pids
    # Every interval was polled: ~120 runs in a minute at 0.5 s, none missing for long.
    span = (runs[-1].at - runs[0].at).total_seconds()
    assert len(runs) >= 0.8 * span / 0.5
    gaps = [(b.at - a.at).total_seconds() for a, b in pairwise(runs)]
    assert max(gaps) < 1.5, f"an interval went unpolled: {max(gaps):.2f}s"
    # No observation stored twice, and every write the log claims is in the table.
    rows, distinct = ticks(url)
    assert rows == distinct
    assert sum(run.written for run in runs) <= rows


def test_a_killed_leader_is_replaced_within_two_intervals(pg, services, tmp_path):
    url, database, admin = pg
    interval = 1.0
    service = gunicorn(
        service_env(url, tmp_path, STOCKSTREAMER_PRICE_INTERVAL=str(interval)), tmp_path
    )
    services.append(service.start())
    takeovers = [kill_the_leader(service, admin, database, interval) for _ in range(5)]
    print(
        f"takeover after kill -9: median {statistics.median(takeovers):.2f}s, "
        f"worst {max(takeovers):.2f}s over {len(takeovers)} kills: "
        + ", ".join(f"{t:.2f}" for t in takeovers)
    )
    assert max(takeovers) <= 2 * interval
    rows, distinct = ticks(url)
    assert rows == distinct


def kill_the_leader(service: Service, admin, database: str, interval: float) -> float:
    """kill -9 the polling worker; seconds until another process has polled."""
    leader = wait_until(lambda: lock_holder_pid(admin, database), 30, "a lock holder")
    wait_until(lambda: any(r.pid == leader for r in service.price_runs()), 30, "its polling")
    os.kill(leader, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_until(
        lambda: any(r.pid != leader and r.at > _wall(killed_at) for r in service.price_runs()),
        4 * interval,
        "another process polling",
    )
    return time.monotonic() - killed_at


def _wall(monotonic_at: float):
    """A monotonic instant as local wall-clock time (the log's clock)."""
    from datetime import datetime

    return datetime.now() - timedelta(seconds=time.monotonic() - monotonic_at)


def test_two_instances_on_one_database_still_poll_once(pg, services, tmp_path):
    url, database, admin = pg
    env = service_env(url, tmp_path, STOCKSTREAMER_PRICE_INTERVAL="0.5")
    first, second = gunicorn(env, tmp_path, workers=2), gunicorn(env, tmp_path, workers=2)
    services += [first.start(), second.start()]
    wait_until(lambda: first.price_runs() or second.price_runs(), 30, "a price run")
    time.sleep(8)
    pids = {run.pid for run in first.price_runs() + second.price_runs()}
    assert len(pids) == 1 and lock_holder_pid(admin, database) in pids
    pollers = [
        m
        for s in (first, second)
        for m in [metric_values(s.url).get("stockstreamer_is_poller", 0.0)]
    ]
    assert sorted(pollers) == [0.0, 1.0]


def test_health_readiness_and_metrics(pg, services, tmp_path):
    url, database, admin = pg
    service = gunicorn(
        service_env(
            url, tmp_path, STOCKSTREAMER_PRICE_INTERVAL="0.5", STOCKSTREAMER_READY_MAX_PRICE_AGE="5"
        ),
        tmp_path,
        workers=2,
    )
    services.append(service.start())
    assert get(service.url + "/healthz") == (200, '{"status": "alive"}')
    _, body = wait_until(
        lambda: (r := get(service.url + "/readyz"))[0] == 200 and r, 30, "readiness"
    )
    assert json.loads(body) == {
        "status": "ready",
        "checks": {"database": "ok", "schema": "ok", "prices": "ok"},
    }
    before = metric_values(service.url)
    time.sleep(2)
    after = metric_values(service.url)
    assert (
        after["stockstreamer_prices_written_total"] > before["stockstreamer_prices_written_total"]
    )
    assert (
        after["stockstreamer_poll_run_seconds_count"]
        > before["stockstreamer_poll_run_seconds_count"]
    )
    assert after["stockstreamer_is_poller"] == 1.0
    assert after["stockstreamer_newest_price_age_seconds"] < 3 * 5
    assert "stockstreamer_duplicates_skipped_total" in after

    # PostgreSQL refuses this database: not ready, with the reason; alive all the same.
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db"),
            {"db": database},
        )
    try:
        _, body = wait_until(
            lambda: (r := get(service.url + "/readyz"))[0] == 503 and r, 20, "not ready"
        )
        report = json.loads(body)
        assert report["status"] == "not ready"
        assert report["checks"]["database"].startswith("unreachable")
        assert get(service.url + "/healthz")[0] == 200
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
    wait_until(lambda: get(service.url + "/readyz")[0] == 200, 30, "ready again")


def test_the_poller_refuses_a_schema_that_is_not_at_head(database_url_factory, tmp_path):
    from db.migrate import upgrade

    url = database_url_factory("postgresql")
    upgrade(url, "0001")
    env = service_env(url, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "poll"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "run `alembic upgrade head`" in done.stderr and "0001" in done.stderr


def test_the_procfile_commands_run_as_written(database_url_factory, services, tmp_path):
    url = database_url_factory("postgresql")
    procfile = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()
    )
    assert set(procfile) == {"release", "web", "poller"}
    env = service_env(
        url, tmp_path, STOCKSTREAMER_PRICE_INTERVAL="0.5", STOCKSTREAMER_WEB_POLLS="false"
    )
    bin_dir = os.path.dirname(sys.executable)  # where the venv's gunicorn and alembic are
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    release = subprocess.run(
        procfile["release"],
        shell=True,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert release.returncode == 0, release.stderr
    port = free_port()
    web = Service(
        ["bash", "-c", f"exec {procfile['web']}"],
        {**env, "PORT": str(port)},
        tmp_path / "web.log",
        port,
    )
    poller = Service(shlex.split(procfile["poller"]), env, tmp_path / "poller.log", port)
    services += [web.start(), poller.start(ready_path=None)]
    wait_until(lambda: poller.price_runs(), 60, "the poller process to poll")
    time.sleep(2)
    assert not web.price_runs(), "web workers polled although STOCKSTREAMER_WEB_POLLS=false"
    assert get(web.url + "/readyz")[0] == 200


def test_preload_starts_nothing_in_the_master(pg, services, tmp_path):
    url, database, admin = pg
    env = service_env(url, tmp_path, STOCKSTREAMER_PRICE_INTERVAL="0.5")
    service = gunicorn(env, tmp_path, 2, "--preload")
    services.append(service.start())
    wait_until(lambda: service.price_runs(), 30, "a price run")
    time.sleep(2)
    pids = {run.pid for run in service.price_runs()}
    assert len(pids) == 1 and service.process.pid not in pids  # a worker polls, not the master
    assert lock_holder_pid(admin, database) in pids
    assert get(service.url + "/readyz")[0] == 200


def test_two_workers_see_one_watchlist_change_and_the_poller_follows_it(pg, services, tmp_path):
    url, _, _ = pg
    env = service_env(url, tmp_path, STOCKSTREAMER_PRICE_INTERVAL="0.5")
    service = gunicorn(env, tmp_path, workers=2)
    services.append(service.start())
    wait_until(lambda: service.price_runs(), 30, "the first price run")

    def watched_by_each_answer() -> set[tuple[str, ...]]:
        # New connections land on either worker; each answers from its own process.
        answers = set()
        for _ in range(12):
            status, body = get(service.url + "/api/v1/stocks")
            assert status == 200, body
            answers.add(tuple(s["symbol"] for s in json.loads(body)["stocks"]))
        return answers

    assert watched_by_each_answer() == {("AAPL", "GE", "NVDA")}
    edit = [sys.executable, "-m", "app.cli", "watch"]
    for args in (["add", "MSFT"], ["remove", "GE"]):  # the operator's command, another process
        done = subprocess.run(edit + args, env=env, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    wait_until(lambda: watched_by_each_answer() == {("AAPL", "NVDA", "MSFT")}, 10, "both workers")
    # The elected poller, in one of the workers, polls the new list without a restart.
    wait_until(lambda: newest(url, "MSFT") is not None, 30, "MSFT's first price")
    time.sleep(1.5)  # the two edits may be taken up a second apart (the list is read each second)
    stopped = newest(url, "GE")
    time.sleep(2)  # four intervals
    assert newest(url, "GE") == stopped and newest(url, "AAPL") > stopped


def newest(url: str, symbol: str):
    """A symbol's newest stored observation time (None before its first)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            query = text("SELECT max(observed_at) FROM price_ticks WHERE symbol = :s")
            return connection.execute(query, {"s": symbol}).scalar()
    finally:
        engine.dispose()
