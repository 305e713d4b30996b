"""Whether a database can be used, its failures in a few words, and an outage said once."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from db.reachability import OutageLog, failure_cause, is_lasting, sqlite_path_problem


def test_a_usable_sqlite_path_has_no_problem_and_the_probe_leaves_nothing(tmp_path):
    assert sqlite_path_problem(f"sqlite:///{tmp_path / 'new.db'}") is None
    (tmp_path / "old.db").write_bytes(b"")
    assert sqlite_path_problem(f"sqlite:///{tmp_path / 'old.db'}") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.db"]
    assert sqlite_path_problem("sqlite://") is None  # in memory
    assert sqlite_path_problem("postgresql+psycopg2://u:p@127.0.0.1:1/x") is None


def test_an_unusable_sqlite_path_says_why(tmp_path):
    (tmp_path / "file").write_text("")
    (tmp_path / "dir.db").mkdir()
    assert sqlite_path_problem(f"sqlite:///{tmp_path}/missing/x.db") == (
        f"the directory {tmp_path}/missing does not exist"
    )
    assert sqlite_path_problem(f"sqlite:///{tmp_path}/file/x.db") == (
        f"{tmp_path}/file is not a directory"
    )
    assert sqlite_path_problem(f"sqlite:///{tmp_path}/dir.db") == f"{tmp_path}/dir.db is not a file"
    assert (
        sqlite_path_problem("sqlite:////sys/x.db")
        == "/sys/x.db is not writable (Permission denied)"
    )


def _failure(url: str) -> DBAPIError:
    engine = create_engine(url)
    try:
        with pytest.raises(DBAPIError) as caught, engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    return caught.value


def test_a_database_failure_in_a_few_words(database_url_factory, tmp_path):
    refused = _failure("postgresql+psycopg2://u:secret@127.0.0.1:1/x")
    assert failure_cause(refused) == "Connection refused"
    assert not is_lasting("postgresql+psycopg2://u:secret@127.0.0.1:1/x", refused)
    missing = database_url_factory("postgresql").rsplit("/", 1)[0] + "/no_such_database_here"
    assert failure_cause(_failure(missing)) == 'database "no_such_database_here" does not exist'
    wrong_password = make_url(missing).set(password="not-the-password", database="postgres")
    assert failure_cause(_failure(wrong_password.render_as_string(hide_password=False))) == (
        f'password authentication failed for user "{wrong_password.username}"'
    )
    sqlite = f"sqlite:///{tmp_path}/missing/x.db"
    unopenable = _failure(sqlite)
    assert failure_cause(unopenable) == "unable to open database file"
    assert is_lasting(sqlite, unopenable)


def test_an_outage_is_said_when_it_starts_changes_and_ends_with_a_reminder_between(caplog):
    now = [0.0]
    outage = OutageLog(logging.getLogger("test.outage"), remind=60, clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="test.outage")
    outage.recovered("back")  # no outage: nothing
    for second in range(0, 150):  # a try every half second for 75 s
        now[0] = second / 2
        outage.failed("cannot reach the database (Connection refused)")
    now[0] = 80
    outage.failed("cannot reach the database (timeout expired)")
    outage.failed("cannot reach the database (timeout expired)")
    assert outage.failing
    now[0] = 90
    outage.recovered("back")
    outage.recovered("back")
    assert not outage.failing
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "cannot reach the database (Connection refused)"),
        ("WARNING", "cannot reach the database (Connection refused) (for 60 s)"),
        ("WARNING", "cannot reach the database (timeout expired)"),
        ("INFO", "back (after 90 s)"),
    ]
    assert all(record.exc_info is None for record in caplog.records)
