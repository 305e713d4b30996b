"""Operational routes on the Flask server: /healthz, /readyz and /metrics."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.bounded import BoundedCall, DeadlineExceeded
from core.market import MarketHours
from core.settings import Settings
from db.migrate import schema_problem
from db.queries import latest_observation
from db.watchlist import watched_symbols

# /readyz answers within 2 s and /metrics within a scrape's patience, whatever the database does.
READY_DEADLINE = 1.5
METRICS_DEADLINE = 1.0


class NewestPrices:
    """The newest price time known per symbol, kept in memory so ages still grow in an outage."""

    def __init__(self) -> None:
        self._known: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def remember(self, newest: dict[str, datetime]) -> dict[str, datetime]:
        """Merge a read's newest times (never going back); the merged view."""
        with self._lock:
            for symbol, at in newest.items():
                if symbol not in self._known or at > self._known[symbol]:
                    self._known[symbol] = at
            return dict(self._known)

    def known(self) -> dict[str, datetime]:
        """What the last reads said, for when the database cannot be read now."""
        with self._lock:
            return dict(self._known)


def readiness(
    settings: Settings,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    market: MarketHours,
    bounded: BoundedCall | None = None,
    memory: NewestPrices | None = None,
) -> tuple[bool, dict[str, str]]:
    """Each check's verdict; ready only when all say ok (the database's within `bounded`'s time)."""
    checks: dict[str, str] = {}

    def read() -> tuple[str | None, dict[str, datetime]]:
        with sessions() as session:
            session.execute(text("SELECT 1"))
            problem = schema_problem(sessions)
            if problem:  # an older schema may not have the watchlist's table yet
                return problem, {}
            return problem, latest_observation(session, watched_symbols(session))

    try:
        problem, latest = (bounded or BoundedCall(READY_DEADLINE, "readyz"))(read)
    except (SQLAlchemyError, DeadlineExceeded) as exc:
        return False, {"database": f"unreachable: {type(exc).__name__}"}
    if memory is not None:
        memory.remember(latest)
    newest = max(latest.values(), default=None)
    checks["database"] = "ok"
    checks["schema"] = problem or "ok"
    now = clock()
    limit = settings.ready_price_age
    if not market.is_open(now):
        checks["prices"] = "ok (market closed)"
    elif newest is None:
        checks["prices"] = "no price stored yet"
    elif (now - newest).total_seconds() > limit:
        age = (now - newest).total_seconds()
        checks["prices"] = f"newest price is {age:.0f}s old (limit {limit:.0f}s)"
    else:
        checks["prices"] = "ok"
    return all(v.startswith("ok") for v in checks.values()), checks


class PriceAgeCollector:
    """Age of the newest price per symbol: read at scrape time, or the newest known in an outage."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        clock,
        memory: NewestPrices | None = None,
        bounded: BoundedCall | None = None,
    ) -> None:
        self._settings, self._sessions, self._clock = settings, sessions, clock
        self._memory = memory or NewestPrices()
        self._bounded = bounded or BoundedCall(METRICS_DEADLINE, "metrics-age")

    def _read(self) -> dict[str, datetime]:
        with self._sessions() as session:
            return latest_observation(session, watched_symbols(session))

    def collect(self):
        family = GaugeMetricFamily(
            "stockstreamer_newest_price_age_seconds",
            "Age of the newest stored price.",
            labels=["symbol"],
        )
        try:
            newest = self._memory.remember(self._bounded(self._read))
        except Exception:
            # The database is down or hung: the age keeps growing from the newest price known.
            newest = self._memory.known()
        now = self._clock()
        for symbol, at in sorted(newest.items()):
            family.add_metric([symbol], (now - at).total_seconds())
        yield family


def register_health_routes(
    server: Flask,
    settings: Settings,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    market: MarketHours,
    registry: CollectorRegistry | None = None,
) -> None:
    """Add the three routes to the Flask server behind Dash."""
    memory = NewestPrices()
    ready_call = BoundedCall(READY_DEADLINE, "readyz")
    age = PriceAgeCollector(settings, sessions, clock, memory)

    @server.get("/healthz")
    def healthz() -> Response:
        return Response('{"status": "alive"}', mimetype="application/json")

    @server.get("/readyz")
    def readyz() -> Response:
        ready, checks = readiness(settings, sessions, clock, market, ready_call, memory)
        body = json.dumps({"status": "ready" if ready else "not ready", "checks": checks})
        return Response(body, status=200 if ready else 503, mimetype="application/json")

    @server.get("/metrics")
    def metrics() -> Response:
        scrape = CollectorRegistry()
        if settings.prometheus_multiproc_dir:
            from prometheus_client import multiprocess

            multiprocess.MultiProcessCollector(scrape)
        elif registry is not None:
            scrape = registry
        scrape_with_age = CollectorRegistry()
        scrape_with_age.register(_Chain(scrape))
        scrape_with_age.register(age)
        return Response(generate_latest(scrape_with_age), mimetype=CONTENT_TYPE_LATEST)


class _Chain:
    """Collects another registry's metrics into this one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self):
        yield from self._registry.collect()
