"""The composition root: one runtime from the settings, on real databases."""

from __future__ import annotations

import threading

import pytest

from app.runtime import build_runtime
from core.market import ALWAYS_OPEN, US_EQUITIES
from core.settings import load_settings
from db.migrate import SchemaNotCurrent, head_revision
from jobs.providers.registry import PROVIDERS
from tests.db.helpers import count_ticks, current_revision


def test_a_new_sqlite_file_is_migrated_and_polled_once(tmp_path):
    settings = load_settings(
        PROVIDERS, database_url=f"sqlite:///{tmp_path / 'new.db'}", symbols="AAPL,GE"
    )
    runtime = build_runtime(settings, require_schema=True)
    try:
        assert current_revision(runtime.engine) == head_revision()
        assert runtime.market == ALWAYS_OPEN
        assert runtime.registry is not None  # one process: its own registry
        before = set(threading.enumerate())
        result = runtime.polling_service().run_once()
        assert (result.written, result.failed, result.rejected) == (2, {}, {})
        assert {t for t in threading.enumerate() if t.is_alive()} - before == set()
        with runtime.sessions() as session:
            assert count_ticks(session) == 2
    finally:
        runtime.close()


def test_an_unmigrated_postgresql_database_is_refused_with_what_to_run(database_url_factory):
    settings = load_settings(PROVIDERS, database_url=database_url_factory("postgresql"))
    with pytest.raises(SchemaNotCurrent, match="alembic upgrade head"):
        build_runtime(settings, require_schema=True)
    runtime = build_runtime(settings)  # gunicorn: readiness reports it, the poller refuses
    try:
        assert current_revision(runtime.engine) is None
    finally:
        runtime.close()


def test_postgresql_keeps_as_many_connections_open_as_the_settings_say(database_url_factory):
    url = database_url_factory("postgresql")
    runtime = build_runtime(load_settings(PROVIDERS, database_url=url, db_pool_size=13))
    try:
        assert runtime.engine.pool.size() == 13  # type: ignore[attr-defined]
    finally:
        runtime.close()


def test_us_hours_and_the_multiprocess_metrics_directory_come_from_the_settings(tmp_path):
    settings = load_settings(
        PROVIDERS,
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        simulated_hours="us",
        prometheus_multiproc_dir=str(tmp_path),
    )
    runtime = build_runtime(settings)
    try:
        assert runtime.market == US_EQUITIES
        assert runtime.registry is None  # gunicorn: workers share files, summed by /metrics
    finally:
        runtime.close()
