"""The signed-in page in headless Chromium: it loads, ticks and edits under sign-in and its CSP.

Chromium sends the credentials as a header set through the DevTools protocol
(Network.setExtraHTTPHeaders), on every request of the page: the document, Dash's
bundles, the callbacks. Without them the same URL gets only the 401.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.keys import Keys

from db.watchlist import watched_symbols
from tests.app.browser_helpers import open_page, severe_logs, text_of, wait_ticks
from tests.app.conftest import wait_until
from tests.app.signin_helpers import PASSWORD, USER, password_file
from tests.app.test_browser_security import RECORD_VIOLATIONS, violations

pytestmark = pytest.mark.timeout(120)
SYMBOLS = ["AAPL", "GE", "NVDA"]


@pytest.fixture
def signed_driver(driver):
    """The module's browser, sending alice's credentials with every request."""
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}}
    )
    yield driver
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})


def test_the_signed_in_page_loads_ticks_and_edits(signed_driver, dashboard_factory, tmp_path):
    driver = signed_driver
    users = password_file(tmp_path)
    board = dashboard_factory("sqlite", symbols=",".join(SYMBOLS), auth_file=str(users))
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(board.url, timeout=10)
    assert unsigned.value.code == 401

    open_page(driver, board.url, shown=SYMBOLS)
    wait_ticks(driver, 2)
    cards = driver.find_elements("css selector", "button.stock-card")
    assert [c.get_attribute("data-symbol") for c in cards] == SYMBOLS

    field = driver.find_element("id", "add-symbol")
    field.send_keys("MSFT" + Keys.ENTER)
    wait_until(lambda: text_of(driver, "#watch-message") == "Added MSFT", 20, message="the add")
    with board.sessions() as session:
        assert "MSFT" in watched_symbols(session)
    wait_until(
        lambda: driver.find_elements("css selector", 'button.stock-card[data-symbol="MSFT"]'),
        20,
        message="the MSFT card",
    )
    assert violations(driver) == []
    assert severe_logs(driver) == []
