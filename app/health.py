"""Operational routes on the Flask server: /healthz, /readyz and /metrics."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from db.migrate import current_revision, head_revision
from db.queries import latest_observation
from db.settings import Settings


def readiness(
    settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    market_open: Callable[[datetime], bool],
) -> tuple[bool, dict[str, str]]:
    """Each check's verdict; ready only when all say ok."""
    checks: dict[str, str] = {}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
        return False, checks
    revision, head = current_revision(engine), head_revision()
    checks["schema"] = (
        "ok"
        if revision == head
        else (f"at {revision or 'nothing'}, expected {head}: run `alembic upgrade head`")
    )
    now = clock()
    with sessions() as session:
        newest = max(latest_observation(session, settings.symbols).values(), default=None)
    limit = timedelta(seconds=settings.ready_max_price_age)
    if not market_open(now):
        checks["prices"] = "ok (market closed)"
    elif newest is None:
        checks["prices"] = "no price stored yet"
    elif now - newest > limit:
        age, most = (now - newest).total_seconds(), limit.total_seconds()
        checks["prices"] = f"newest price is {age:.0f}s old (limit {most:.0f}s)"
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
    engine: Engine,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    market_open: Callable[[datetime], bool],
    registry: CollectorRegistry | None = None,
) -> None:
    """Add the three routes to the Flask server behind Dash."""

    @server.get("/healthz")
    def healthz() -> Response:
        return Response('{"status": "alive"}', mimetype="application/json")

    @server.get("/readyz")
    def readyz() -> Response:
        ready, checks = readiness(settings, engine, sessions, clock, market_open)
        body = json.dumps({"status": "ready" if ready else "not ready", "checks": checks})
        return Response(body, status=200 if ready else 503, mimetype="application/json")

    @server.get("/metrics")
    def metrics() -> Response:
        scrape = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
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
