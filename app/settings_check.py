"""`python -m app.settings_check`: exit 2 with one line when the settings cannot work, else 0.

gunicorn.conf.py runs it from the master before any worker starts: a worker
that exits 2 is only respawned, so a bad setting must stop the master. It runs
as its own process so that the master imports none of the project's code (a
HUP then reloads all of it in the new workers).
"""

from __future__ import annotations

import sys

from app.passwords import PasswordFileError, read_passwords
from core.settings import SettingsError, load_settings
from db.reachability import sqlite_path_problem
from jobs.providers.registry import PROVIDERS

EXIT_BAD_SETTING = 2


def main(program: str = "gunicorn") -> int:
    """Check every setting, the SQLite file's place and the password file; one line, the first."""
    try:
        settings = load_settings(PROVIDERS)
    except SettingsError as exc:
        print(f"{program}: {exc}", file=sys.stderr, flush=True)
        return EXIT_BAD_SETTING
    problem = sqlite_path_problem(settings.database_url)
    if problem is not None:
        print(
            f"{program}: cannot use the database at "
            f"DATABASE_URL={settings.safe_database_url()}: {problem}",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_BAD_SETTING
    if settings.access.auth_file is not None:
        try:
            read_passwords(settings.access.auth_file)
        except PasswordFileError as exc:
            print(f"{program}: {exc}", file=sys.stderr, flush=True)
            return EXIT_BAD_SETTING
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
