"""The election: one leader among the campaigns; a leader that loses its lock stops polling."""

from __future__ import annotations

import time

from sqlalchemy import text

from db.engine import make_engine, make_session_factory
from db.locks import AdvisoryLock, SQLiteFileLock
from db.migrate import upgrade
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
        assert wait_for(lambda: not first.is_leader, WAIT), "a leader without its lock kept polling"
        assert wait_for(lambda: second.is_leader, WAIT), "nobody took over"
        with sessions() as session:
            before = count_ticks(session)
        assert wait_for(lambda: _ticks(sessions) > before, WAIT)  # the new leader writes
    finally:
        first.stop()
        second.stop()
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
