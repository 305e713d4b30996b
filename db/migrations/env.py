"""Alembic environment: a composition root that takes the URL from the app's settings."""

from __future__ import annotations

import sys
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.settings import Settings, SettingsError, load_settings
from db.engine import make_engine
from db.models import Base
from db.reachability import failure_cause

MIGRATION_STATEMENT_TIMEOUT = 3600.0
# Where `alembic` is meant to run from: the directory of alembic.ini, the repository root.
PROJECT_ROOT = Path(__file__).resolve().parents[2]

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def say(message: str) -> None:
    """One line on stderr, beside alembic's own."""
    print(f"alembic: {message}", file=sys.stderr, flush=True)


def database_url() -> str:
    """The URL handed in by a caller (tests, the CLI), else DATABASE_URL via the settings."""
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    try:
        settings = load_settings()
    except SettingsError as exc:
        say(str(exc))
        raise SystemExit(2) from None
    if "database_url" not in settings.model_fields_set:
        return default_sqlite_url(settings)
    say(f"database at DATABASE_URL={settings.safe_database_url()}")
    return settings.database_url


def default_sqlite_url(settings: Settings) -> str:
    """The default SQLite file, only from the project directory, and said so; else refuse."""
    # A relative SQLite path lands in the working directory: from anywhere else, an operator
    # who forgot DATABASE_URL would migrate (and create) a stray file and see success.
    relative = settings.database_url.removeprefix("sqlite:///")
    where = Path.cwd().resolve()
    if where != PROJECT_ROOT:
        say(
            f"DATABASE_URL is not set: refusing to migrate the default SQLite file "
            f"{where / relative} outside the project directory {PROJECT_ROOT}; "
            "set DATABASE_URL (or run from the project directory to use its default file)"
        )
        raise SystemExit(2)
    say(f"DATABASE_URL is not set: database at the default SQLite file {where / relative}")
    return settings.database_url


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
    url = database_url()
    # A migration may rewrite a large table: it gets an hour per statement, not the app's seconds.
    engine = make_engine(url, statement_timeout=MIGRATION_STATEMENT_TIMEOUT)
    try:
        with engine.connect() as connection:
            _run(connection)
    except DBAPIError as exc:
        if config.attributes.get("database_url"):
            raise  # a caller in code says it its own way (app/startup.py)
        say(f"stopped: {_cause(exc)}")
        raise SystemExit(1) from None
    finally:
        engine.dispose()


def _cause(exc: DBAPIError) -> str:
    cause = failure_cause(exc)
    if "permission denied" in cause or "must be owner" in cause:
        return f"{cause} (migrate as the role that owns the schema: see docs/deploy-ec2.md)"
    return cause


def _run(connection) -> None:
    # Batch mode lets SQLite alter tables by copying them.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "postgresql":
            _only_the_owner_writes_the_version(connection)


# Every role but the owner granted a write on alembic_version, as quoted names (0: PUBLIC).
# The default privileges of docs/grants.sql give the runtime role the rows of every table the
# migration role makes, this one's too: it could then mark as current a schema that is not.
_VERSION_WRITERS = text(
    """
    SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC'
                         ELSE quote_ident(pg_get_userbyid(acl.grantee)) END
    FROM pg_class AS c, aclexplode(c.relacl) AS acl
    WHERE c.oid = to_regclass('alembic_version') AND acl.grantee <> c.relowner
      AND acl.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
    """
)


def _only_the_owner_writes_the_version(connection) -> None:
    """The runtime role reads alembic_version (the poller checks it); only its owner writes."""
    for grantee in connection.execute(_VERSION_WRITERS).scalars():
        connection.execute(
            text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {grantee}")
        )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
