"""Every engine bounds its waits: connect, statement and pool timeouts; a frozen server too."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from db.deadlines import database_deadline
from db.engine import make_engine
from db.locks import AdvisoryLock


def test_postgresql_connections_carry_the_timeouts_and_keepalives(postgres_server):
    engine = make_engine(postgres_server.admin_url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "10s"
            dsn = connection.connection.dbapi_connection.get_dsn_parameters()
        assert dsn["connect_timeout"] == "5"
        assert (dsn["keepalives"], dsn["keepalives_idle"], dsn["keepalives_count"]) == (
            "1",
            "5",
            "2",
        )
        assert engine.pool.timeout() == 5.0
    finally:
        engine.dispose()


def test_a_slow_statement_is_cancelled_by_the_server(postgres_server):
    url = postgres_server.admin_url.render_as_string(hide_password=False)
    engine = make_engine(url, statement_timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="statement timeout"), engine.connect() as c:
            c.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 2
        with engine.connect() as connection:  # the connection is still good
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "500ms"
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_a_checkout_waits_for_a_free_connection_only_the_pool_timeout(
    database_url_factory, backend
):
    engine = make_engine(
        database_url_factory(backend), pool_timeout=0.3, pool_size=1, max_overflow=0
    )
    try:
        with engine.connect():
            started = time.monotonic()
            with pytest.raises(PoolTimeout):
                engine.connect()
            assert 0.25 < time.monotonic() - started < 2
    finally:
        engine.dispose()


def test_sqlite_keeps_its_busy_timeout(database_url_factory):
    engine = make_engine(database_url_factory("sqlite"))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert engine.pool.timeout() == 5.0
    finally:
        engine.dispose()


def test_a_frozen_server_fails_reads_and_connects_within_their_deadlines(own_postgres):
    engine = make_engine(own_postgres.url, connect_timeout=2, statement_timeout=1)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        with own_postgres.frozen():
            for _ in range(2):  # a pooled connection (its ping), then a new one (its connect)
                started = time.monotonic()
                with pytest.raises(OperationalError, match="gave up"), engine.connect() as c:
                    c.execute(text("SELECT 1"))
                assert time.monotonic() - started < 5
        with engine.connect() as connection:  # back at once after the thaw
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_the_poller_lock_gives_up_on_a_frozen_server(own_postgres):
    lock = AdvisoryLock(own_postgres.url, key=4242, connect_timeout=2, statement_timeout=1)
    try:
        assert lock.try_acquire()
        with own_postgres.frozen():
            started = time.monotonic()
            assert not lock.still_held()
            assert time.monotonic() - started < 4
        assert lock.try_acquire()
    finally:
        lock.release()


def test_one_hung_read_makes_the_others_give_up_at_once(own_postgres):
    engine = make_engine(own_postgres.url, pool_size=3)
    outcomes: dict[str, tuple[float, str]] = {}

    def read(name: str, started: float) -> None:
        try:
            with database_deadline(4), engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            outcomes[name] = (time.monotonic() - started, "answered")
        except SQLAlchemyError as exc:
            outcomes[name] = (time.monotonic() - started, type(exc).__name__)

    try:
        for name in ("warm-1", "warm-2"):  # two pooled connections
            read(name, time.monotonic())
        with own_postgres.frozen():
            started = time.monotonic()
            first = threading.Thread(target=read, args=("first", started))
            first.start()
            time.sleep(0.3)
            read("second", time.monotonic())  # gives up once the first is suspect (1 s)
            read("third", time.monotonic())  # fails at once: no thread held
            first.join()
        assert outcomes["first"][0] > 3.5  # the one that tries waits its whole budget
        assert outcomes["second"][0] < 1.5 and outcomes["second"][1] == "OperationalError"
        assert outcomes["third"][0] < 0.05 and outcomes["third"][1] == "DatabaseNotAnswering"
        deadline = time.monotonic() + 6
        while outcomes.get("back", (0, ""))[1] != "answered":  # one try per budget: back soon
            assert time.monotonic() < deadline, outcomes
            read("back", time.monotonic())
            time.sleep(0.2)
    finally:
        engine.dispose()
