"""Composition root for gunicorn (`gunicorn app.wsgi:server`): builds the app from the settings.

The poller is not started here but by gunicorn.conf.py's worker hooks, so that
importing this module (gunicorn --preload, a test) starts no thread.
"""

from __future__ import annotations

import sys

from app.factory import create_app
from app.logs import configure_logging
from db.engine import make_engine, make_session_factory
from db.settings import SettingsError, load_settings
from jobs.scheduler import PollingService

try:
    settings = load_settings()
except SettingsError as exc:
    print(f"stockstreamer: {exc}", file=sys.stderr)
    raise SystemExit(2) from None

configure_logging(settings.log_level)
engine = make_engine(settings.database_url)
sessions = make_session_factory(engine)
application = create_app(settings, sessions)
server = application.server
_poller: PollingService | None = None


def start_poller() -> None:
    """Start this process's poller (called from a gunicorn worker hook)."""
    global _poller
    if _poller is None:
        _poller = PollingService(settings, sessions)
        _poller.start()


def stop_poller() -> None:
    """Stop this process's poller, waiting for a running job."""
    global _poller
    if _poller is not None:
        _poller.stop()
        _poller = None
