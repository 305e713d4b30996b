"""The first requests a fresh process takes, all at once: the page's bundles answer, never a 500.

Dash sets up a process on its first request and marks that done before the work
(plotly/dash#3971): a request in a second thread meanwhile found no registered
bundle and answered 500, and the first page load after a restart stayed blank.
"""

from __future__ import annotations

import concurrent.futures
import re
import urllib.error
import urllib.request

from tests.app.conftest import LiveServer
from tests.app.signin_helpers import signed_app

AT_ONCE = 24


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_a_fresh_app_serves_every_bundle_of_its_first_page_loads_at_once(tmp_path):
    # The page's bundles, as a first app lists them (the same code and files: the same URLs).
    (tmp_path / "listing").mkdir()
    (tmp_path / "fresh").mkdir()
    listing, _, _ = signed_app(tmp_path / "listing")
    page = listing.server.test_client().get("/").get_data(as_text=True)
    bundles = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)
    assert len(bundles) >= 5, page

    fresh, _, _ = signed_app(tmp_path / "fresh")  # no request yet
    server = LiveServer(fresh.server)
    try:
        urls = [server.url.rstrip("/") + path for path in (bundles * AT_ONCE)[:AT_ONCE]]
        with concurrent.futures.ThreadPoolExecutor(AT_ONCE) as pool:
            statuses = list(pool.map(_status, urls))
    finally:
        server.stop()
    assert statuses == [200] * AT_ONCE
