"""Alembic environment: a composition root that takes the URL from the app's settings."""

from __future__ import annotations

import sys
from logging.config import fileConfig

from alembic import context

from core.settings import SettingsError, load_settings
from db.engine import make_engine
from db.models import Base

MIGRATION_STATEMENT_TIMEOUT = 3600.0

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    """The URL handed in by a caller (tests, the CLI), else DATABASE_URL via the settings."""
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    try:
        return load_settings().database_url
    except SettingsError as exc:
        print(f"alembic: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`alembic upgrade head --sql`)."""
    context.configure(
        url=database_url(),
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against a live database, in one transaction where the database allows it."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # A migration may rewrite a large table: it gets an hour per statement, not the app's seconds.
    engine = make_engine(database_url(), statement_timeout=MIGRATION_STATEMENT_TIMEOUT)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    # Batch mode lets SQLite alter tables by copying them.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
