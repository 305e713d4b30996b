"""`stockstreamer watch list|add|remove`, run as a real process against both databases."""

from __future__ import annotations

import socket

from db.engine import make_engine, make_session_factory
from db.watchlist import watched_symbols
from tests.app.test_cli import cli_env, stockstreamer


def watched(url: str) -> list[str]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        symbols = watched_symbols(session)
    engine.dispose()
    return symbols


def test_watch_lists_adds_and_removes_with_one_line_each(database_url_factory, backend, tmp_path):
    url = database_url_factory(backend)
    env = cli_env(url)  # STOCKSTREAMER_SYMBOLS=AAPL,GE
    assert stockstreamer("init-db", env=env, cwd=tmp_path).returncode == 0

    listed = stockstreamer("watch", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["AAPL", "GE"]

    added = stockstreamer("watch", "add", "msft", " nvda ", env=env, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines() == ["Added MSFT", "Added NVDA"]

    removed = stockstreamer("watch", "remove", "GE", env=env, cwd=tmp_path)
    assert (removed.returncode, removed.stdout) == (0, "Removed GE; its prices are kept\n")
    assert watched(url) == ["AAPL", "MSFT", "NVDA"]

    # A refused input: one line each on stderr, status 2, the others still done.
    refused = stockstreamer("watch", "add", "ZZZZ", "a$b", "AAPL", "ge", env=env, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stdout == "Added GE\n"
    assert refused.stderr.splitlines() == [
        "ZZZZ: simulated knows no such symbol",
        '"A$B" is not a ticker symbol: up to 7 letters or digits starting with a letter, '
        "with an optional class such as BRK.B",
        "AAPL is already on the watchlist",
    ]
    gone = stockstreamer("watch", "remove", "TSLA", env=env, cwd=tmp_path)
    assert (gone.returncode, gone.stderr) == (2, "TSLA is not on the watchlist\n")
    assert watched(url) == ["AAPL", "GE", "MSFT", "NVDA"]  # GE back in its place


def test_the_settings_seed_a_new_database_only(database_url_factory, tmp_path):
    url = database_url_factory("sqlite")
    first = stockstreamer("watch", "list", env=cli_env(url), cwd=tmp_path)  # migrates, seeds
    assert first.returncode == 0, first.stderr
    other = {**cli_env(url), "STOCKSTREAMER_SYMBOLS": "NVDA,TSLA"}
    again = stockstreamer("watch", "list", env=other, cwd=tmp_path)
    assert [line.split()[0] for line in again.stdout.splitlines()] == ["AAPL", "GE"]
    full = stockstreamer(
        "watch", "add", "MSFT", env={**other, "STOCKSTREAMER_MAX_SYMBOLS": "2"}, cwd=tmp_path
    )
    assert (full.returncode, full.stderr) == (
        2,
        "MSFT: the watchlist is full (2 of 2 symbols, STOCKSTREAMER_MAX_SYMBOLS); "
        "remove one first\n",
    )


def test_watch_without_a_database_is_one_line_and_status_1(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://stockstreamer:stockstreamer@127.0.0.1:{port}/nowhere"
    done = stockstreamer("watch", "add", "MSFT", env=cli_env(url), cwd=tmp_path)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and "DATABASE_URL=" in done.stderr
    assert "Traceback" not in done.stderr
