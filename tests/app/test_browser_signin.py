"""The signed-in page in headless Chromium: it loads, ticks and edits; an ended session says so.

Basic: Chromium sends the credentials as a header set through the DevTools protocol
(Network.setExtraHTTPHeaders), on every request of the page: the document, Dash's
bundles, the callbacks. Without them the same URL gets only the 401. OpenID Connect:
the fake provider (tests/fakes/oidc_server.py) signs its user in at once, so the
browser goes through the whole dance (page, provider, callback, page) with no form.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.keys import Keys

from db.watchlist import watched_symbols
from tests.app.browser_helpers import click, open_page, severe_logs, text_of, wait_ticks
from tests.app.conftest import wait_until
from tests.app.signin_helpers import CLIENT_ID, CLIENT_SECRET, PASSWORD, USER, password_file
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


def test_an_ended_session_says_sign_in_again_and_the_link_signs_in(driver, dashboard_factory, idp):
    board = dashboard_factory(
        "sqlite",
        symbols=",".join(SYMBOLS),
        oidc_issuer=idp.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        secret_key="k" * 40,
        session_cookie_secure=False,  # plain HTTP on 127.0.0.1
    )
    open_page(driver, board.url)  # through the provider and back
    assert any(line.startswith("GET /authorize") for line in idp.seen)
    wait_ticks(driver, 1)
    assert driver.find_element("id", "stale-banner").get_attribute("hidden")

    # The session ends (its cookie expires or is cleared): the next tick is refused with a
    # 401, and the page says so at once, not that the server cannot be reached.
    driver.delete_all_cookies()
    banner = wait_until(
        lambda: (t := text_of(driver, "#stale-banner")) and "sign-in has ended" in t and t,
        timeout=10,
        message="the banner to say the sign-in has ended",
    )
    assert "cannot be reached" not in banner
    assert banner.endswith("The prices are still being stored. Sign in again")
    assert text_of(driver, "#mode-label").startswith("Signed out · not updating since ")
    link = driver.find_element("css selector", "#stale-banner a")
    assert link.get_attribute("href").rstrip("/") == board.url.rstrip("/")

    signed_in_before = sum(1 for line in idp.seen if line.startswith("GET /authorize"))
    click(driver, "#stale-banner a")
    wait_until(
        lambda: sum(1 for line in idp.seen if line.startswith("GET /authorize")) > signed_in_before,
        timeout=20,
        message="the link to go through the provider again",
    )
    wait_ticks(driver, 1)
    wait_until(
        lambda: driver.find_element("id", "stale-banner").get_attribute("hidden"),
        timeout=10,
        message="the banner to go once signed in again",
    )
    assert text_of(driver, "#mode-label") == "Following live"
