"""The poller lock: one holder at a time, freed when its connection dies, and a working fence."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import create_engine, text

from db.engine import make_engine, make_session_factory
from db.locks import AdvisoryLock, NotLeader, SQLiteFileLock, poller_lock


@pytest.fixture
def pg_url(database_url_factory):
    return database_url_factory("postgresql")


def test_only_one_advisory_lock_holder_and_the_fence_follows_it(pg_url):
    first, second = AdvisoryLock(pg_url, key=4242), AdvisoryLock(pg_url, key=4242)
    engine = make_engine(pg_url)
    sessions = make_session_factory(engine)
    try:
        assert first.try_acquire() and first.still_held()
        assert not second.try_acquire()
        with sessions() as session:
            first.fence(session)  # holds: no exception
            with pytest.raises(NotLeader):
                second.fence(session)
        # The leader's lock connection dies (a crashed process, a lost host):
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first.pid})
            admin.commit()
        assert not first.still_held()
        with sessions() as session, pytest.raises(NotLeader):
            first.fence(session)
        assert second.try_acquire() and second.still_held()
        with sessions() as session:
            second.fence(session)
    finally:
        first.release()
        second.release()
        engine.dispose()


def test_release_frees_the_advisory_lock(pg_url):
    first, second = AdvisoryLock(pg_url, key=4343), AdvisoryLock(pg_url, key=4343)
    try:
        assert first.try_acquire()
        first.release()
        assert second.try_acquire()
    finally:
        second.release()


def test_the_advisory_lock_is_held_on_its_own_connection(pg_url):
    lock = AdvisoryLock(pg_url, key=4444)
    engine = create_engine(pg_url)
    try:
        assert lock.try_acquire()
        with engine.connect() as other:
            holders = (
                other.execute(
                    text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = 4444")
                )
                .scalars()
                .all()
            )
        assert holders == [lock.pid]
    finally:
        lock.release()
        engine.dispose()


def test_a_file_lock_excludes_another_process_and_dies_with_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from db.locks import SQLiteFileLock
            lock = SQLiteFileLock({url!r})
            assert lock.try_acquire()
            print("held", flush=True)
            time.sleep(60)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        mine = poller_lock(url)
        assert isinstance(mine, SQLiteFileLock)
        assert not mine.try_acquire()
        holder.kill()  # kill -9: the kernel frees the lock
        holder.wait(timeout=10)
        assert mine.try_acquire() and mine.still_held()
        mine.release()
        assert not mine.still_held()
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_an_unreachable_database_is_one_warning_not_one_per_try(caplog):
    lock = AdvisoryLock("postgresql+psycopg2://u:secret@127.0.0.1:1/x")
    caplog.set_level(logging.INFO, logger="db.locks")
    try:
        assert not any(lock.try_acquire() for _ in range(10))
    finally:
        lock.release()
    assert [r.getMessage() for r in caplog.records] == [
        "poller lock: cannot reach the database (Connection refused)"
    ]


def test_a_lock_file_that_cannot_be_made_is_one_line_until_it_can(tmp_path, caplog):
    (tmp_path / "later").write_text("")  # a file where the directory should be
    lock = SQLiteFileLock(f"sqlite:///{tmp_path}/later/x.db")
    caplog.set_level(logging.INFO, logger="db.locks")
    try:
        assert not any(lock.try_acquire() for _ in range(10))
        (tmp_path / "later").unlink()  # filelock makes the missing directory itself
        assert lock.try_acquire() and lock.still_held()
    finally:
        lock.release()
    assert [(r.levelname, r.getMessage().split(" (")[0]) for r in caplog.records] == [
        ("WARNING", f"poller lock: cannot create {tmp_path}/later/x.db.poller.lock"),
        ("INFO", f"poller lock: {tmp_path}/later/x.db.poller.lock can be created again"),
    ]
    assert all(record.exc_info is None for record in caplog.records)
