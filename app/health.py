"""Operational routes on the Flask server: /healthz, /readyz and /metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.market import MarketHours
from core.settings import Settings
from db.migrate import schema_problem
from db.queries import latest_observation


def readiness(
    settings: Settings,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    market: MarketHours,
) -> tuple[bool, dict[str, str]]:
    """Each check's verdict; ready only when all say ok."""
    checks: dict[str, str] = {}
    try:
        with sessions() as session:
            session.execute(text("SELECT 1"))
            problem = schema_problem(sessions)
            newest = max(latest_observation(session, settings.symbols).values(), default=None)
    except SQLAlchemyError as exc:
        return False, {"database": f"unreachable: {type(exc).__name__}"}
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
    """Age of the newest price per symbol, read from the database at scrape time."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], clock) -> None:
        self._settings, self._sessions, self._clock = settings, sessions, clock

    def collect(self):
        family = GaugeMetricFamily(
            "stockstreamer_newest_price_age_seconds",
            "Age of the newest stored price.",
            labels=["symbol"],
        )
        try:
            with self._sessions() as session:
                newest = latest_observation(session, self._settings.symbols)
        except Exception:
            newest = {}
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

    @server.get("/healthz")
    def healthz() -> Response:
        return Response('{"status": "alive"}', mimetype="application/json")

    @server.get("/readyz")
    def readyz() -> Response:
        ready, checks = readiness(settings, sessions, clock, market)
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
        scrape_with_age.register(PriceAgeCollector(settings, sessions, clock))
        return Response(generate_latest(scrape_with_age), mimetype=CONTENT_TYPE_LATEST)


class _Chain:
    """Collects another registry's metrics into this one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self):
        yield from self._registry.collect()
