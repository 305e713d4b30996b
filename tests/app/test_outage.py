"""Nothing waits forever: with PostgreSQL frozen (SIGSTOP) or stopped, routes and ticks answer.

The cluster is the tests' own (tests/own_postgres.py), never the main one.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from dash import Dash

from app.callbacks import LOAD_BUDGET_SECONDS, register_callbacks
from app.layout import build_layout
from app.page_updates import DB_DOWN, Page
from app.runtime import build_runtime
from core.market import ALWAYS_OPEN
from core.settings import load_settings
from db.migrate import upgrade
from jobs.providers.registry import PROVIDERS
from tests.app.conftest import LiveServer
from tests.app.page_helpers import NOW, SYMBOLS, ManualClock, seed
from tests.app.test_callbacks import EDGE, FIGURE, NUMBERS, STATUS, STORE, fired, text_of

WEEK = timedelta(days=7)
REFRESH = 2.0


@pytest.fixture(scope="module")
def runtime(own_postgres):
    """The composition root on the frozen-able cluster, with the default database timeouts."""
    upgrade(own_postgres.url)
    settings = load_settings(
        PROVIDERS,
        database_url=own_postgres.url,
        symbols=",".join(SYMBOLS),
        refresh_interval=REFRESH,
    )
    built = build_runtime(settings)
    seed(built.sessions, NOW - timedelta(hours=1), NOW)
    yield built
    built.close()


@pytest.fixture(scope="module")
def served(runtime):
    server = LiveServer(runtime.dashboard().server)
    yield server.url
    server.stop()


def timed_get(url: str) -> tuple[int, float, str]:
    """Status, seconds taken and body of one GET (an error status is an answer too)."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    return status, time.monotonic() - started, body


def ages(body: str) -> dict[str, float]:
    prefix = "stockstreamer_newest_price_age_seconds{"
    lines = [line for line in body.splitlines() if line.startswith(prefix)]
    return {line.split('"')[1]: float(line.rsplit(" ", 1)[1]) for line in lines}


@pytest.mark.parametrize("outage", ["frozen", "stopped"])
def test_an_outage_leaves_healthz_readyz_and_metrics_answering(own_postgres, served, outage):
    status, _, body = timed_get(served + "readyz")
    assert '"database": "ok"' in body
    before = ages(timed_get(served + "metrics")[2])
    assert set(before) == set(SYMBOLS)
    worst = {"healthz": 0.0, "readyz": 0.0, "metrics": 0.0}
    with getattr(own_postgres, outage)():
        for _ in range(6):
            time.sleep(0.3)  # a probe every so often, as a monitor would
            for route in worst:
                code, seconds, body = timed_get(served + route)
                worst[route] = max(worst[route], seconds)
                assert code == {"healthz": 200, "readyz": 503, "metrics": 200}[route], body
                if route == "readyz":
                    assert '"database": "unreachable' in body
                if route == "metrics":
                    during = ages(body)
        print(f"worst latency with the database {outage}: {worst}")
        assert worst["healthz"] < 0.1
        assert worst["readyz"] < 2.0 and worst["metrics"] < 2.0
        # The newest known price's age keeps growing through the outage (alerts keep firing).
        assert set(during) == set(SYMBOLS)
        assert all(during[s] > before[s] + 1 for s in SYMBOLS)
    deadline = time.monotonic() + 15
    while '"database": "ok"' not in (body := timed_get(served + "readyz")[2]):
        assert time.monotonic() < deadline, f"readyz never recovered: {body}"
        time.sleep(0.2)
    assert timed_get(served + "readyz")[0] == status


@pytest.mark.parametrize("outage", ["frozen", "stopped"])
def test_a_tick_in_an_outage_shows_the_outage_line_within_one_interval(
    own_postgres, runtime, outage
):
    app_clock = ManualClock()
    app = Dash(__name__)
    app.layout = build_layout(REFRESH, WEEK)
    page = Page(runtime.sessions, app_clock, ALWAYS_OPEN, WEEK, REFRESH, REFRESH)
    callbacks = register_callbacks(app, page)
    loaded = fired(callbacks.on_update, None, None, "", None, None, None, None, None)
    store, edge = loaded[STORE], loaded[EDGE]
    took = []
    with getattr(own_postgres, outage)():
        for n in range(1, 5):  # a pooled connection's ping, then new connections
            started = time.monotonic()
            out = fired(callbacks.on_update, "tick", n, "", n, None, None, store, edge)
            took.append(time.monotonic() - started)
            assert text_of(out[STATUS]) == DB_DOWN
            # An answer all the same: page.js shows no "cannot reach the server" banner.
            assert out[NUMBERS] == {"outage": True}
            assert took[-1] < REFRESH, f"the tick took {took[-1]:.2f}s"
    if outage == "frozen":
        # Right after a tick found the database hung, the next fails at once (no thread held).
        assert took[1] < 0.2, took
    # Back within one interval (a tick a second, as several viewers would ask).
    deadline = time.monotonic() + REFRESH + 1
    while True:
        out = fired(callbacks.on_update, "tick", 9, "", 9, None, None, {"ok": False}, {})
        if isinstance(out[FIGURE], dict):
            break
        assert time.monotonic() < deadline, "the page did not recover"
        time.sleep(0.5)
    assert out[STATUS] == []


def test_a_first_load_in_a_frozen_outage_says_so_within_the_load_budget(own_postgres, runtime):
    app = Dash(__name__)
    app.layout = build_layout(REFRESH, WEEK)
    page = Page(runtime.sessions, ManualClock(), ALWAYS_OPEN, WEEK, REFRESH, REFRESH)
    callbacks = register_callbacks(app, page)
    with own_postgres.frozen():
        started = time.monotonic()
        out = fired(callbacks.on_update, None, None, "", None, None, None, None, None)
        took = time.monotonic() - started
    assert text_of(out[STATUS]) == DB_DOWN
    # The engine's own statement timeout is 10 s; the load gives up at its budget.
    assert took < LOAD_BUDGET_SECONDS + 1.5, f"the first load took {took:.2f}s"
