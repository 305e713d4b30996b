"""Migrations up and down on PostgreSQL and SQLite, through the API and the alembic command."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import inspect

from db.engine import make_engine
from db.migrate import current_revision, downgrade, head_revision, upgrade
from db.models import Base


def operator_alembic(url: str, root):
    """`alembic …` run as an operator would: from the repository root, only DATABASE_URL set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOCKSTREAMER_")}
    env["DATABASE_URL"] = url

    def alembic(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "alembic", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=root,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return alembic


TABLES = {"stocks", "price_ticks", "price_minutes", "price_bars"}


def test_upgrade_creates_what_the_models_describe_and_downgrade_removes_it(
    database_url_factory, backend
):
    url = database_url_factory(backend)
    upgrade(url)
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) >= TABLES
        for table in Base.metadata.sorted_tables:
            stored = {c["name"] for c in inspector.get_columns(table.name)}
            assert stored == {c.name for c in table.columns}, table.name
            assert inspector.get_pk_constraint(table.name)["constrained_columns"] == [
                c.name for c in table.primary_key.columns
            ]
        assert current_revision(engine) == head_revision() == "0003"
        downgrade(url, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        assert current_revision(engine) is None
        upgrade(url)  # and back up again on the same database
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_models_and_migrations_agree(database_url_factory, backend):
    """Autogenerate against a migrated database finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = database_url_factory(backend)
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_the_alembic_command_works_from_the_root_with_only_database_url(
    database_url_factory, backend, project_root
):
    url = database_url_factory(backend)
    alembic = operator_alembic(url, project_root)

    alembic("upgrade", "head")
    assert "0003 (head)" in alembic("current")
    alembic("downgrade", "base")
    assert "0003" not in alembic("current")
    alembic("upgrade", "head")
    assert "0003 (head)" in alembic("current")


def test_downgrade_one_step_and_up_again_keeps_the_data(database_url_factory, project_root):
    """What an operator's rollback does: `alembic downgrade -1`, then `upgrade head`."""
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal

    from core.records import Quote
    from db.engine import make_session_factory, unit_of_work
    from db.queries import count_ticks
    from db.writes import sync_watchlist, write_quotes

    url = database_url_factory("postgresql")
    alembic = operator_alembic(url, project_root)

    alembic("upgrade", "head")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    at = datetime(2026, 11, 27, 15, tzinfo=timezone.utc)
    try:
        quotes = [
            Quote(s, Decimal(p), at + timedelta(seconds=k * 61))
            for s, p in (("AAPL", "1.5"), ("GE", "2"))
            for k in range(3)
        ]
        with unit_of_work(sessions) as session:
            sync_watchlist(session, ["AAPL", "GE"])
            write_quotes(session, quotes, at)
        bars_before = _bars(sessions)
        assert len(bars_before) == 2 * 2  # one 5-minute and one hourly bar per stock
        assert "0002 -> 0003 (head)" in alembic("history")
        alembic("downgrade", "-1")
        assert alembic("current").strip().startswith("0002")
        assert "price_bars" not in inspect(engine).get_table_names()
        with sessions() as session:
            assert count_ticks(session) == 6  # revision 0002 keeps every price and minute
        alembic("upgrade", "head")
        assert "0003 (head)" in alembic("current")
        with sessions() as session:
            assert count_ticks(session) == 6
        assert _bars(sessions) == bars_before  # rebuilt from the minutes, exactly
    finally:
        engine.dispose()


def _bars(sessions) -> list[tuple]:
    from sqlalchemy import select

    from db.models import PriceBar

    with sessions() as session:
        rows = session.scalars(select(PriceBar).order_by(PriceBar.symbol, PriceBar.width)).all()
        return [
            (
                b.symbol,
                b.width,
                b.start,
                b.open,
                b.high,
                b.low,
                b.close,
                b.open_at,
                b.close_at,
                b.tick_count,
            )
            for b in rows
        ]
