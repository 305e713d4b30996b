"""Start-up of the commands: each failure is one line and an exit status, never a traceback.

Exit statuses: 2 when a setting cannot work (a bad value, a SQLite file that
cannot be created or written, an address that cannot be listened on), 1 when
the world is not ready (the database down for `init-db` or `poll --once`, the
schema behind, the port taken). `run` and `poll` wait for a database that is
not there yet instead of exiting: a poller under systemd must outlive a
database restart.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError

from app.runtime import Runtime, build_runtime
from core.settings import Settings
from db.migrate import SchemaNotCurrent
from db.reachability import DatabaseUnusable, failure_cause, is_lasting, require_usable_sqlite_path

log = logging.getLogger("stockstreamer")

EXIT_NOT_READY = 1
EXIT_BAD_SETTING = 2
# The wait between tries doubles from the first to the last.
FIRST_RETRY_SECONDS = 1.0
LAST_RETRY_SECONDS = 30.0
# While waiting, a reminder that it still waits, so a log reader sees it is not stuck.
REMINDER_SECONDS = 60.0


def say(message: str) -> None:
    """One line on stderr, as every start-up failure is reported."""
    print(f"stockstreamer: {message}", file=sys.stderr, flush=True)


def database_line(settings: Settings, cause: str) -> str:
    """The database named as the operator sets it, password hidden, and what is wrong."""
    return f"cannot use the database at DATABASE_URL={settings.safe_database_url()}: {cause}"


def checked(settings: Settings, action: Callable[[], object]) -> int:
    """Run a one-shot database action; a failure is one line and status 1 (2 if it cannot work)."""
    try:
        require_usable_sqlite_path(settings.database_url)
        action()
    except DatabaseUnusable as exc:
        say(database_line(settings, str(exc)))
        return EXIT_BAD_SETTING
    except SchemaNotCurrent as exc:
        say(database_line(settings, str(exc)))
        return EXIT_NOT_READY
    except DBAPIError as exc:
        say(database_line(settings, failure_cause(exc)))
        return EXIT_BAD_SETTING if is_lasting(settings.database_url, exc) else EXIT_NOT_READY
    return 0


def open_runtime(settings: Settings, stop: threading.Event | None = None) -> Runtime | int:
    """The runtime on a schema at head, or the exit status once the problem is said.

    Without `stop` a database that cannot be reached fails at once (status 1);
    with it, start-up waits for the database (1 s doubling to 30 s) until it
    answers or `stop` is set (status 0).
    """
    try:
        require_usable_sqlite_path(settings.database_url)
    except DatabaseUnusable as exc:
        say(database_line(settings, str(exc)))
        return EXIT_BAD_SETTING
    delay, said, said_at = FIRST_RETRY_SECONDS, "", 0.0
    while True:
        try:
            runtime = build_runtime(settings, require_schema=True)
        except SchemaNotCurrent as exc:
            say(database_line(settings, str(exc)))
            return EXIT_NOT_READY
        except DBAPIError as exc:
            cause = failure_cause(exc)
            if is_lasting(settings.database_url, exc):
                say(database_line(settings, cause))
                return EXIT_BAD_SETTING
            if stop is None:
                say(database_line(settings, cause))
                return EXIT_NOT_READY
            # One line when the wait starts or its cause changes, then one a minute.
            if cause != said or time.monotonic() - said_at >= REMINDER_SECONDS:
                log.warning(
                    "%s; waiting for it (retrying up to every %.0f s)",
                    database_line(settings, cause),
                    LAST_RETRY_SECONDS,
                )
                said, said_at = cause, time.monotonic()
            if stop.wait(delay):
                return 0
            delay = min(delay * 2, LAST_RETRY_SECONDS)
            continue
        if said:
            log.info("the database at DATABASE_URL=%s answers now", settings.safe_database_url())
        return runtime


def listening_socket(settings: Settings) -> socket.socket | int:
    """The dashboard's listening socket, bound before anything starts, or the exit status."""
    address = f"STOCKSTREAMER_HOST:STOCKSTREAMER_PORT={settings.host}:{settings.port}"
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    try:
        return socket.create_server((settings.host, settings.port), family=family, backlog=128)
    except OSError as exc:
        # create_server adds "(while attempting to bind …)", which repeats the address.
        cause = os.strerror(exc.errno) if exc.errno else str(exc)
        if exc.errno == errno.EADDRINUSE:
            say(f"cannot listen on {address}: {cause.lower()} (another program has the port)")
            return EXIT_NOT_READY
        say(f"cannot listen on {address}: {cause.lower()}")
        return EXIT_BAD_SETTING
