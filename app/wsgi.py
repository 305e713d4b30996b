"""Composition root for gunicorn (`gunicorn app.wsgi:server`): the runtime, built from the settings.

The poller election is not started here but by gunicorn.conf.py's worker hooks,
so importing this module (gunicorn --preload, a test) starts no thread.
"""

from __future__ import annotations

from app.runtime import build_runtime, startup_settings
from jobs.election import ElectedPoller

runtime = build_runtime(startup_settings())
server = runtime.dashboard().server
_election: ElectedPoller | None = None


def start_poller() -> None:
    """Campaign for the poller lock in this process, unless web workers must not poll."""
    global _election
    if runtime.settings.web_polls and _election is None:
        _election = runtime.election()
        _election.start()


def stop_poller() -> None:
    """Stop polling (if this process leads) and give the lock up."""
    global _election
    if _election is not None:
        _election.stop()
        _election = None
