"""`stockstreamer watch list|add SYMBOL…|remove SYMBOL…`: the watchlist from the command line.

The same checks as the page's edits (jobs/watchlist_edits.py); each symbol gets one
line, a refused one on stderr, and any refusal makes the exit status 2. The command
line is the operator's: STOCKSTREAMER_WATCHLIST_EDITABLE governs the page only.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from app.startup import EXIT_BAD_SETTING, EXIT_NOT_READY, database_line, open_runtime, say
from core.settings import Settings
from db.reachability import failure_cause
from jobs.watchlist_edits import WatchlistEdits


def add_watch_parser(commands: argparse._SubParsersAction) -> None:
    """The `watch` command and its three actions."""
    watch = commands.add_parser("watch", help="list, add or remove the watched symbols")
    actions = watch.add_subparsers(required=True, metavar="ACTION", dest="action")
    actions.add_parser("list", help="the watched symbols, in the page's order")
    for action, what in (("add", "watch these symbols"), ("remove", "stop watching these")):
        parser = actions.add_parser(action, help=f"{what} (their prices are kept)")
        parser.add_argument("symbols", nargs="+", metavar="SYMBOL")
    watch.set_defaults(command=watch_command)


def watch_command(settings: Settings, args: argparse.Namespace) -> int:
    """List, add or remove; 2 when any symbol was refused, 1 when the database failed."""
    runtime = open_runtime(settings)
    if isinstance(runtime, int):
        return runtime
    try:
        # Building the provider connects to nothing: only an add asks it (and closes it after).
        edits = WatchlistEdits(settings, runtime.sessions, runtime.lookup_provider())
        if args.action == "list":
            for entry in edits.entries():
                added = entry.added_at.strftime("%Y-%m-%d %H:%M UTC")
                name = f"{entry.company_name} " if entry.company_name else ""
                print(f"{entry.symbol:<8} {name}(since {added})")
            return 0
        status = 0
        for symbol in args.symbols:
            result = edits.add(symbol) if args.action == "add" else edits.remove(symbol)
            print(result.message, file=sys.stdout if result.ok else sys.stderr, flush=True)
            status = status if result.ok else EXIT_BAD_SETTING
        return status
    except SQLAlchemyError as exc:
        say(database_line(settings, failure_cause(exc)))
        return EXIT_NOT_READY
    finally:
        runtime.close()
