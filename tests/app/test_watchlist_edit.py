"""The page's watchlist edits on the server: refused when editing is off, whatever the page sent."""

from __future__ import annotations

from app.runtime import build_runtime
from app.watchlist_edit import WatchlistEditor, edit
from core.times import utc_now
from db.chart import chart_stocks
from db.engine import unit_of_work
from db.migrate import upgrade
from db.watchlist import seed_watchlist, watched_symbols
from jobs.providers.simulated import SimulatedMarket
from tests.db.helpers import stored_rows
from tests.jobs.helpers import settings


def seeded(sessions, configured) -> None:
    with unit_of_work(sessions) as session:
        seed_watchlist(session, configured.symbols, utc_now())


def test_an_edit_is_refused_when_editing_is_off_and_nothing_is_written(sessions):
    configured = settings(symbols="AAPL,GE", watchlist_editable="false")
    seeded(sessions, configured)
    built = []
    editor = WatchlistEditor(configured, sessions, lambda: built.append(1) or SimulatedMarket())
    assert not editor.editable
    with sessions() as session:
        before = stored_rows(session, "watchlist", "symbol")
    for action, symbol in (("add", "MSFT"), ("remove", "GE"), ("undo", "GE")):
        result = editor.edit(action, symbol)
        assert (result.ok, result.reason) == (False, "not_editable")
        assert result.message == (
            "The watchlist cannot be edited here (STOCKSTREAMER_WATCHLIST_EDITABLE is off)"
        )
    with sessions() as session:
        assert stored_rows(session, "watchlist", "symbol") == before
    assert built == []  # no provider was even built
    refused = edit(configured, sessions, SimulatedMarket(), "add", "MSFT")
    assert refused.reason == "not_editable"


def test_an_editable_page_adds_removes_and_undoes(sessions):
    configured = settings(symbols="AAPL,GE")
    editor = WatchlistEditor(configured, sessions, SimulatedMarket)
    assert editor.editable  # the default
    assert editor.edit("add", "msft").message == "Added MSFT"
    assert editor.edit("remove", "GE").ok
    assert editor.edit("undo", "GE").ok
    assert editor.edit("rename", "GE").reason == "action"
    assert editor.edit("add", "ZZZZ").message == "ZZZZ: simulated knows no such symbol"
    with sessions() as session:
        assert watched_symbols(session) == ["AAPL", "GE", "MSFT"]


def test_a_worker_builds_its_lookups_provider_once_from_the_settings(tmp_path):
    configured = settings(database_url=f"sqlite:///{tmp_path / 'w.sqlite'}", symbols="AAPL")
    runtime = build_runtime(configured, require_schema=True)
    try:
        editor = runtime.watchlist_editor()
        assert editor.edit("add", "NVDA").ok
        assert runtime.lookup_provider() is runtime.lookup_provider()
        assert runtime.lookup_provider().name == "simulated"
    finally:
        runtime.close()


def test_an_edit_in_one_worker_is_what_every_other_reads(database_url_factory, backend):
    url = database_url_factory(backend)
    upgrade(url)
    configured = settings(database_url=url, symbols="AAPL,GE")
    one, other = build_runtime(configured), build_runtime(configured)  # two pools, two workers
    try:
        assert one.watchlist_editor().edit("add", "MSFT").ok
        with other.sessions() as session:
            assert [s.symbol for s in chart_stocks(session)] == ["AAPL", "GE", "MSFT"]
        assert other.watchlist_editor().edit("remove", "AAPL").ok
        assert (
            one.watchlist_editor().edit("add", "msft").message == "MSFT is already on the watchlist"
        )
        with one.sessions() as session:
            assert [s.symbol for s in chart_stocks(session)] == ["GE", "MSFT"]
    finally:
        one.close()
        other.close()
