"""What the page fetches in Chromium: no unused bundle, compressed, cached on a second visit."""

from __future__ import annotations

import re

from tests.app.browser_helpers import open_page, seed_week, severe_logs

# Every file the page fetched, as the browser's Resource Timing saw it (the page itself included).
FETCHED = """
return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .map(function (e) { return {name: e.name, transfer: e.transferSize,
                              encoded: e.encodedBodySize, decoded: e.decodedBodySize}; });
"""
COLD_BUDGET = 1_600_000  # issue 10: the first load over the wire
WARM_BUDGET = 300_000
# Dash's `.v4_4_1m1700000000.js` bundles and the assets' `?m=` query.
FINGERPRINT = re.compile(r"\.v[\d_]+m\d+\.|\?m=")


def fetched(driver) -> list[dict]:
    return driver.execute_script(FETCHED)


def test_the_page_fetches_no_data_table_and_little_on_a_second_visit(driver, dashboard_factory):
    board = dashboard_factory("sqlite", poller=False, window_days=7)
    seed_week(board.sessions)
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})

    open_page(driver, board.url)
    cold = fetched(driver)
    names = [entry["name"] for entry in cold]
    assert any("dash_core_components" in name for name in names)
    assert not [name for name in names if "dash_table" in name]
    biggest = max(cold, key=lambda entry: entry["decoded"])  # plotly.js, whichever bundle
    assert biggest["encoded"] < biggest["decoded"] / 3, f"{biggest['name']} came uncompressed"
    assert sum(entry["transfer"] for entry in cold) <= COLD_BUDGET

    open_page(driver, board.url)
    warm = fetched(driver)
    from_cache = [entry["name"] for entry in warm if FINGERPRINT.search(entry["name"])]
    assert from_cache, "the second visit listed no fingerprinted file"
    for entry in warm:
        if entry["name"] in from_cache:
            assert entry["transfer"] == 0, f"{entry['name']} was fetched again"
    assert sum(entry["transfer"] for entry in warm) <= WARM_BUDGET
    assert severe_logs(driver) == []
