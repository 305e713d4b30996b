"""Browser fixtures: the real app on a real HTTP server, a real database, headless Chromium.

The app is served by werkzeug in a background thread on 127.0.0.1 (a free port),
built by app.factory.create_app exactly as the composition roots build it; the
poller, when a test wants one, is the real jobs.scheduler.PollingService on the
same database. Chromium and chromedriver are Debian's (/usr/bin); without them
the browser tests skip and say why (a failure in CI, see tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dash import Dash
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import BaseWSGIServer, make_server

from app.factory import create_app
from app.watchlist_edit import WatchlistEditor
from core.settings import Settings, load_settings
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from jobs.providers.base import Provider
from jobs.providers.registry import PROVIDERS, build_provider, market_hours
from jobs.scheduler import PollingService
from tests.app.signin_helpers import CLIENT_ID, CLIENT_SECRET
from tests.fakes.oidc_server import FakeIdentityProvider

CHROMIUM_ENV = "STOCKSTREAMER_TEST_CHROMIUM"
CHROMEDRIVER_ENV = "STOCKSTREAMER_TEST_CHROMEDRIVER"
WINDOW = (1400, 900)
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Runs before any page script: records every document.title and counts the
# callback responses of interval ticks (window.__ticks), so tests can wait for ticks.
PAGE_PROBE = """
(function () {
  window.__titles = [];
  window.__ticks = 0;
  var note = function () {
    var t = document.title;
    if (window.__titles[window.__titles.length - 1] !== t) window.__titles.push(t);
  };
  new MutationObserver(note).observe(document, {subtree: true, childList: true,
                                                characterData: true});
  var original = window.fetch;
  window.fetch = function (resource, init) {
    var promise = original.apply(this, arguments);
    var tick = false;
    try {
      var url = String((resource && resource.url) || resource);
      tick = url.indexOf("_dash-update-component") >= 0 &&
        JSON.parse(init.body).changedPropIds.indexOf("tick.n_intervals") >= 0;
    } catch (e) { tick = false; }
    if (tick) {
      promise.then(function (r) { return r.clone().text(); })
        .then(function () { setTimeout(function () { window.__ticks += 1; }, 50); },
              function () {});
    }
    return promise;
  };
})();
"""


def wait_until(
    condition: Callable[[], object],
    timeout: float = 10.0,
    interval: float = 0.1,
    message: str = "condition",
) -> object:
    """Poll `condition` until it returns something truthy; fail with `message` on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # a JS error while the page is still rendering
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            pytest.fail(f"timed out after {timeout:g} s waiting for {message}{detail}")
        time.sleep(interval)


def _find(env: str, names: tuple[str, ...]) -> str | None:
    if os.environ.get(env):
        return os.environ[env] if os.access(os.environ[env], os.X_OK) else None
    for name in names:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if os.access(f"/usr/bin/{name}", os.X_OK) else None
        )
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chrome_paths() -> tuple[str, str]:
    """(chromium binary, chromedriver), or a skip that names what is missing."""
    browser = _find(CHROMIUM_ENV, ("chromium", "chromium-browser", "google-chrome"))
    driver = _find(CHROMEDRIVER_ENV, ("chromedriver",))
    missing = [what for what, path in (("chromium", browser), ("chromedriver", driver)) if not path]
    if missing:
        pytest.skip(
            f"browser tests need {' and '.join(missing)} (apt-get install chromium "
            f"chromium-driver, or set {CHROMIUM_ENV}/{CHROMEDRIVER_ENV})"
        )
    return browser, driver  # type: ignore[return-value]


@pytest.fixture(scope="module")
def driver(chrome_paths):
    """One headless Chromium per test module (each test loads its own server's page)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, chromedriver = chrome_paths
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        chrome = webdriver.Chrome(service=Service(chromedriver), options=options)
    except Exception as exc:
        pytest.fail(f"headless Chromium did not start: {type(exc).__name__}: {exc}")
    # --window-size is the outer window; headless Chromium still reserves room for its
    # (invisible) toolbars, so grow the window until the page itself is WINDOW.
    chrome.set_window_size(*WINDOW)
    inner = chrome.execute_script("return [window.innerWidth, window.innerHeight];")
    chrome.set_window_size(2 * WINDOW[0] - inner[0], 2 * WINDOW[1] - inner[1])
    chrome.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PAGE_PROBE})
    chrome.set_script_timeout(10)
    yield chrome
    chrome.quit()


class LiveServer:
    """A WSGI app on 127.0.0.1:<free port>, served from a daemon thread until stop()."""

    def __init__(self, wsgi_app, port: int = 0) -> None:
        # `port`: a stopped server's, to start it again where its page still points.
        self.server: BaseWSGIServer = make_server("127.0.0.1", port, wsgi_app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="browser-test-http",
            daemon=True,
        )
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the test HTTP server did not stop"


@dataclass
class Dashboard:
    """A running dashboard: its URL, settings, database and (maybe) poller."""

    url: str
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    poller: PollingService | None
    app: Dash | None = None
    server: LiveServer | None = None
    _stops: list[Callable[[], None]] = field(default_factory=list)

    @property
    def database_name(self) -> str | None:
        return make_url(self.settings.database_url).database


@pytest.fixture
def dashboard_factory(database_url_factory) -> Iterator[Callable[..., Dashboard]]:
    """Start the app (and optionally the poller) on a new migrated database of a backend."""
    started: list[Dashboard] = []

    def start(backend: str = "sqlite", poller: bool = True, **overrides: object) -> Dashboard:
        url = database_url_factory(backend)
        upgrade(url)
        values: dict[str, object] = dict(
            symbols="AAPL,GE,NVDA",
            price_interval=0.5,
            refresh_interval=1,
            history_days=0.05,
            window_days=0.05,
            backfill_step=60,
            database_url=url,
        )
        values.update(overrides)
        settings = load_settings(PROVIDERS, **values)
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)
        service = PollingService(settings, sessions) if poller else None
        board = Dashboard("", settings, engine, sessions, service)
        started.append(board)
        if service is not None:
            service.start()
            board._stops.append(service.stop)
        # The page's editor as the composition root builds it (app/runtime.py).
        lookups: list[Provider] = []

        def lookup_provider() -> Provider:
            if not lookups:
                lookups.append(build_provider(settings))
            return lookups[0]

        editor = WatchlistEditor(settings, sessions, lookup_provider)
        board._stops.append(lambda: [p.close() for p in lookups])
        app = create_app(
            settings,
            sessions,
            market_hours(settings),
            editor=editor.edit if editor.editable else None,
        )
        server = LiveServer(app.server)
        board.app, board.server = app, server
        board._stops.append(server.stop)
        board.url = server.url
        return board

    yield start
    errors = []
    for board in started:
        for stop in reversed(board._stops):
            try:
                stop()
            except Exception as exc:  # keep stopping the rest
                errors.append(exc)
        board.engine.dispose()
    if errors:
        raise errors[0]


@pytest.fixture
def artifacts_dir() -> Path:
    """test-artifacts/ at the repository root (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def idp():
    """A fake OpenID Connect provider on 127.0.0.1 for the app's client (signin_helpers)."""
    provider = FakeIdentityProvider(CLIENT_ID, CLIENT_SECRET)
    yield provider
    provider.stop()
