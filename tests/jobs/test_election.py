"""The election: one leader among the campaigns; a leader that loses its lock to another stops
polling; one that loses it with the database polls on, holds its prices and writes them after."""

from __future__ import annotations

import itertools
import logging
import time

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from db.engine import make_engine, make_session_factory
from db.locks import AdvisoryLock, SQLiteFileLock
from db.migrate import upgrade
from db.models import PriceTick
from jobs.election import ElectedPoller, build_election
from jobs.scheduler import PollingService
from tests.db.helpers import count_ticks
from tests.jobs.helpers import settings, wait_for

WAIT = 10.0


def campaign(url, sessions, key: int) -> ElectedPoller:
    configured = settings(symbols="AAPL", price_interval=0.2, history_days=0)
    lock = AdvisoryLock(url, key=key) if url.startswith("postgresql") else SQLiteFileLock(url)
    return ElectedPoller(
        lock,
        lambda lock: PollingService(configured, sessions, fence=lock.fence),
        check_interval=0.1,
    )


def test_one_leader_and_a_takeover_when_its_lock_connection_dies(database_url_factory):
    url = database_url_factory("postgresql")
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    first, second = campaign(url, sessions, 777), campaign(url, sessions, 777)
    try:
        first.start()
        assert wait_for(lambda: first.is_leader, WAIT)
        second.start()
        time.sleep(0.5)
        assert first.is_leader and not second.is_leader
        # The leader's lock connection is cut (a network split, a restarted proxy):
        with engine.connect() as admin:
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND objid = 777"
                )
            )
            admin.commit()
        # Whoever takes the freed lock first polls: the old leader again, or the other one.
        # An old leader notices within a check interval (its writes are fenced meanwhile).
        assert wait_for(lambda: first.is_leader != second.is_leader, WAIT), "two leaders, or none"
        time.sleep(0.3)
        for _ in range(10):
            assert first.is_leader != second.is_leader, "two leaders, or none"
            time.sleep(0.05)
        with sessions() as session:
            before = count_ticks(session)
        assert wait_for(lambda: _ticks(sessions) > before, WAIT)  # the leader writes
    finally:
        first.stop()
        second.stop()
        engine.dispose()


def test_a_leader_cut_off_with_the_database_holds_its_prices_and_writes_them_after(
    database_url_factory, postgres_server
):
    url = database_url_factory("postgresql")
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    name = make_url(url).database
    leader = campaign(url, sessions, 778)
    try:
        leader.start()
        assert wait_for(lambda: leader.is_leader and _ticks(sessions) > 2, WAIT)
        with postgres_server.engine.connect() as admin:  # the database goes away for everyone
            admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            admin.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
        time.sleep(3.5)  # the simulated market moves each second: three prices or more
        assert leader.is_leader, "the leader stopped polling in the outage"
        service = leader._service
        assert service is not None and len(service.poller.outage) >= 3
        with postgres_server.engine.connect() as admin:
            admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert wait_for(lambda: len(service.poller.outage) == 0, WAIT), "held prices not written"
        with sessions() as session:
            times = session.scalars(
                select(PriceTick.observed_at).order_by(PriceTick.observed_at)
            ).all()
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        # A price a second throughout: none of the outage's seconds is missing.
        assert max(gaps) < 1.5, f"prices of the outage are missing: a gap of {max(gaps):.1f} s"
        assert leader.is_leader
    finally:
        leader.stop()
        with postgres_server.engine.connect() as admin:
            admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        engine.dispose()


def test_a_file_lock_election_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    configured = settings(database_url=url, symbols="AAPL", price_interval=0.2, history_days=0)
    first, second = build_election(configured, sessions), build_election(configured, sessions)
    try:
        first.start()
        second.start()
        assert wait_for(lambda: first.is_leader or second.is_leader, WAIT)
        time.sleep(0.5)
        assert first.is_leader != second.is_leader
        leader, other = (first, second) if first.is_leader else (second, first)
        leader.stop()  # a clean shutdown hands the lock over
        assert wait_for(lambda: other.is_leader, WAIT)
    finally:
        first.stop()
        second.stop()
        engine.dispose()


def _ticks(sessions) -> int:
    with sessions() as session:
        return count_ticks(session)


def test_a_database_that_fails_under_the_lock_is_one_warning_not_a_traceback_a_try(
    tmp_path, caplog
):
    unreachable = "postgresql+psycopg2://u:secret@127.0.0.1:1/x"
    engine = make_engine(unreachable)
    sessions = make_session_factory(engine)
    configured = settings(symbols="AAPL", price_interval=0.2, history_days=0)
    election = ElectedPoller(
        SQLiteFileLock(f"sqlite:///{tmp_path / 'x.db'}"),  # a lock that can be taken
        lambda lock: PollingService(configured, sessions, fence=lock.fence),
        check_interval=0.05,
    )
    caplog.set_level(logging.INFO, logger="jobs.election")
    try:
        election.start()
        time.sleep(1.5)  # some thirty tries
        assert not election.is_leader
    finally:
        election.stop()
        engine.dispose()
    assert [r.getMessage() for r in caplog.records] == [
        "poller election: the database failed (Connection refused)"
    ]
    assert all(record.exc_info is None for record in caplog.records)
