"""`stockstreamer passwd USER`: asks for a password (twice) and prints the password file's line.

The line goes to stdout, to be appended to STOCKSTREAMER_AUTH_FILE
(`stockstreamer passwd alice | sudo tee -a /etc/stockstreamer/users`); the password
is never an argument (it would be in `ps` and the shell's history). Without a
terminal one line of stdin is the password, for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from app.passwords import password_line
from app.startup import EXIT_BAD_SETTING, say
from core.settings import Settings


def add_passwd_parser(commands: argparse._SubParsersAction) -> None:
    """The `passwd` command."""
    passwd = commands.add_parser("passwd", help="print a sign-in password file line for a user")
    passwd.add_argument("user", metavar="USER")
    passwd.set_defaults(command=passwd_command)


def _password() -> str | None:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        say("the two passwords differ; nothing printed")
        return None
    return first


def passwd_command(_settings: Settings, args: argparse.Namespace) -> int:
    """Print `USER:$argon2id$…`; status 2 for a bad name, an empty or mistyped password."""
    password = _password()
    if password is None:
        return EXIT_BAD_SETTING
    try:
        line = password_line(args.user, password)
    except ValueError as exc:
        say(str(exc))
        return EXIT_BAD_SETTING
    print(line, flush=True)
    return 0
