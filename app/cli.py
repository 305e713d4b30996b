"""The `stockstreamer` command: a composition root that builds everything from the settings."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from collections.abc import Sequence

from werkzeug.serving import make_server

from app.cli_watch import add_watch_parser
from app.passwords import PasswordFileError, read_passwords
from app.passwords_cli import add_passwd_parser
from app.runtime import startup_settings
from app.security_headers import QuietRequestHandler
from app.startup import EXIT_BAD_SETTING, checked, listening_socket, open_runtime, say
from core.settings import Settings
from db.migrate import upgrade
from jobs.election import ElectedPoller

log = logging.getLogger("stockstreamer")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, load the settings, run the command, return the exit status."""
    args = _parser().parse_args(argv)
    return int(args.command(startup_settings(), args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stockstreamer", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    init_db = commands.add_parser(
        "init-db", help="upgrade the database schema to the newest revision"
    )
    init_db.set_defaults(command=init_db_command)
    poll = commands.add_parser("poll", help="run the poller alone, in the foreground")
    poll.add_argument(
        "--once", action="store_true", help="one price run: print the result and exit"
    )
    poll.set_defaults(command=poll_command)
    run = commands.add_parser("run", help="serve the dashboard with the poller in the same process")
    run.set_defaults(command=run_command)
    add_watch_parser(commands)
    add_passwd_parser(commands)
    return parser


def init_db_command(settings: Settings, _args: argparse.Namespace) -> int:
    """Upgrade the schema to head."""
    status = checked(settings, lambda: upgrade(settings.database_url))
    if status == 0:
        print(f"database at {settings.safe_database_url()} is at the newest schema")
    return status


def poll_command(settings: Settings, args: argparse.Namespace) -> int:
    """Poll once (printing the result), or as the elected poller until SIGINT/SIGTERM."""
    stop = None if args.once else _stop_on_signals()
    runtime = open_runtime(settings, stop)
    if isinstance(runtime, int):
        return runtime
    try:
        if stop is not None:
            # The same lock as the web workers': however many run, one polls.
            return _run_until(stop, runtime.election())
        result = runtime.polling_service().run_once()
        print(json.dumps(result.report(), indent=2))
        return 1 if result.all_failed else 0
    finally:
        runtime.close()


def run_command(settings: Settings, _args: argparse.Namespace) -> int:
    """Serve the dashboard and poll, in one process, until Ctrl-C."""
    if settings.access.auth_file is not None:
        try:  # a sign-in that cannot work stops here, before anything is served
            read_passwords(settings.access.auth_file)
        except PasswordFileError as exc:
            say(str(exc))
            return EXIT_BAD_SETTING
    # The port first: a busy one stops here, before the database is touched or a price written.
    listener = listening_socket(settings)
    if isinstance(listener, int):
        return listener
    with listener:
        stop = _stop_on_signals()
        runtime = open_runtime(settings, stop)
        if isinstance(runtime, int):
            return runtime
        try:
            if stop.is_set():  # a signal came as the database answered
                return 0
            # werkzeug's server on the WSGI app gunicorn serves, not Dash's run(): that one
            # adds Dash's and Flask's banners, each repeating the address. Request lines stay
            # quiet (app.logs); werkzeug's and Flask's errors still reach the log.
            server = make_server(
                settings.host,
                settings.port,
                runtime.dashboard().server,
                threaded=True,
                request_handler=QuietRequestHandler,  # no "Server: Werkzeug/… Python/…"
                fd=listener.fileno(),
            )
            # Ctrl-C and SIGTERM (systemd, a container) now end serve_forever the same way.
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
            election = runtime.election()
            election.start()
            print(
                f"stockstreamer: dashboard on http://{settings.host}:{settings.port}/ "
                "(Ctrl-C stops)",
                flush=True,
            )
            try:
                server.serve_forever()  # returns on KeyboardInterrupt, the socket closed
                log.info("stopping")
            finally:
                election.stop()
                server.server_close()
            return 0
        finally:
            runtime.close()


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, so that a wait or a poller ends cleanly."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return stop


def _raise_keyboard_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _run_until(stop: threading.Event, election: ElectedPoller) -> int:
    election.start()
    log.info("campaigning for the poller lock")
    try:
        stop.wait()
    finally:
        election.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
