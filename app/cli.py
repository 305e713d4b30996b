"""The `stockstreamer` command: a composition root that builds everything from the settings."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from werkzeug.serving import make_server

from app.runtime import Runtime, build_runtime, startup_settings
from core.settings import Settings
from db.migrate import SchemaNotCurrent, upgrade
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
    return parser


def init_db_command(settings: Settings, _args: argparse.Namespace) -> int:
    """Upgrade the schema to head."""
    upgrade(settings.database_url)
    print(f"database at {settings.safe_database_url()} is at the newest schema")
    return 0


def _runtime(settings: Settings) -> Runtime | None:
    """The runtime on a schema at head, or None once the problem is printed."""
    try:
        return build_runtime(settings, require_schema=True)
    except SchemaNotCurrent as exc:
        print(f"stockstreamer: {exc}", file=sys.stderr)
        return None


def poll_command(settings: Settings, args: argparse.Namespace) -> int:
    """Poll once (printing the result), or as the elected poller until SIGINT/SIGTERM."""
    runtime = _runtime(settings)
    if runtime is None:
        return 1
    try:
        if not args.once:
            # The same lock as the web workers': however many run, one polls.
            return _run_until_signal(runtime.election())
        result = runtime.polling_service().run_once()
        print(json.dumps(result.report(), indent=2))
        return 1 if result.all_failed else 0
    finally:
        runtime.close()


def run_command(settings: Settings, _args: argparse.Namespace) -> int:
    """Serve the dashboard and poll, in one process, until Ctrl-C."""
    runtime = _runtime(settings)
    if runtime is None:
        return 1
    try:
        # werkzeug's server on the WSGI app gunicorn serves, not Dash's run(): that one adds
        # Dash's and Flask's banners, each repeating the address. Request lines stay quiet
        # (app.logs); werkzeug's and Flask's errors still reach the log. Bound before the
        # poller starts: a busy port stops here with werkzeug's one-line explanation.
        server = make_server(
            settings.host, settings.port, runtime.dashboard().server, threaded=True
        )
        election = runtime.election()
        election.start()
        print(
            f"stockstreamer: dashboard on http://{settings.host}:{settings.port}/ (Ctrl-C stops)",
            flush=True,
        )
        # SIGTERM (systemd, a container) stops it as cleanly as Ctrl-C does.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            server.serve_forever()  # returns on KeyboardInterrupt, the socket closed
            log.info("stopping")
        finally:
            election.stop()
        return 0
    finally:
        runtime.close()


def _raise_keyboard_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _run_until_signal(election: ElectedPoller) -> int:
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    election.start()
    log.info("campaigning for the poller lock")
    try:
        stop.wait()
    finally:
        election.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
