"""The page's cards, views, ranges, URL and toolbar in headless Chromium, against the database.

Every test seeds a week of prices (tests/app/browser_helpers.py) with no poller,
so what the page should show is read back from the database rows themselves.
"""

from __future__ import annotations

import re
import urllib.request
from datetime import timedelta
from urllib.parse import unquote

import pytest
from selenium.webdriver.common.keys import Keys

from app.query import RANGE_NAMES, RANGES
from core.times import utc_now
from tests.app.browser_helpers import (
    GD,
    PROFILES,
    SYMBOLS,
    click,
    figure,
    new_york_midnight,
    newest_row,
    open_page,
    seed_week,
    severe_logs,
    text_of,
    title,
    traces,
    wait_ticks,
    wall_ms,
    write_ticks,
    x_range_ms,
)
from tests.app.conftest import wait_until

pytestmark = pytest.mark.timeout(120)
CARD = "button.stock-card[data-symbol='{}']"


@pytest.fixture
def board(dashboard_factory):
    """A week of prices, no poller (the tests write new prices), prices polled every 5 s."""
    board = dashboard_factory("sqlite", poller=False, window_days=1826, price_interval=5)
    seed_week(board.sessions, utc_now() - timedelta(seconds=40))
    return board


def signed(value: float) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + f"{abs(value):,.2f}"


def card_text(driver, symbol: str, part: str) -> str:
    return text_of(driver, CARD.format(symbol) + " ." + part)


def test_the_cards_numbers_agree_with_the_database(driver, board):
    write_ticks(board.sessions, 3, symbols=["AAPL", "GE"])  # NVDA's newest is 40 s old
    open_page(driver, board.url)
    wait_until(lambda: card_text(driver, "NVDA", "card-price") != "—", message="the numbers")
    now = utc_now()
    session_open = new_york_midnight(now)

    for profile in PROFILES:
        symbol = profile.symbol
        last, at = newest_row(board.sessions, symbol)
        previous, _ = newest_row(board.sessions, symbol, before=session_open)
        change, pct = last - previous, (last - previous) / previous * 100
        arrow = "▲" if change > 0 else "▼" if change < 0 else "■"
        assert card_text(driver, symbol, "card-price") == f"${last:,.2f}"
        assert card_text(driver, symbol, "card-change") == (
            f"{arrow} {signed(change)} ({signed(pct)}%)"
        )
        kind = "up" if change > 0 else "down" if change < 0 else "flat"
        card_change = driver.find_element("css selector", CARD.format(symbol) + " .card-change")
        assert kind in card_change.get_attribute("class").split()
        low, high = float(profile.week52_low), float(profile.week52_high)
        assert card_text(driver, symbol, "card-range-low") == f"${low:,.2f}"
        assert card_text(driver, symbol, "card-range-label") == "52-wk"
        assert card_text(driver, symbol, "card-range-high") == f"${high:,.2f}"
        marker = driver.find_element("css selector", CARD.format(symbol) + " .card-range-marker")
        left = float(marker.value_of_css_property("left").removesuffix("px"))
        bar = marker.find_element("xpath", "..").size["width"]
        assert abs(left / bar - (last - low) / (high - low)) < 0.01
        fresh = card_text(driver, symbol, "card-fresh")
        age = (now - at).total_seconds()
        found = re.fullmatch(r"(Stale · )?(\d+) s ago", fresh)
        assert found and abs(int(found[2]) - age) <= 3, (symbol, fresh, age)
        assert bool(found[1]) == (age > 3 * board.settings.price_interval), (symbol, fresh)
    assert text_of(driver, "#market-status") == "Simulated market · trades around the clock"
    assert re.fullmatch(r"Updated \d\d:\d\d:\d\d ET", text_of(driver, "#updated"))
    assert severe_logs(driver) == []


def panel_parts(driver) -> tuple[list, list, list]:
    """The traces, band shapes and logo images of the figure shown, by name."""
    return (
        figure(driver, "gd.data.map(t => t.name)"),
        figure(driver, "(gd.layout.shapes || []).map(s => s.name)"),
        figure(driver, "(gd.layout.images || []).map(i => i.name)"),
    )


def assert_fitted(driver) -> None:
    """Each panel's dollar axis holds its own line, and not much more."""
    for axis, ys in figure(driver, "gd.data.map(t => ['yaxis' + t.yaxis.slice(1), t.y])"):
        low, high = figure(driver, f"gd.layout.{axis}.range")
        assert low <= min(ys) and max(ys) <= high
        assert high - low <= 1.3 * (max(ys) - min(ys)) + 0.5, (axis, low, high, min(ys), max(ys))


def wait_shown(driver, shown: list[str]) -> None:
    wait_until(
        lambda: sorted(figure(driver, "gd.data.map(t => t.name)")) == sorted(shown),
        message=f"the chart to show {shown} (it shows {figure(driver, 'gd.data.map(t => t.name)')}"
        f" for {driver.execute_script('return location.search;')!r})",
    )
    wait_until(lambda: all(traces(driver).values()), message="lines with points")


