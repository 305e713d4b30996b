"""The page in headless Chromium through a fault: when its outage messages show and clear.

Two elements tell a user something is wrong (app/callbacks.py, assets/page.js):
the **database line** (`#status .status-error`, the tick's answer when it cannot
read) and the **banner** (`#stale-banner`, shown by the page itself when no
answer brought numbers for 3 refresh intervals). A watcher installed before any
page script looks at both every 100 ms and records each change with Date.now(),
so the times compare with the bench's own clock (the same machine).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.app.conftest import CHROME_FLAGS, WINDOW

WATCH = """
(function () {
  var seen = window.__faults = {changes: [], now: {}};
  function shown(el) { return !!el && !el.hidden && el.offsetParent !== null; }
  function look() {
    var state = {
      db: shown(document.querySelector('#status .status-error')),
      banner: shown(document.getElementById('stale-banner')),
      loaded: /^Updated /.test((document.getElementById('updated') || {}).textContent || '')
    };
    Object.keys(state).forEach(function (k) {
      if (seen.now[k] !== state[k]) {
        seen.now[k] = state[k];
        seen.changes.push([Date.now() / 1000, k, state[k]]);
      }
    });
  }
  setInterval(look, 100);
})();
"""
ELEMENTS = ("db", "banner")


@dataclass
class Shown:
    """Seconds from the fault's start to the element shown, and from the database back to it
    cleared (None: never); `flapped` when it showed again after clearing."""

    shown: float | None
    cleared: float | None
    flapped: bool = False


class PageWatch:
    """One headless Chromium kept for the whole run; open() loads the page of each server."""

    def __init__(self, chromium: str, chromedriver: str) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in CHROME_FLAGS:
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        self.driver.set_window_size(*WINDOW)
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})

    def open(self, url: str, timeout: float = 60) -> None:
        """Load `url` and wait until an answer has filled the header ("Updated …")."""
        self.driver.get(url)
        deadline = time.monotonic() + timeout
        while not self._now().get("loaded"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the page at {url} did not load in {timeout:g} s")
            time.sleep(0.2)

    def clear_after(self, moment: float, timeout: float) -> bool:
        """Wait (up to `timeout` s) until neither message shows; whether they both cleared."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self._now()
            if time.time() > moment and not any(now.get(k) for k in ELEMENTS):
                return True
            time.sleep(0.2)
        return False

    def timings(self, down: float, back: float) -> dict[str, Shown]:
        """Per element: fault start → first shown, database back → cleared for good."""
        changes = self.driver.execute_script("return window.__faults.changes;")
        result = {}
        for element in ELEMENTS:
            mine = [(at, on) for at, kind, on in changes if kind == element and at >= down]
            shown = next((at - down for at, on in mine if on), None)
            first_off = next((at for at, on in mine if not on and at >= back), None)
            still = shown is None or mine[-1][1]  # never shown, or still shown: no "cleared"
            cleared = None if still else max(0.0, mine[-1][0] - back)
            flapped = first_off is not None and any(on and at > first_off for at, on in mine)
            result[element] = Shown(shown, cleared, flapped)
        return result

    def close(self) -> None:
        self.driver.quit()

    def _now(self) -> dict[str, bool]:
        return self.driver.execute_script("return (window.__faults || {}).now || {};")
