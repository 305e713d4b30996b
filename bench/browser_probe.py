"""Headless Chromium driven through selenium, with a probe installed before any page script.

The probe (Page.addScriptToEvaluateOnNewDocument) records, in performance.now()
milliseconds from navigation start: the moment the chart first has all its
traces drawn (a MutationObserver, checked again on each `plotly_afterplot`),
every long task (PerformanceObserver 'longtask', buffered), and the start and
end of every tick's request (the interval's `_dash-update-component` fetch).
A DevTools trace (Tracing over the browser's own DevTools socket) gives every
task the renderer's main thread ran between two ticks.
Bytes come from chromedriver's performance log: each response's
Network.loadingFinished encodedDataLength (headers and body as they crossed the wire).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.request
from dataclasses import dataclass

import trio
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait
from trio_websocket import open_websocket_url

from tests.app.conftest import CHROME_FLAGS, WINDOW

PROBE = """
(function () {
  var probe = window.__bench = {drawn: null, longtasks: [], ticks: [], expected: %d};
  try {
    new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) {
        probe.longtasks.push([e.startTime, e.duration]);
      });
    }).observe({type: 'longtask', buffered: true});
  } catch (e) { probe.noLongtasks = String(e); }
  var check = function () {
    if (probe.drawn !== null) return;
    var gd = document.querySelector('#chart .js-plotly-plot');
    if (!gd || !gd._fullData) return;
    if (!gd.__benchHooked && gd.on) {
      gd.__benchHooked = true;
      gd.on('plotly_afterplot', check);
    }
    var svg = gd.querySelectorAll('.scatterlayer .trace').length;
    var gl = gd._fullData.filter(function (t) { return /gl$/.test(t.type); }).length;
    if (gl && !gd.querySelector('canvas')) gl = 0;
    if (svg + gl >= probe.expected) probe.drawn = performance.now();
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true});
  // A tick is the request the interval's n_intervals triggered: mark it for the trace.
  var send = window.fetch;
  window.fetch = function (resource, init) {
    var body = init && typeof init.body === 'string' ? init.body : '';
    if (body.indexOf('"tick.n_intervals"') < 0) return send.apply(this, arguments);
    performance.mark('bench-tick');
    var entry = [performance.now(), null];
    probe.ticks.push(entry);
    return send.apply(this, arguments).then(function (answer) {
      answer.clone().text().then(function () { entry[1] = performance.now(); });
      return answer;
    });
  };
})();
"""


# RunTask (a task on a thread) and the probe's tick marks (blink.user_timing).
TRACE_CATEGORIES = "devtools.timeline,disabled-by-default-devtools.timeline,blink.user_timing"


@dataclass
class Load:
    """One navigation: ms from navigation start to the chart drawn, and bytes received."""

    drawn_ms: float | None
    bytes: int
    requests: int


class Browser:
    """One Chromium with its own fresh profile (an empty cache), quit on close()."""

    def __init__(self, chromium: str, chromedriver: str, expected_traces: int) -> None:
        self.profile = tempfile.mkdtemp(prefix="bench-browser-profile-")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in CHROME_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True})
        self.driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        self.driver.set_window_size(*WINDOW)
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": PROBE % expected_traces}
        )

    def trace(self, seconds: float) -> list[dict]:
        """The browser's trace events over the next `seconds` (devtools.timeline, user timing)."""
        address = self.driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json/version", timeout=10) as answer:
            endpoint = json.load(answer)["webSocketDebuggerUrl"]
        return trio.run(_traced, endpoint, seconds)

    def close(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

    def responses(self) -> list[tuple[str, int]]:
        """(URL, bytes on the wire) of every response finished since the last call."""
        urls, done = {}, []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message["method"] == "Network.requestWillBeSent":
                urls[params["requestId"]] = params["request"]["url"]
            elif message["method"] == "Network.loadingFinished":
                done.append((params["requestId"], int(params["encodedDataLength"])))
        return [(urls.get(rid, "?"), size) for rid, size in done]

    def probe(self) -> dict:
        return self.driver.execute_script("return window.__bench;")

    def wait_drawn(self, timeout: float = 60) -> float | None:
        """ms from navigation start to the chart drawn (None if not within `timeout` s)."""
        try:
            WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(
                lambda d: d.execute_script("return window.__bench && window.__bench.drawn;")
            )
        except Exception:
            return None
        return self.probe()["drawn"]

    def load(self, url: str | None) -> Load:
        """Navigate to `url` (None: reload), wait for the chart and the network to settle."""
        self.responses()  # drop what came before
        if url is None:
            self.driver.refresh()
        else:
            self.driver.get(url)
        drawn = self.wait_drawn()
        self._settle()
        got = self.responses()
        return Load(drawn, sum(size for _, size in got), len(got))

    def _settle(self, quiet: float = 1.0) -> None:
        """Wait until no resource has been added for `quiet` s (fonts, logos, late bundles)."""
        count, since = -1, time.monotonic()
        while time.monotonic() - since < quiet:
            now = self.driver.execute_script(
                "return performance.getEntriesByType('resource').length;"
            )
            if now != count:
                count, since = now, time.monotonic()
            time.sleep(0.1)


async def _traced(endpoint: str, seconds: float) -> list[dict]:
    """Trace the browser for `seconds` through its DevTools socket; every event reported."""
    async with open_websocket_url(endpoint, max_message_size=2**30) as socket:
        params = {"categories": TRACE_CATEGORIES, "transferMode": "ReportEvents"}
        await socket.send_message(
            json.dumps({"id": 1, "method": "Tracing.start", "params": params})
        )
        await trio.sleep(seconds)
        await socket.send_message(json.dumps({"id": 2, "method": "Tracing.end"}))
        events: list[dict] = []
        while True:
            message = json.loads(await socket.get_message())
            if message.get("method") == "Tracing.dataCollected":
                events += message["params"]["value"]
            elif message.get("method") == "Tracing.tracingComplete":
                return events
            elif "error" in message:
                raise RuntimeError(f"DevTools tracing failed: {message['error']}")
