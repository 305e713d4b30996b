"""The alembic migrations from code: upgrade a database, and say when its schema is behind."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An alembic Config that needs no alembic.ini and ignores DATABASE_URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the database to a revision (head by default); SchemaNotCurrent if it cannot."""
    try:
        command.upgrade(alembic_config(database_url), revision)
    except CommandError as exc:
        # Most often a revision this code does not know: a newer release migrated it.
        raise SchemaNotCurrent(
            f"cannot upgrade the database schema: {exc}; "
            "was it migrated by a newer stockstreamer? run that release, or restore a backup"
        ) from exc


def head_revision() -> str | None:
    """The newest revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


class SchemaNotCurrent(Exception):
    """The database schema is not at the revision this code needs; the message says what to run."""


def require_current_schema(sessions: sessionmaker[Session]) -> None:
    """Raise SchemaNotCurrent, saying what to run, unless the schema is at head."""
    problem = schema_problem(sessions)
    if problem is not None:
        raise SchemaNotCurrent(problem)


def schema_problem(sessions: sessionmaker[Session]) -> str | None:
    """What an operator must do when the schema is not at head, or None when it is."""
    with sessions() as session:
        current = MigrationContext.configure(session.connection()).get_current_revision()
    head = head_revision()
    if current == head:
        return None
    return (
        f"the database schema is at revision {current or 'none'}, this code needs {head}: "
        "run `alembic upgrade head` (or `stockstreamer init-db`) first"
    )
