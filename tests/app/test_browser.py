"""The dashboard page in headless Chromium: the real app, a real server, a real database.

Few, small checks: software WebGL is slow, so three stocks and about an hour of
history. What the page shows is read from the plotly graph div itself
(gd.data, gd.layout) and from the DOM the app and assets/chart.js build.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from app.page_updates import DB_DOWN
from core.records import Quote
from core.times import from_ms, to_ms, utc_now
from db.engine import unit_of_work
from db.writes import write_quotes
from jobs.poll import Poller
from jobs.providers.registry import build_provider
from tests.app.conftest import wait_until

pytestmark = pytest.mark.timeout(60)

SYMBOLS = ["AAPL", "GE", "NVDA"]
GD = "var gd = document.querySelector('#chart .js-plotly-plot');"


# -- reading the page ------------------------------------------------------------------
def severe_logs(driver) -> list[dict]:
    """Console entries at SEVERE since the last read (reading drains them)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def traces(driver) -> dict[str, int] | None:
    """Each trace's name and number of points, or None before the chart has data."""
    return driver.execute_script(
        GD
        + """
        if (!gd || !gd.data || !gd.data.length) return null;
        var out = {};
        gd.data.forEach(function (t) { out[t.name] = t.x ? t.x.length : 0; });
        return out;
        """
    )


def ticks(driver) -> int:
    """How many interval-tick callbacks have answered since the page loaded."""
    return driver.execute_script("return window.__ticks || 0;")


def wait_ticks(driver, count: int, timeout: float = 10.0) -> None:
    start = ticks(driver)
    wait_until(lambda: ticks(driver) >= start + count, timeout, message=f"{count} interval ticks")
    time.sleep(0.2)  # the last answer's Patch has been drawn


def x_range_ms(driver) -> list[float]:
    """gd.layout.xaxis.range as epoch ms of the axis' (exchange) wall clock."""
    values = driver.execute_script(GD + "return gd.layout.xaxis.range;")
    return [as_ms(v) for v in values]


def as_ms(value: object) -> float:
    if isinstance(value, int | float):
        return float(value)
    text_value = str(value).replace("T", " ")
    return float(to_ms(datetime.fromisoformat(text_value).replace(tzinfo=timezone.utc)))


def axis_text(ms: float) -> str:
    """Epoch ms as the date text plotly itself puts in relayout events."""
    moment = from_ms(ms)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def open_dashboard(driver, url: str) -> dict[str, int]:
    """Load the page and wait until every stock's line is drawn; returns the trace lengths."""
    driver.get("about:blank")
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    return wait_until(
        lambda: (t := traces(driver)) and set(t) == set(SYMBOLS) and all(t.values()) and t,
        timeout=20,
        message="a trace with points for each stock",
    )


def wait_logos(driver) -> list[dict]:
    """The logo <img>s once all are there and loaded: symbol, display, size and position."""
    script = """
    var chart = document.querySelector('#chart').getBoundingClientRect();
    return Array.from(document.querySelectorAll('.logo-layer img.stock-logo')).map(function (img) {
      var r = img.getBoundingClientRect();
      return {symbol: img.dataset.symbol, display: getComputedStyle(img).display,
              loaded: img.complete && img.naturalWidth > 0, src: img.getAttribute('src'),
              inside: r.width > 0 && r.left >= chart.left && r.right <= chart.right &&
                      r.top >= chart.top && r.bottom <= chart.bottom};
    });
    """
    return wait_until(
        lambda: (
            (logos := driver.execute_script(script))
            and len(logos) == len(SYMBOLS)
            and all(logo["loaded"] for logo in logos)
            and logos
        ),
        timeout=10,
        message="a loaded logo per stock",
    )


def wait_growth(driver, before: dict[str, int], timeout: float = 10.0) -> dict[str, int]:
    return wait_until(
        lambda: (now := traces(driver)) and all(now[s] > before[s] for s in SYMBOLS) and now,
        timeout,
        message=f"every trace to grow past {before}",
    )


def seed(board) -> None:
    """What the poller's first run writes (watchlist, names, logos, bands, history), once."""
    provider = build_provider(board.settings)
    try:
        seeder = Poller(board.settings, provider, board.sessions)
        seeder.sync_watchlist()
        assert not seeder.poll_metadata().failed
        assert not seeder.backfill().failed
    finally:
        provider.close()


def write_ticks(sessions, count: int, at: datetime | None = None) -> None:
    """`count` new ticks per stock, one second apart, ending `at` (default: this whole second)."""
    end = at or utc_now().replace(microsecond=0)
    quotes = [
        Quote(symbol, Decimal("100.00") + i, end - timedelta(seconds=count - 1 - i), simulated=True)
        for symbol in SYMBOLS
        for i in range(count)
    ]
    with unit_of_work(sessions) as session:
        write_quotes(session, quotes, fetched_at=end)


# -- the tests --------------------------------------------------------------------------
def test_the_page_loads_with_a_line_a_band_and_a_logo_per_stock(driver, dashboard_factory):
    board = dashboard_factory("sqlite")
    lengths = open_dashboard(driver, board.url)
    assert driver.execute_script(GD + "return gd.data.map(t => t.name);") == SYMBOLS
    assert all(n > 0 for n in lengths.values()), lengths

    shapes = driver.execute_script(GD + "return gd.layout.shapes.map(s => s.name);")
    assert sorted(shapes) == sorted(f"band-{s}" for s in SYMBOLS)

    logos = wait_logos(driver)
    assert sorted(logo["symbol"] for logo in logos) == SYMBOLS
    for logo in logos:
        assert logo["display"] != "none" and logo["inside"], logo
        assert logo["src"] == f"/assets/logos/{logo['symbol']}.svg"

    notice = driver.find_element("id", "simulated-notice")
    assert notice.is_displayed() and "Simulated market" in notice.text

    wait_ticks(driver, 3)
    assert driver.title == "stockstreamer"
    assert driver.execute_script("return window.__titles;") == ["stockstreamer"]
    assert severe_logs(driver) == []


