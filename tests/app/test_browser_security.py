"""The page under its Content-Security-Policy in headless Chromium: it works, nothing is blocked.

Every `securitypolicyviolation` event is recorded from before the page's first
script; the chart is drawn, a tick grows it, a control and a card answer, the
Price view shows its logos and plotly's PNG download works, and none of it is
blocked or logs an error. Strings are not evaluated: the policy has no 'unsafe-eval'.
"""

from __future__ import annotations

import pytest

from tests.app.browser_helpers import (
    SYMBOLS,
    figure,
    open_page,
    severe_logs,
    traces,
    wait_growth,
    wait_ticks,
)
from tests.app.conftest import wait_until

pytestmark = pytest.mark.timeout(90)

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(
    [e.effectiveDirective, e.blockedURI, e.sourceFile, e.lineNumber].join(" "));
});
"""
PNG = """
var done = arguments[0], gd = document.querySelector('#chart .js-plotly-plot');
Plotly.toImage(gd, {format: 'png', width: 600, height: 400})
  .then(function (url) { done(url.slice(0, 22)); }, function (e) { done('failed: ' + e); });
"""


@pytest.fixture(scope="module")
def watched(driver):
    """The module's browser, recording every policy violation of every page it loads."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    return driver


def violations(driver) -> list[str]:
    return driver.execute_script("return window.__violations;")


def test_the_page_works_under_its_policy_with_nothing_blocked(watched, dashboard_factory):
    driver = watched
    board = dashboard_factory("sqlite", symbols=",".join(SYMBOLS))
    before = open_page(driver, board.url)
    wait_ticks(driver, 1)
    wait_growth(driver, before)

    driver.find_element("id", "view-price").click()
    wait_until(lambda: figure(driver, "gd.layout.title.text").startswith("Price"), 15, 0.1)
    logos = figure(driver, "gd.layout.images.map(function (i) { return i.source; })")
    assert sorted(logos) == [f"/assets/logos/{s}.svg" for s in sorted(SYMBOLS)]
    wait_until(
        lambda: len(driver.find_elements("css selector", "#chart .layer-above image")) == 3,
        15,
        message="the three logos drawn",
    )
    driver.find_element("css selector", '.stock-card[data-symbol="GE"]').click()
    wait_until(lambda: set(traces(driver) or {}) == {"AAPL", "NVDA"}, 15, message="GE hidden")
    assert driver.execute_async_script(PNG) == "data:image/png;base64,"

    assert violations(driver) == []
    assert severe_logs(driver) == []

    # The policy is in force, and the violations are heard: a script the page did not
    # bring is blocked, as is a string handed to setTimeout ('unsafe-eval').
    driver.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.__ran = 1;';"
        "document.head.appendChild(s); setTimeout('window.__ran = 2;', 0);"
    )
    wait_until(lambda: len(violations(driver)) == 2, 5, message="two violations heard")
    assert driver.execute_script("return window.__ran === undefined;")
    assert sorted(v.split()[0] for v in violations(driver)) == ["script-src", "script-src-elem"]
