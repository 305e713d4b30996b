"""A viewer as the page's browser behaves on the wire: an asyncio task over a shared httpx client.

It loads the page (the HTML, /_dash-layout, /_dash-dependencies, the first
`on_update` POST) and then, every refresh interval like dcc.Interval, POSTs the
tick with the page and edge stores of the answers it got, as Dash's renderer
sends them. Every request's time and outcome goes to a `Recorder`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
from dash_body import output_specs

KINDS = ("page", "layout", "dependencies", "first", "first load", "tick", "client lag")


@dataclass
class Recorder:
    """Seconds per request kind and phase ("ramp" or "after"), and errors by kind."""

    ramp_end: float = float("inf")  # loop time when the last viewer has arrived
    stop_at: float = float("inf")  # loop time after which nothing more is recorded
    times: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    appended: int = 0  # ticks whose answer appended points (the poller is writing)

    def add(self, kind: str, began: float, seconds: float) -> None:
        if began < self.stop_at:
            phase = "ramp" if began < self.ramp_end else "after"
            self.times[(kind, phase)].append(seconds)

    def moved(self, began: float) -> None:
        if began < self.stop_at:
            self.appended += 1

    def fail(self, kind: str, began: float, what: str) -> None:
        if began < self.stop_at:
            self.errors[kind].append(what)

    def plain(self) -> dict:
        """What was recorded, as plain values another process can receive."""
        return {"times": dict(self.times), "errors": dict(self.errors), "appended": self.appended}

    @classmethod
    def merged(cls, parts: list[dict], ramp_end: float, stop_at: float) -> Recorder:
        """One record of several processes' `plain()` records."""
        record = cls(ramp_end=ramp_end, stop_at=stop_at)
        for part in parts:
            for key, times in part["times"].items():
                record.times[key].extend(times)
            for kind, errors in part["errors"].items():
                record.errors[kind].extend(errors)
            record.appended += part["appended"]
        return record


def update_dependency(dependencies: list[dict]) -> dict:
    """The `on_update` callback's dependency: the one whose outputs include the chart's figure."""
    for dependency in dependencies:
        if "chart.figure" in dependency["output"]:
            return dependency
    raise LookupError("no callback draws chart.figure")


def callback_body(dependency: dict, values: dict[str, object], changed: list[str]) -> dict:
    """The POST body Dash's renderer sends: outputs, inputs and states with their values."""

    def with_value(spec: dict) -> dict:
        key = f"{spec['id']}.{spec['property']}"
        return {"id": spec["id"], "property": spec["property"], "value": values.get(key)}

    return {
        "output": dependency["output"],
        "outputs": output_specs(dependency["output"]),
        "inputs": [with_value(i) for i in dependency["inputs"]],
        "changedPropIds": changed,
        "state": [with_value(s) for s in dependency["state"]],
    }


class Viewer:
    """One browser tab on `search`, ticking every `interval` seconds until `stop` is set."""

    def __init__(self, client: httpx.AsyncClient, search: str, interval: float, record: Recorder):
        self.client, self.search, self.interval, self.record = client, search, interval, record
        self.values: dict[str, object] = {"url.search": search, "tick.n_intervals": 0}

    async def _request(self, kind: str, method: str, url: str, body: dict | None = None):
        began = asyncio.get_running_loop().time()
        try:
            response = await self.client.request(method, url, json=body)
            seconds = asyncio.get_running_loop().time() - began
            if response.status_code not in (200, 204):
                self.record.fail(kind, began, f"HTTP {response.status_code}")
                return None
            self.record.add(kind, began, seconds)
            return response
        except httpx.HTTPError as exc:
            self.record.fail(kind, began, type(exc).__name__)
            return None

    def _keep(self, response: httpx.Response) -> bool:
        """Keep the stores an answer sets, as the browser does; whether its newest points moved."""
        if response.status_code == 204:
            return False
        answer = json.loads(response.content)["response"]
        before = self.values.get("edge.data")
        for store in ("page", "edge"):
            if store in answer:
                self.values[f"{store}.data"] = answer[store]["data"]
        return isinstance(before, dict) and before.get("last") != answer["edge"]["data"]["last"]

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        page = await self._request("page", "GET", f"/{self.search}")
        layout = page and await self._request("layout", "GET", "/_dash-layout")
        found = layout and await self._request("dependencies", "GET", "/_dash-dependencies")
        if not found:
            return
        dependency = update_dependency(found.json())
        body = callback_body(dependency, self.values, [])
        first = await self._request("first", "POST", "/_dash-update-component", body)
        if first is None:
            return
        self.record.add("first load", began, loop.time() - began)
        self._keep(first)
        due = loop.time() + self.interval
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, due - loop.time()))
                return
            except TimeoutError:
                pass
            self.values["tick.n_intervals"] = int(self.values["tick.n_intervals"]) + 1  # type: ignore[arg-type]
            body = callback_body(dependency, self.values, ["tick.n_intervals"])
            began = loop.time()
            answer = await self._request("tick", "POST", "/_dash-update-component", body)
            if answer is not None and self._keep(answer):
                self.record.moved(began)
            # dcc.Interval keeps its cadence; a late answer skips the ticks it overran.
            due += self.interval * max(1, int((loop.time() - due) // self.interval) + 1)


def client_cpu() -> float:
    """This process's CPU seconds so far (the load generator shares the machine's cores)."""
    return time.process_time()
