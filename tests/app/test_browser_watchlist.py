"""The watchlist edited on the page in headless Chromium: add, each refusal, remove and Undo.

The editor is the real one (app/watchlist_edit.py over jobs/watchlist_edits.py),
asking the simulated market whether a symbol exists; the poller is running, so an
added stock gets its name, history and prices as it would in production.
"""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.keys import Keys

from db.watchlist import watched_symbols
from tests.app.browser_helpers import (
    open_page,
    seed_week,
    severe_logs,
    text_of,
    traces,
    wait_ticks,
)
from tests.app.conftest import wait_until
from tests.app.test_request_checks import body, post

pytestmark = pytest.mark.timeout(150)
SYMBOLS = ["AAPL", "GE", "NVDA"]


def watched(board) -> list[str]:
    with board.sessions() as session:
        return list(watched_symbols(session))


def cards(driver) -> list[str]:
    found = driver.find_elements("css selector", "button.stock-card")
    return [c.get_attribute("data-symbol") for c in found]


def message(driver) -> str:
    return text_of(driver, "#watch-message")


def add(driver, typed: str) -> str:
    """Type `typed`, press Enter, and return the answer (each one differs from the last)."""
    field = driver.find_element("id", "add-symbol")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    before = message(driver)
    field.send_keys(typed + Keys.ENTER)
    return wait_until(
        lambda: (line := message(driver)) != before and line,
        timeout=20,
        message=f"an answer to {typed!r}",
    )


def test_adding_refusing_removing_and_undoing_on_the_page(driver, dashboard_factory):
    board = dashboard_factory("sqlite", symbols=",".join(SYMBOLS), max_symbols=4)
    open_page(driver, board.url, shown=SYMBOLS)
    wait_ticks(driver, 1)
    assert cards(driver) == SYMBOLS
    assert driver.find_element("css selector", ".watchbar").is_displayed()

    # Each refusal says why in one line, keeps what was typed, and writes nothing.
    refusals = {
        "A$B": '"A$B" is not a ticker symbol',
        " aapl ": "AAPL is already on the watchlist",
        "ZZZZ": "ZZZZ: simulated knows no such symbol",
    }
    for typed, says in refusals.items():
        line = add(driver, typed)
        assert says in line, line
        assert "error" in driver.find_element("id", "watch-message").get_attribute("class")
        assert watched(board) == SYMBOLS and cards(driver) == SYMBOLS

    # A good one: normalised, written, and on the page at once with its line.
    assert add(driver, " msft") == "Added MSFT"
    assert driver.find_element("id", "add-symbol").get_attribute("value") == ""
    assert watched(board) == [*SYMBOLS, "MSFT"]
    wait_until(lambda: cards(driver) == [*SYMBOLS, "MSFT"], timeout=10, message="MSFT's card")
    wait_until(lambda: "MSFT" in (traces(driver) or {}), timeout=20, message="MSFT's line")
    wait_until(
        lambda: text_of(driver, "button.stock-card[data-symbol='MSFT'] .card-name"),
        timeout=30,
        message="MSFT's name from the provider",
    )

    # Full now: the limit is said with how many fit.
    line = add(driver, "AMZN")
    assert "the watchlist is full (4 of 4 symbols" in line and watched(board) == [*SYMBOLS, "MSFT"]

    # Remove GE from its card; Undo brings it back in its place, with its prices.
    driver.find_element("css selector", ".card-remove[data-symbol='GE']").click()
    wait_until(lambda: cards(driver) == ["AAPL", "NVDA", "MSFT"], timeout=10, message="GE gone")
    assert message(driver) == "Removed GE; its prices are kept"
    undo = driver.find_element("id", "watch-undo")
    assert undo.is_displayed() and watched(board) == ["AAPL", "NVDA", "MSFT"]
    undo.click()
    wait_until(lambda: cards(driver) == [*SYMBOLS, "MSFT"], timeout=10, message="GE back")
    assert watched(board) == [*SYMBOLS, "MSFT"] and not undo.is_displayed()
    wait_until(lambda: "GE" in (traces(driver) or {}), timeout=20, message="GE's line back")
    assert severe_logs(driver) == []


def test_with_editing_off_there_are_no_controls_and_the_server_refuses(driver, dashboard_factory):
    board = dashboard_factory("sqlite", poller=False, watchlist_editable=False)
    seed_week(board.sessions)
    open_page(driver, board.url, shown=SYMBOLS)
    wait_until(lambda: cards(driver) == SYMBOLS, timeout=20, message="the cards")
    assert not driver.find_element("css selector", ".watchbar").is_displayed()
    assert driver.find_elements("css selector", ".card-remove") == []

    # A request made by hand, as if the page had the controls: refused, nothing written.
    made = body(board.app, "watch-message.children", {"watch-edit": {"symbol": "GE", "n": 1}})
    made["changedPropIds"] = ["watch-edit.data"]
    status, answer = post(board.server, json.dumps(made))
    assert status == 200, answer
    said = json.loads(answer)["response"]["watch-message"]["children"]
    assert said == "The watchlist cannot be edited here (STOCKSTREAMER_WATCHLIST_EDITABLE is off)"
    assert watched(board) == SYMBOLS
