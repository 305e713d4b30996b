"""Migrations up and down on PostgreSQL and SQLite, through the API and the alembic command."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Engine, inspect

from core.records import Quote
from db.engine import make_engine, make_session_factory, unit_of_work
from db.migrate import head_revision, upgrade
from db.models import Base
from db.watchlist import sync_watchlist, watched_symbols
from db.writes import mark_history, record_previous_closes, write_quotes
from tests.db.helpers import (
    count_ticks,
    current_revision,
    downgrade,
    get_stock,
    operator_alembic,
    stored_rows,
)

T0 = datetime(2026, 11, 27, 15, tzinfo=timezone.utc)
BAR_ORDER = "symbol, width, start"
HEAD = "0008"


@pytest.fixture
def migrated(database_url_factory, backend) -> Iterator[tuple[str, Engine]]:
    """A new database of the backend upgraded to head, and an engine on it."""
    url = database_url_factory(backend)
    upgrade(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


TABLES = {"stocks", "price_ticks", "price_bars"}


def test_upgrade_creates_what_the_models_describe_and_downgrade_removes_it(migrated):
    url, engine = migrated
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) >= TABLES
    for table in Base.metadata.sorted_tables:
        stored = {c["name"] for c in inspector.get_columns(table.name)}
        assert stored == {c.name for c in table.columns}, table.name
        assert inspector.get_pk_constraint(table.name)["constrained_columns"] == [
            c.name for c in table.primary_key.columns
        ]
    assert current_revision(engine) == head_revision() == HEAD
    downgrade(url, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    assert current_revision(engine) is None
    upgrade(url)  # and back up again on the same database
    assert current_revision(engine) == head_revision()


def test_models_and_migrations_agree(migrated):
    """Autogenerate against a migrated database finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    _, engine = migrated
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_the_alembic_command_works_from_the_root_with_only_database_url(
    database_url_factory, backend, project_root
):
    url = database_url_factory(backend)
    alembic = operator_alembic(url, project_root)

    alembic("upgrade", "head")
    assert f"{HEAD} (head)" in alembic("current")
    alembic("downgrade", "base")
    assert HEAD not in alembic("current")
    alembic("upgrade", "head")
    assert f"{HEAD} (head)" in alembic("current")


def write_history(sessions) -> None:
    """Several symbols over several minutes, written by the app out of order, with repeats."""
    ticks = [
        Quote(s, Decimal(f"{10 + k % 7}.{k:02d}"), T0 + timedelta(seconds=k * 13), s == "GE")
        for s in ("AAPL", "GE", "NVDA")
        for k in range(40)
    ]
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "GE", "NVDA"])
    for part in (ticks[60:], ticks[:50][::-1], ticks[30:90]):
        with unit_of_work(sessions) as session:
            write_quotes(session, part, T0)


def test_downgrade_one_step_and_up_again_keeps_the_data(database_url_factory, project_root):
    """What an operator's rollback does: `alembic downgrade -1`, then `upgrade head`."""
    url = database_url_factory("postgresql")
    alembic = operator_alembic(url, project_root)

    alembic("upgrade", "head")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        quotes = [
            Quote(s, Decimal(p), T0 + timedelta(seconds=k * 61))
            for s, p in (("AAPL", "1.5"), ("GE", "2"))
            for k in range(3)
        ]
        with unit_of_work(sessions) as session:
            sync_watchlist(session, ["AAPL", "GE"])
            write_quotes(session, quotes, T0)
        with sessions() as session:
            bars_before = stored_rows(session, "price_bars", BAR_ORDER)
        # Per stock: three minutes, one 5-minute, one hourly and one daily bar.
        assert [r[1] for r in bars_before] == [60, 60, 60, 300, 3600, 86400] * 2
        assert f"0007 -> {HEAD} (head)" in alembic("history")
        alembic("downgrade", "-1")
        assert alembic("current").strip().startswith("0007")
        alembic("downgrade", "-1")
        assert alembic("current").strip().startswith("0006")
        assert "watchlist" not in inspect(engine).get_table_names()
        alembic("downgrade", "-1")
        assert alembic("current").strip().startswith("0005")
        with sessions() as session:
            assert stored_rows(session, "price_bars", BAR_ORDER) == [
                r for r in bars_before if r[1] != 86400
            ]
        assert "0004 -> 0005" in alembic("history")
        alembic("downgrade", "-1")
        assert alembic("current").strip().startswith("0004")
        assert "previous_close" not in {c["name"] for c in inspect(engine).get_columns("stocks")}
        alembic("downgrade", "-1")
        assert alembic("current").strip().startswith("0003")
        assert "price_minutes" in inspect(engine).get_table_names()
        alembic("downgrade", "-1")
        assert alembic("current").strip().startswith("0002")
        assert "price_bars" not in inspect(engine).get_table_names()
        with sessions() as session:
            assert count_ticks(session) == 6  # revision 0002 keeps every price and minute
        alembic("upgrade", "head")
        assert f"{HEAD} (head)" in alembic("current")
        with sessions() as session:
            assert count_ticks(session) == 6
            # Rebuilt from the minutes by 0003, the minutes moved back by 0004, the days
            # folded from the hours by 0006: exactly.
            assert stored_rows(session, "price_bars", BAR_ORDER) == bars_before
    finally:
        engine.dispose()


