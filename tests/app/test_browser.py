"""The live page in headless Chromium: ticks, zoom kept across ticks, outages, the stale banner.

Few, small checks: software WebGL is slow, so three stocks and about a day of
seeded history (tests/app/browser_helpers.py). The views, cards and URL are in
test_browser_views.py; themes, the phone layout and axe in test_browser_looks.py.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs_version
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.factory import create_app
from app.page_updates import DB_DOWN
from core.records import Quote, StockProfile
from core.times import utc_now
from db.engine import unit_of_work
from db.watchlist import sync_watchlist
from db.writes import upsert_profiles, write_quotes
from jobs.providers.registry import market_hours
from tests.app.browser_helpers import (
    GD,
    SYMBOLS,
    axis_text,
    figure,
    open_page,
    seed_week,
    severe_logs,
    text_of,
    traces,
    wait_growth,
    wait_ticks,
    write_ticks,
    x_range_ms,
)
from tests.app.conftest import LiveServer, wait_until

pytestmark = pytest.mark.timeout(90)
CUSTOM = "Custom range · live updates continue"


def test_a_poller_tick_grows_the_lines_without_a_reload(driver, dashboard_factory):
    board = dashboard_factory("sqlite", symbols=",".join(SYMBOLS))
    open_page(driver, board.url)
    wait_ticks(driver, 1)
    before = traces(driver)
    driver.execute_script("window.__marker = 1;")

    after = wait_growth(driver, before)

    assert driver.execute_script("return window.__marker;") == 1, "the page was reloaded"
    assert all(after[s] > before[s] for s in SYMBOLS)
    assert text_of(driver, "#mode-label") == "Following live"
    assert driver.title == "stockstreamer"
    assert driver.execute_script("return window.__titles;") == ["stockstreamer"]
    assert severe_logs(driver) == []


def zoom_bounds(driver) -> tuple[float, float]:
    """A zoom on the newer 70% of the first line, reaching a minute past its newest point."""
    first, last = figure(driver, "[gd.data[0].x[0], gd.data[0].x[gd.data[0].x.length - 1]]")
    return first + (last - first) * 0.3, last + 60_000


def assert_range_near(driver, a: float, b: float) -> list[float]:
    start, end = x_range_ms(driver)
    assert abs(start - a) <= 1000 and abs(end - b) <= 1000, (
        f"x range is {axis_text(start)} .. {axis_text(end)}, "
        f"the user's zoom was {axis_text(a)} .. {axis_text(b)}"
    )
    return [start, end]


def live_board(dashboard_factory):
    """No poller: the test writes each new price, one stock set, a day of history."""
    board = dashboard_factory("sqlite", poller=False, window_days=7)
    seed_week(board.sessions)
    return board


def test_a_zoom_set_by_the_user_survives_the_next_ticks(driver, dashboard_factory):
    board = live_board(dashboard_factory)
    open_page(driver, board.url + "?range=1H")
    wait_ticks(driver, 1)
    a, b = zoom_bounds(driver)
    driver.execute_script(
        GD + "Plotly.relayout(gd, {'xaxis.range': arguments[0]});", [axis_text(a), axis_text(b)]
    )
    wait_until(lambda: text_of(driver, "#mode-label") == CUSTOM, message="the custom range mode")
    assert "start=" in driver.execute_script("return location.search;")
    assert driver.find_element("id", "range-custom").is_displayed()
    assert driver.find_element("id", "follow-live").is_displayed()
    wait_ticks(driver, 1)
    zoomed = traces(driver)

    write_ticks(board.sessions, 2)
    wait_ticks(driver, 2)

    kept = assert_range_near(driver, a, b)
    wait_growth(driver, zoomed)
    assert x_range_ms(driver) == kept
    assert text_of(driver, "#mode-label") == CUSTOM
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
    board = live_board(dashboard_factory)
    open_page(driver, board.url + "?range=1H")
    wait_ticks(driver, 1)
    a, b = zoom_bounds(driver)
    write_ticks(board.sessions, 1)
    driver.execute_script(ZOOM_DURING_NEXT_TICK, [axis_text(a), axis_text(b)])
    wait_until(lambda: driver.execute_script("return window.__zoomedAt;"), message="the zoom")
    wait_until(lambda: text_of(driver, "#mode-label") == CUSTOM, message="the custom range mode")

    wait_ticks(driver, 2)

    assert_range_near(driver, a, b)
    assert severe_logs(driver) == []


def test_an_unreachable_database_shows_the_message_and_the_page_recovers(
    driver, dashboard_factory, postgres_server
):
    board = dashboard_factory("postgresql", poller=False, window_days=7)
    seed_week(board.sessions)
    lengths = open_page(driver, board.url + "?range=1H")
    wait_ticks(driver, 1)
    lengths = traces(driver)
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
        lambda: DB_DOWN not in text_of(driver, "#status"),
        timeout=10,
        message="the message to go once the database is back",
    )
    wait_growth(driver, lengths)
    assert severe_logs(driver) == []


def test_a_tick_with_sub_millisecond_time_is_drawn_once(driver, dashboard_factory):
    board = live_board(dashboard_factory)
    write_ticks(board.sessions, 1, at=utc_now().replace(microsecond=123_456))
    lengths = open_page(driver, board.url + "?range=1H")

    wait_ticks(driver, 3)

    assert traces(driver) == lengths
    assert figure(driver, "gd.data.every(t => new Set(t.x).size === t.x.length)"), (
        "the same point was appended more than once"
    )


def test_the_stale_banner_shows_while_the_server_is_gone_and_clears_after_a_restart(
    driver, dashboard_factory
):
    board = live_board(dashboard_factory)
    app = create_app(board.settings, board.sessions, market_hours(board.settings)).server
    server = LiveServer(app)
    try:
        lengths = open_page(driver, server.url + "?range=1H")
        wait_ticks(driver, 1)
        banner = driver.find_element("id", "stale-banner")
        assert not banner.is_displayed()
        assert text_of(driver, "#mode-label") == "Following live"

        server.stop()
        time.sleep(3.5 * board.settings.refresh_interval)

        wait_until(banner.is_displayed, timeout=5, message="the stale banner")
        assert banner.get_attribute("role") == "alert"
        assert "No updates since" in banner.text
        mode = text_of(driver, "#mode-label")
        assert "Following live" not in mode and mode.startswith("Not updating since"), mode

        server = LiveServer(app, port=server.port)  # the page asks the same address again
        write_ticks(board.sessions, 2)
        wait_until(lambda: not banner.is_displayed(), timeout=10, message="the banner to clear")
        wait_until(lambda: text_of(driver, "#mode-label") == "Following live", timeout=5)
        wait_growth(driver, lengths)
    finally:
        if server.thread.is_alive():
            server.stop()
    driver.get("about:blank")  # the failed requests' console errors stay with this test


def test_a_database_outage_says_so_and_not_that_the_server_is_gone(driver, dashboard_factory):
    board = live_board(dashboard_factory)
    open_page(driver, board.url + "?range=1H")
    wait_ticks(driver, 1)
    database = Path(make_url(board.settings.database_url).database)
    moved = database.with_name(database.name + ".away")
    board.engine.dispose()
    database.rename(moved)  # each new connection finds an empty file: no tables, reads fail
    try:
        wait_until(
            lambda: DB_DOWN in text_of(driver, "#status"),
            timeout=10,
            message="the database line",
        )
        time.sleep(3.5 * board.settings.refresh_interval)  # the banner's wait, and more
        assert not driver.find_element("id", "stale-banner").is_displayed()
        assert DB_DOWN in text_of(driver, "#status")
    finally:
        board.engine.dispose()
        database.unlink(missing_ok=True)
        moved.rename(database)
    wait_until(lambda: text_of(driver, "#status") == "", timeout=15, message="the line to clear")


def test_a_card_shows_a_hostile_name_as_text_and_says_what_is_missing(driver, dashboard_factory):
    # page.js builds the cards from data: a name with markup must stay text.
    hostile = '<img src=x onerror="window.pwned=1"> & Co'
    board = dashboard_factory("sqlite", poller=False, symbols="ZZZ")
    now = utc_now()
    with unit_of_work(board.sessions) as session:
        sync_watchlist(session, ["ZZZ"])
        write_quotes(session, [Quote("ZZZ", Decimal("12.5"), now, True)], now)
        upsert_profiles(session, [StockProfile("ZZZ", hostile, None, None, None, "x", True)], now)
    driver.get("about:blank")
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(board.url)
    card = wait_until(
        lambda: driver.find_elements("css selector", '.stock-card[data-symbol="ZZZ"]'),
        message="the card",
    )[0]
    wait_until(lambda: card.find_element("css selector", ".card-price").text == "$12.50")
    assert card.find_element("css selector", ".card-name").text == hostile
    assert card.find_elements("css selector", "img") == []  # no logo, and no injected <img>
    assert card.find_element("css selector", ".card-logo-none").text == "Z"
    assert card.find_element("css selector", ".card-range").text == "No 52-week range yet"
    assert card.get_attribute("aria-pressed") == "true" and card.tag_name == "button"
    assert driver.execute_script("return window.pwned === undefined;")
    assert severe_logs(driver) == []


def test_the_page_draws_with_the_basic_plotly_bundle_only(driver, dashboard_factory):
    board = dashboard_factory("sqlite")
    open_page(driver, board.url)
    scripts = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes('.js'));"
    )
    assert any("plotly-basic-" in s for s in scripts), scripts
    assert not any("plotly.min.js" in s or "async-plotlyjs" in s for s in scripts), scripts
    assert driver.execute_script("return Plotly.version;") == get_plotlyjs_version()
