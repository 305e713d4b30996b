"""The `stockstreamer` command: a composition root that builds everything from the settings."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from core.settings import Settings, SettingsError, load_settings

log = logging.getLogger("stockstreamer")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, load the settings, run the command, return the exit status."""
    from jobs.providers.registry import PROVIDERS

    args = _parser().parse_args(argv)
    try:
        settings = load_settings(PROVIDERS)
    except SettingsError as exc:
        print(f"stockstreamer: {exc}", file=sys.stderr)
        return 2
    from app.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    return int(args.command(settings, args) or 0)


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
    from db.migrate import upgrade

    upgrade(settings.database_url)
    print(f"database at {settings.safe_database_url()} is at the newest schema")
    return 0


def _prepare(settings: Settings):
    """Engine and sessions on a schema at head: SQLite is migrated, PostgreSQL is the operator's."""
    from db.engine import make_engine, make_session_factory
    from db.migrate import schema_problem, upgrade

    engine = make_engine(settings.database_url)
    if settings.is_sqlite:
        # The embedded default must work on a fresh machine with no operator step.
        upgrade(settings.database_url)
    sessions = make_session_factory(engine)
    problem = schema_problem(sessions)
    if problem is not None:
        print(f"stockstreamer: {problem}", file=sys.stderr)
        engine.dispose()
        return None
    return engine, sessions


def poll_command(settings: Settings, args: argparse.Namespace) -> int:
    """Poll once (printing the result), or as the elected poller until SIGINT/SIGTERM."""
    from jobs.election import build_election
    from jobs.scheduler import PollingService

    prepared = _prepare(settings)
    if prepared is None:
        return 1
    engine, sessions = prepared
    try:
        if not args.once:
            # The same lock as the web workers': however many run, one polls.
            return _run_until_signal(build_election(settings, sessions))
        service = PollingService(settings, sessions)
        try:
            service.poller.sync_watchlist()
            result = service.poller.poll_prices()
        finally:
            service.provider.close()
        print(json.dumps(result.report(), indent=2))
        return 1 if result.all_failed else 0
    finally:
        engine.dispose()


def run_command(settings: Settings, _args: argparse.Namespace) -> int:
    """Serve the dashboard and poll, in one process, until Ctrl-C."""
    from prometheus_client import CollectorRegistry

    from app.factory import create_app
    from jobs.election import build_election
    from jobs.metrics import PollerMetrics
    from jobs.providers.registry import market_hours

    prepared = _prepare(settings)
    if prepared is None:
        return 1
    engine, sessions = prepared
    try:
        registry = CollectorRegistry()
        election = build_election(settings, sessions, PollerMetrics(registry))
        app = create_app(settings, sessions, market_hours(settings), registry=registry)
        election.start()
        # The app and its imports live as long as the process: keep them out of the cyclic
        # GC's full passes, which otherwise cost ~80 ms on every few page loads.
        gc.collect()
        gc.freeze()
        print(
            f"stockstreamer: dashboard on http://{settings.host}:{settings.port}/ (Ctrl-C stops)",
            flush=True,
        )
        # SIGTERM (systemd, a container) stops it as cleanly as Ctrl-C does.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            app.run(host=settings.host, port=settings.port, debug=False)
        except KeyboardInterrupt:
            log.info("stopping")
        finally:
            election.stop()
        return 0
    finally:
        engine.dispose()


def _raise_keyboard_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _run_until_signal(election) -> int:
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
