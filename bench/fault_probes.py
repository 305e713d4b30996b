"""What the fault bench measures from outside: /healthz and /readyz probes, and prices stored.

A probe is one GET on a new connection, as a load balancer's or a monitor's
would be, with a client timeout long enough that a hung route is counted as
such (its time is the timeout) rather than waited for. Prices are counted per
symbol and whole second straight from the database.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select, text

from db.models import PriceTick

PROBE_EVERY = 0.25  # seconds between two probes of one route
PROBE_TIMEOUT = 10.0  # a probe still waiting after this is counted as "timeout"


@dataclass(frozen=True)
class Probe:
    """One GET: when it was sent (epoch s), its status (or 'timeout'/'error') and seconds taken."""

    sent: float
    status: str
    seconds: float


class Prober:
    """A thread per route, each sending a GET every PROBE_EVERY s until stop()."""

    def __init__(self, base: str, routes: Sequence[str] = ("healthz", "readyz")) -> None:
        self.probes: dict[str, list[Probe]] = {route: [] for route in routes}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(base + r, r), daemon=True) for r in routes
        ]

    def start(self) -> Prober:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=PROBE_TIMEOUT + 5)

    def _run(self, url: str, route: str) -> None:
        while not self._stop.is_set():
            sent, started = time.time(), time.monotonic()
            try:
                with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT) as answer:
                    answer.read()
                    status = str(answer.status)
            except urllib.error.HTTPError as error:
                status = str(error.code)
            except TimeoutError:
                status = "timeout"
            except OSError as error:
                timed_out = "timed out" in str(error)
                status = "timeout" if timed_out else "error"
            took = time.monotonic() - started
            self.probes[route].append(Probe(sent, status, took))
            self._stop.wait(max(0.0, PROBE_EVERY - took))

    def during(self, route: str, start: float, end: float) -> list[Probe]:
        """The probes of `route` sent in [start, end] (epoch seconds)."""
        return [p for p in self.probes[route] if start <= p.sent <= end]


def p95(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def codes(probes: Sequence[Probe]) -> str:
    """The statuses seen and how often, e.g. '200×118 503×2'."""
    return " ".join(f"{k}×{n}" for k, n in sorted(Counter(p.status for p in probes).items()))


def stored_seconds(
    engine, symbols: Sequence[str], start: datetime, end: datetime
) -> tuple[dict[str, set[int]], int]:
    """Each symbol's stored whole seconds in [start, end], and rows stored twice (0 by design)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(PriceTick.symbol, PriceTick.observed_at).where(
                PriceTick.observed_at >= start, PriceTick.observed_at <= end
            )
        ).all()
        twice = connection.execute(
            text(
                "SELECT count(*) FROM (SELECT symbol, observed_at FROM price_ticks "
                "GROUP BY symbol, observed_at HAVING count(*) > 1) AS d"
            )
        ).scalar()
    seconds: dict[str, set[int]] = {s: set() for s in symbols}
    for symbol, at in rows:
        seconds[symbol].add(int(at.timestamp()))
    return seconds, int(twice or 0)


def first_write_after(engine, moment: datetime, timeout: float = 120.0) -> float | None:
    """Seconds from `moment` until a price fetched after it is stored (None: not in `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with engine.connect() as connection:
                newest = connection.execute(select(func.max(PriceTick.fetched_at))).scalar()
            if newest is not None and newest > moment:
                return (datetime.now(timezone.utc) - moment).total_seconds()
        except Exception:  # the database is still starting
            pass
        time.sleep(0.2)
    return None