def test_a_card_hides_and_shows_its_line_band_and_logo_by_click_and_keyboard(driver, board):
    open_page(driver, board.url + "?view=price")
    assert panel_parts(driver) == (
        SYMBOLS,
        [f"band-{s}" for s in SYMBOLS],
        [f"logo-{s}" for s in SYMBOLS],
    )
    assert_fitted(driver)
    # A click while the cards are drawn anew (the first answers re-draw them) can be lost:
    # a known issue, reported; this test is about what a click does.
    wait_ticks(driver, 1)

    click(driver, CARD.format("AAPL"))

    wait_shown(driver, ["GE", "NVDA"])
    assert panel_parts(driver) == (
        ["GE", "NVDA"],
        ["band-GE", "band-NVDA"],
        ["logo-GE", "logo-NVDA"],
    )
    assert_fitted(driver)  # GE's panel is now the first: its axis is GE's, not AAPL's
    card = driver.find_element("css selector", CARD.format("AAPL"))
    assert card.get_attribute("aria-pressed") == "false"
    assert "is-hidden" in card.get_attribute("class")
    assert driver.execute_script("return location.search;") == "?view=price&hide=AAPL"

    click(driver, CARD.format("AAPL"))
    wait_shown(driver, SYMBOLS)
    assert panel_parts(driver)[1:] == (
        [f"band-{s}" for s in SYMBOLS],
        [f"logo-{s}" for s in SYMBOLS],
    )

    # The keyboard: Tab reaches the card, with a visible focus ring; Enter and Space toggle it.
    driver.execute_script("document.activeElement && document.activeElement.blur();")
    body = driver.find_element("tag name", "body")
    body.send_keys(Keys.TAB)
    for _ in range(20):
        if driver.execute_script("return document.activeElement.dataset.symbol;") == "GE":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    focused = driver.switch_to.active_element
    assert focused.get_attribute("data-symbol") == "GE", "Tab never reached GE's card"
    outline = driver.execute_script(
        "var s = getComputedStyle(document.activeElement);"
        "return [s.outlineStyle, parseFloat(s.outlineWidth)];"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline
    focused.send_keys(Keys.ENTER)
    wait_shown(driver, ["AAPL", "NVDA"])
    wait_until(
        lambda: driver.execute_script("return document.activeElement.dataset.symbol;") == "GE",
        timeout=3,
        message="the focus to stay on GE's card, drawn anew",
    )
    driver.switch_to.active_element.send_keys(Keys.SPACE)
    wait_shown(driver, SYMBOLS)
    assert severe_logs(driver) == []


def test_two_card_clicks_within_one_round_trip_keep_both(driver, board):
    open_page(driver, board.url)
    wait_ticks(driver, 1)
    pressed = "return [...document.querySelectorAll('button.stock-card')].map(c => c.ariaPressed);"
    # Both in one task: the second is sent before the first's answer can arrive.
    driver.execute_script(
        f'document.querySelector("{CARD.format("AAPL")}").click();'
        f'document.querySelector("{CARD.format("GE")}").click();'
    )
    assert driver.execute_script(pressed) == ["false", "false", "true"]  # at once, no wait
    wait_shown(driver, ["NVDA"])
    assert driver.execute_script("return location.search;") == "?hide=AAPL,GE"
    # And a few milliseconds apart, the first request on its way: both shown again.
    driver.execute_script(
        f'document.querySelector("{CARD.format("GE")}").click();'
        f'setTimeout(() => document.querySelector("{CARD.format("AAPL")}").click(), 5);'
    )
    wait_shown(driver, SYMBOLS)
    wait_until(lambda: driver.execute_script("return location.search;") == "", timeout=5)
    wait_ticks(driver, 1)
    assert driver.execute_script(pressed) == ["true", "true", "true"]
    # Two different controls in one task: a view, then a range, then a card.
    driver.execute_script(
        'document.getElementById("view-price").click();'
        'document.getElementById("range-5D").click();'
        f'document.querySelector("{CARD.format("NVDA")}").click();'
    )
    wait_until(
        lambda: (
            driver.execute_script("return location.search;") == "?view=price&range=5D&hide=NVDA"
        ),
        timeout=10,
        message="the view, the range and the card, all three in the URL",
    )
    wait_shown(driver, ["AAPL", "GE"])
    assert title(driver) == "Price · last 5 days"
    assert severe_logs(driver) == []


def test_each_view_and_range_shows_its_title_width_and_live_edge(driver, board):
    write_ticks(board.sessions, 2)
    open_page(driver, board.url)
    refresh_ms = board.settings.refresh_interval * 1000
    wait_ticks(driver, 1)  # the first answers have drawn the cards
    for view, name in (("price", "Price"), ("compare", "Compare")):
        click(driver, f"#view-{view}")
        wait_until(lambda n=name: title(driver).startswith(n), message=f"the {name} view")
        for key, span in RANGES.items():
            click(driver, f"#range-{key}")
            expected = f"{name} · last {RANGE_NAMES[key]}"
            wait_until(lambda e=expected: title(driver) == e, message=f"the title {expected}")
            wait_until(lambda: all(traces(driver).values()), message="lines with points")
            assert driver.find_element("id", f"range-{key}").get_attribute("aria-pressed") == "true"
            assert driver.find_element("id", f"view-{view}").get_attribute("aria-pressed") == "true"
            newest = max(newest_row(board.sessions, s)[1] for s in SYMBOLS)
            start, end = x_range_ms(driver)
            assert abs(end - wall_ms(newest)) <= refresh_ms, (key, end, wall_ms(newest))
            assert abs((end - start) - (wall_ms(newest) - wall_ms(newest - span))) <= 1000, key
        # Following live: a new price moves the right edge to it within a tick or two.
        newest = write_ticks(board.sessions, 1, at=utc_now().replace(microsecond=0))
        wait_ticks(driver, 2)
        assert abs(x_range_ms(driver)[1] - wall_ms(newest)) <= refresh_ms
        assert text_of(driver, "#mode-label") == "Following live"
    assert severe_logs(driver) == []


def search(driver) -> str:
    return driver.execute_script("return location.search;")


def test_the_url_holds_the_view_and_back_and_forward_step_through_it(driver, board):
    open_page(driver, board.url)
    wait_ticks(driver, 1)  # the first answers have drawn the cards
    assert search(driver) == ""
    click(driver, "#view-price")
    wait_until(lambda: title(driver) == "Price · last 1 day", message="the Price view")
    click(driver, "#range-5D")
    wait_until(lambda: title(driver) == "Price · last 5 days", message="5 days")
    click(driver, CARD.format("GE"))
    wait_shown(driver, ["AAPL", "NVDA"])
    link = driver.current_url
    assert search(driver) == "?view=price&range=5D&hide=GE"
    # The CSV link downloads what the chart shows: the same query, read by the server.
    csv = driver.find_element("id", "download-csv").get_attribute("href")
    assert csv == board.url.rstrip("/") + "/download.csv?view=price&range=5D&hide=GE"
    with urllib.request.urlopen(csv, timeout=30) as answer:
        rows = answer.read().decode().splitlines()
    assert rows[0].startswith("symbol,time_utc,time_new_york,")
    assert {r.split(",")[0] for r in rows[1:]} == {"AAPL", "NVDA"}

    open_page(driver, link, shown=["AAPL", "NVDA"])
    assert title(driver) == "Price · last 5 days"
    assert driver.find_element("id", "range-5D").get_attribute("aria-pressed") == "true"
    assert driver.find_element("id", "view-price").get_attribute("aria-pressed") == "true"
    assert driver.find_element("css selector", CARD.format("GE")).get_attribute("aria-pressed") == (
        "false"
    )

    open_page(driver, board.url)
    wait_ticks(driver, 1)
    for css, wanted in (
        ("#view-price", "Price · last 1 day"),
        ("#range-1H", "Price · last 1 hour"),
    ):
        click(driver, css)
        wait_until(lambda w=wanted: title(driver) == w, message=wanted)
    driver.back()
    wait_until(lambda: title(driver) == "Price · last 1 day", message="back to 1 day")
    assert search(driver) == "?view=price"
    driver.back()
    wait_until(lambda: title(driver) == "Compare · last 1 day", message="back to Compare")
    driver.forward()
    wait_until(lambda: title(driver) == "Price · last 1 day", message="forward to Price")
    assert search(driver) == "?view=price"
    assert severe_logs(driver) == []


def test_a_bad_url_value_shows_the_default_view_with_a_notice(driver, board):
    open_page(driver, board.url + "?view=zzz&range=9Y")

    assert title(driver) == "Compare · last 1 day"
    notices = text_of(driver, "#status")
    assert "Unknown view “zzz”" in notices and "Unknown range “9Y”" in notices, notices
    wait_ticks(driver, 2)
    assert "Unknown view “zzz”" in text_of(driver, "#status"), "the notice went with a tick"
    assert severe_logs(driver) == []


def test_the_toolbar_has_no_outside_service_and_the_export_has_logos_and_title(driver, board):
    open_page(driver, board.url + "?view=price")
    titles = driver.execute_script(
        "return Array.from(document.querySelectorAll('#chart .modebar-btn'))"
        ".map(b => b.getAttribute('data-title'));"
    )
    assert "Download plot as a PNG" in titles
    assert not [t for t in titles if re.search(r"share|studio|edit|cloud|plotly", t, re.I)], titles

    svg = unquote(
        driver.execute_async_script(
            GD + "var done = arguments[arguments.length - 1];"
            "Plotly.toImage(gd, {format: 'svg'}).then(done, e => done('error: ' + e));"
        )
    )
    images = re.findall(r"<image [^>]*href=\"([^\"]{0,30})", svg)
    assert len(images) == len(SYMBOLS) and all(h.startswith("data:image/") for h in images), images
    assert "Price · last 1 day" in svg
    assert all(f"<b>{s}</b>" in svg or f">{s}<" in svg for s in SYMBOLS)
    png = driver.execute_async_script(
        GD + "var done = arguments[arguments.length - 1];"
        "Plotly.toImage(gd, {format: 'png'}).then(done, e => done('error: ' + e));"
    )
    assert png.startswith("data:image/png;base64,") and len(png) > 20_000