def test_a_poller_tick_grows_the_lines_without_a_reload(driver, dashboard_factory):
    board = dashboard_factory("sqlite")
    open_dashboard(driver, board.url)
    wait_ticks(driver, 1)
    before = traces(driver)
    driver.execute_script("window.__marker = 1;")

    after = wait_growth(driver, before)

    assert driver.execute_script("return window.__marker;") == 1, "the page was reloaded"
    assert all(after[s] > before[s] for s in SYMBOLS)
    assert severe_logs(driver) == []


def zoom_bounds(driver) -> tuple[float, float]:
    """A zoom on the newer 70% of the lines, reaching a minute past the newest point."""
    xs = driver.execute_script(GD + "var x = gd.data[0].x; return [x[0], x[x.length - 1]];")
    first, last = (as_ms(x) for x in xs)
    return first + (last - first) * 0.3, last + 60_000


def wait_zoomed(driver) -> None:
    wait_until(
        lambda: driver.find_element("id", "mode-label").text.startswith("Zoomed"),
        message="the page to switch to zoomed mode",
    )


def assert_range_near(driver, a: float, b: float) -> list[float]:
    start, end = x_range_ms(driver)
    assert abs(start - a) < 1000 and abs(end - b) < 1000, (
        f"x range is {axis_text(start)} .. {axis_text(end)}, "
        f"the user's zoom was {axis_text(a)} .. {axis_text(b)}"
    )
    return [start, end]


def test_a_zoom_set_by_the_user_survives_the_next_ticks(driver, dashboard_factory):
    board = dashboard_factory("sqlite")
    open_dashboard(driver, board.url)
    wait_ticks(driver, 1)
    a, b = zoom_bounds(driver)
    driver.execute_script(
        GD + "Plotly.relayout(gd, {'xaxis.range': arguments[0]});", [axis_text(a), axis_text(b)]
    )
    wait_zoomed(driver)
    wait_ticks(driver, 1)
    zoomed = traces(driver)

    wait_ticks(driver, 2)

    kept = assert_range_near(driver, a, b)
    wait_growth(driver, zoomed)
    assert x_range_ms(driver) == kept
    assert driver.find_element("id", "mode-label").text.startswith("Zoomed")
    assert severe_logs(driver) == []


# Zooms the moment the next interval tick's request has left, before its answer is back.
ZOOM_DURING_NEXT_TICK = """
var gd = document.querySelector('#chart .js-plotly-plot'), range = arguments[0];
var fetchBefore = window.fetch;
window.fetch = function (resource, init) {
  var answer = fetchBefore.apply(this, arguments);
  if (!window.__zoomedAt && init && String(init.body).indexOf('"tick.n_intervals"') >= 0) {
    window.__zoomedAt = Date.now();
    Plotly.relayout(gd, {'xaxis.range': range});
  }
  return answer;
};
"""


def test_a_zoom_made_while_a_tick_is_in_flight_survives(driver, dashboard_factory):
    board = dashboard_factory("sqlite")
    open_dashboard(driver, board.url)
    wait_ticks(driver, 1)
    a, b = zoom_bounds(driver)
    driver.execute_script(ZOOM_DURING_NEXT_TICK, [axis_text(a), axis_text(b)])
    wait_until(lambda: driver.execute_script("return window.__zoomedAt;"), message="the zoom")
    wait_zoomed(driver)

    wait_ticks(driver, 2)

    assert_range_near(driver, a, b)


def test_an_unreachable_database_shows_the_message_and_the_page_recovers(
    driver, dashboard_factory, postgres_server
):
    board = dashboard_factory("postgresql", poller=False)
    seed(board)
    write_ticks(board.sessions, 1)
    lengths = open_dashboard(driver, board.url)
    wait_ticks(driver, 1)
    name = board.database_name
    admin = postgres_server.engine

    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        status = wait_until(
            lambda: DB_DOWN in (s := driver.find_element("id", "status")).text and s,
            timeout=10,
            message="the database-down message",
        )
        assert status.is_displayed()
        assert status.find_elements("css selector", ".status-error")
        assert traces(driver) == lengths, "the chart keeps what it had during the outage"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))

    write_ticks(board.sessions, 2)
    wait_until(
        lambda: DB_DOWN not in driver.find_element("id", "status").text,
        timeout=10,
        message="the message to go once the database is back",
    )
    wait_growth(driver, lengths)
    assert severe_logs(driver) == []


def test_a_screenshot_of_the_loaded_page(driver, dashboard_factory, artifacts_dir):
    board = dashboard_factory("sqlite")
    open_dashboard(driver, board.url)
    wait_logos(driver)
    wait_ticks(driver, 1)
    assert driver.execute_script("return [window.innerWidth, window.innerHeight];") == [1400, 900]

    path = artifacts_dir / "dashboard.png"
    assert driver.save_screenshot(str(path)), "the screenshot was not written"

    assert path.stat().st_size > 10_000
    print(f"screenshot: {path}")


def test_a_tick_with_sub_millisecond_time_is_drawn_once(driver, dashboard_factory):
    board = dashboard_factory("sqlite", poller=False)
    seed(board)
    write_ticks(board.sessions, 1, at=utc_now().replace(microsecond=123_456))
    lengths = open_dashboard(driver, board.url)

    wait_ticks(driver, 3)

    assert traces(driver) == lengths
    assert driver.execute_script(
        GD + "return gd.data.every(t => new Set(t.x).size === t.x.length);"
    ), "the same point was appended more than once"
