"""Composition root for gunicorn (`gunicorn app.wsgi:server`): builds the app from the settings.

The poller election is not started here but by gunicorn.conf.py's worker hooks,
so importing this module (gunicorn --preload, a test) starts no thread.
"""

from __future__ import annotations

import gc
import os
import sys

from prometheus_client import CollectorRegistry

from app.factory import create_app
from app.logs import configure_logging
from core.settings import SettingsError, load_settings
from db.engine import make_engine, make_session_factory
from jobs.election import ElectedPoller, build_election
from jobs.metrics import PollerMetrics
from jobs.providers.registry import PROVIDERS, market_hours

try:
    settings = load_settings(PROVIDERS)
except SettingsError as exc:
    print(f"stockstreamer: {exc}", file=sys.stderr)
    raise SystemExit(2) from None

configure_logging(settings.log_level, settings.log_format)
engine = make_engine(settings.database_url)
sessions = make_session_factory(engine)
# Under gunicorn the metrics go to PROMETHEUS_MULTIPROC_DIR files, summed by /metrics.
registry = None if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else CollectorRegistry()
metrics = PollerMetrics(registry)
application = create_app(settings, sessions, market_hours(settings), registry=registry)
server = application.server
_election: ElectedPoller | None = None
# Everything built so far lives as long as the process: keep it out of the cyclic
# GC's full passes, which otherwise cost ~80 ms on every few page loads.
gc.collect()
gc.freeze()


def start_poller() -> None:
    """Campaign for the poller lock in this process, unless web workers must not poll."""
    global _election
    if settings.web_polls and _election is None:
        _election = build_election(settings, sessions, metrics)
        _election.start()


def stop_poller() -> None:
    """Stop polling (if this process leads) and give the lock up."""
    global _election
    if _election is not None:
        _election.stop()
        _election = None