def test_0004_moves_the_minutes_into_the_bars_and_back_row_for_row(migrated):
    url, engine = migrated
    sessions = make_session_factory(engine)
    write_history(sessions)
    with sessions() as session:
        before = stored_rows(session, "price_bars", BAR_ORDER)
    minutes_before = [r for r in before if r[1] == 60]
    assert len({r[0] for r in minutes_before}) == 3 and len(minutes_before) >= 3 * 8

    downgrade(url, "0003")
    assert current_revision(engine) == "0003"
    with sessions() as session:
        minutes = stored_rows(session, "price_minutes", "symbol, minute")
        bars = stored_rows(session, "price_bars", BAR_ORDER)
    # Every column of every row, as stored (SQLite: the same time text).
    assert [(r[0], 60, *r[1:]) for r in minutes] == minutes_before
    assert bars == [r for r in before if r[1] not in (60, 86400)]  # 0006 took the days away

    upgrade(url)
    assert current_revision(engine) == head_revision()
    assert "price_minutes" not in inspect(engine).get_table_names()
    with sessions() as session:
        assert stored_rows(session, "price_bars", BAR_ORDER) == before
    # The moved keys are the app's own: a late tick merges into its stored minute.
    first = minutes_before[0]
    with unit_of_work(sessions) as session:
        write_quotes(session, [Quote(first[0], Decimal("99"), T0 + timedelta(seconds=1))], T0)
    with sessions() as session:
        after = stored_rows(session, "price_bars", BAR_ORDER)
    assert len(after) == len(before)
    assert after[0][:3] == first[:3] and after[0][9] == first[9] + 1


def stock_columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("stocks")}


def test_0005_adds_the_previous_close_and_its_time_and_drops_them_again(migrated):
    url, engine = migrated
    sessions = make_session_factory(engine)
    write_history(sessions)
    with unit_of_work(sessions) as session:
        quote = Quote("AAPL", Decimal("11.25"), T0, previous_close=Decimal("10.5"))
        assert record_previous_closes(session, [quote]) == 1
    with sessions() as session:
        apple = get_stock(session, "AAPL")
        assert (apple.previous_close, apple.previous_close_at) == (Decimal("10.5"), T0)
        ticks, bars = count_ticks(session), stored_rows(session, "price_bars", BAR_ORDER)

    downgrade(url, "0004")
    assert current_revision(engine) == "0004"
    assert not {"previous_close", "previous_close_at"} & stock_columns(engine)
    with sessions() as session:  # the prices stay (the daily bars went with 0006)
        assert count_ticks(session) == ticks
        assert stored_rows(session, "price_bars", BAR_ORDER) == [r for r in bars if r[1] != 86400]

    upgrade(url)
    assert {"previous_close", "previous_close_at"} <= stock_columns(engine)
    with sessions() as session:
        apple = get_stock(session, "AAPL")
        assert (apple.previous_close, apple.previous_close_at) == (None, None)
        assert "AAPL" in watched_symbols(session) and count_ticks(session) == ticks


def test_0008_adds_the_history_bars_mark_and_drops_it_keeping_every_price(migrated):
    url, engine = migrated
    sessions = make_session_factory(engine)
    write_history(sessions)
    with unit_of_work(sessions) as session:
        mark_history(session, "AAPL", T0, 60)
    with sessions() as session:
        apple = get_stock(session, "AAPL")
        assert (apple.history_bar_seconds, apple.history_at) == (60, T0)
        ticks, bars = count_ticks(session), stored_rows(session, "price_bars", BAR_ORDER)

    downgrade(url, "0007")
    assert not {"history_bar_seconds", "history_at"} & stock_columns(engine)
    with sessions() as session:  # no cascade from a rebuilt stocks table
        assert count_ticks(session) == ticks
        assert stored_rows(session, "price_bars", BAR_ORDER) == bars

    upgrade(url)
    with sessions() as session:
        apple = get_stock(session, "AAPL")
        assert (apple.history_bar_seconds, apple.history_at) == (None, None)
        assert count_ticks(session) == ticks


def test_0006_builds_daily_bars_from_the_hours_as_the_ticks_give_them_and_removes_them(migrated):
    url, engine = migrated
    sessions = make_session_factory(engine)
    # Four New York days around the end of summer time (2026-11-01), a tick every 37 min.
    start = datetime(2026, 10, 30, 2, 11, tzinfo=timezone.utc)
    ticks = [
        Quote(s, Decimal(f"{20 + (k * 7) % 13}.{k % 100:02d}"), start + timedelta(minutes=37 * k))
        for s in ("AAPL", "GE")
        for k in range(4 * 24 * 60 // 37)
    ]
    with unit_of_work(sessions) as session:
        sync_watchlist(session, ["AAPL", "GE"])
    for part in (ticks[::2], ticks[1::2]):  # out of order
        with unit_of_work(sessions) as session:
            write_quotes(session, part, start)
    with sessions() as session:
        before = stored_rows(session, "price_bars", BAR_ORDER)
    days = [r for r in before if r[1] == 86400]
    assert len(days) == 2 * 5  # 4 days from 22:11 New York: 5 New York dates per stock

    downgrade(url, "0005")
    with sessions() as session:
        assert stored_rows(session, "price_bars", BAR_ORDER) == [r for r in before if r[1] != 86400]
    upgrade(url)
    with sessions() as session:  # every column as the tick writes stored it
        assert stored_rows(session, "price_bars", BAR_ORDER) == before
