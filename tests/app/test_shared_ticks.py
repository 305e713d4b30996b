"""Viewers sharing tick reads never miss or repeat a point, across workers, on both databases.

Two workers (two Pages, each with its own SharedReads on the same database)
answer viewers that loaded at different moments and tick at different moments,
each tick to either worker, while the poller writes new prices. What each viewer
received, in order, must be exactly the rows stored after its first load.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.page_state import PageState
from app.page_updates import Page
from app.tick_cache import SharedReads
from core.market import ALWAYS_OPEN
from core.records import Quote
from core.times import to_exchange_ms, to_ms, utc_now
from db.engine import unit_of_work
from db.models import PriceTick
from db.writes import write_quotes
from tests.app.page_helpers import NOW, SYMBOLS, ManualClock, ops, seed

WEEK = timedelta(days=7)
TTL = 2.5  # half the page's 5 s refresh, as the factory sets it


@dataclass
class Viewer:
    """A browser tab: its URL, its state, and every x it was sent for each stock, in order."""

    search: str
    state: PageState = field(default_factory=PageState)
    first_ms: dict[str, int] = field(default_factory=dict)
    got: dict[str, list[int]] = field(default_factory=dict)

    def load(self, page: Page) -> None:
        self.state = page.load(self.search, None).state
        self.first_ms = dict(self.state.last_ms)

    def tick(self, page: Page) -> None:
        update = page.tick(self.state, self.search, None)
        assert update.query is None, "a tick drew the whole view again"
        shown = sorted(self.state.last_ms)
        for location, (operation, value) in ops(update.figure).items():
            if location[0] == "data" and location[2] == "x":
                assert operation == "Extend"
                self.got.setdefault(shown[location[1]], []).extend(value)
        self.state = update.state


def stored(sessions, symbol: str, after_ms: int) -> list[int]:
    """The stock's stored times after `after_ms`, as the page's x values."""
    with sessions() as session:
        times = session.scalars(
            select(PriceTick.observed_at)
            .where(PriceTick.symbol == symbol)
            .order_by(PriceTick.observed_at)
        )
        return to_exchange_ms([ms for ms in map(to_ms, times) if ms > after_ms])


def write(sessions, at, prices: dict[str, str]) -> None:
    """One poll: a price per stock observed at `at`."""
    with unit_of_work(sessions) as session:
        quotes = [Quote(s, Decimal(p), at, True) for s, p in prices.items()]
        write_quotes(session, quotes, at)


def test_viewers_started_apart_and_ticking_apart_get_every_point_once(sessions):
    seed(sessions, NOW - timedelta(hours=2), NOW)
    clock = ManualClock()
    seconds = lambda: (clock.now - NOW).total_seconds()  # the caches. clock
    workers = [
        Page(sessions, clock, ALWAYS_OPEN, WEEK, 5, 5, SharedReads(TTL, clock=seconds))
        for _ in range(2)
    ]
    # (search, second it loads): the last two load right after the first, a price written
    # between, and share its view; the rest load apart.
    plan = [("", 1), ("?view=price", 5), ("?hide=GE", 9), ("", 13), ("?range=1H", 17), ("", 21)]
    plan += [("", 2), ("", 3)]
    viewers = [Viewer(q) for q, _ in plan]
    pick = random.Random(10)
    ticks = 0
    for t in range(0, 75):
        clock.now = NOW + timedelta(seconds=t)
        if t % 5 == 2 and t < 60:  # AAPL polls, observed a little before it is written
            write(sessions, clock.now - timedelta(milliseconds=317), {"AAPL": f"{120 + t / 10}"})
        if t % 5 == 4 and t < 60 and t % 15:  # GE polls, and misses one poll in three
            write(sessions, clock.now - timedelta(milliseconds=41), {"GE": f"{150 - t / 10}"})
        for viewer, (_, start) in zip(viewers, plan, strict=True):
            if t == start:
                viewer.load(workers[0])
            elif t > start and (t - start) % 5 == 0:
                viewer.tick(pick.choice(workers))
                ticks += 1
    assert viewers[6].first_ms == viewers[0].first_ms == viewers[7].first_ms  # one shared view
    assert viewers[6].first_ms["AAPL"] < to_ms(NOW + timedelta(seconds=2))  # from before t=2
    reads = sum(w.shared.reads for w in workers)
    assert reads < 3 * ticks, "the workers read once per tick: nothing was shared"
    for viewer in viewers:
        newest = {s: stored(sessions, s, 0)[-1] for s in viewer.first_ms}
        assert to_exchange_ms(list(viewer.state.last_ms.values())) == list(newest.values())
        for symbol, first in viewer.first_ms.items():
            expected = stored(sessions, symbol, first)
            assert expected, "the test wrote nothing this viewer could receive"
            assert viewer.got.get(symbol, []) == expected, (viewer.search, symbol)


def test_threads_ticking_while_the_poller_writes_get_every_point_once(sessions):
    start = utc_now()
    seed(sessions, start - timedelta(hours=1), start)
    workers = [
        Page(sessions, utc_now, ALWAYS_OPEN, WEEK, 0.1, 0.1, SharedReads(0.05)) for _ in range(2)
    ]
    viewers = [Viewer(["", "?view=price", "?hide=AAPL"][v % 3]) for v in range(9)]
    stop = threading.Event()
    failures: list[BaseException] = []

    def poller() -> None:
        for i in range(40):
            write(sessions, utc_now(), {s: f"{100 + i + k}" for k, s in enumerate(SYMBOLS)})
            time.sleep(0.02)
        stop.set()

    def browse(v: int, viewer: Viewer) -> None:
        try:
            time.sleep(0.03 * v)  # loaded at different moments
            viewer.load(workers[v % 2])
            n = v
            while not stop.is_set():
                viewer.tick(workers[n % 2])
                n += 1
                time.sleep(0.005 * (v % 4))
            time.sleep(0.1)  # past every TTL: the last tick reads what was written last
            viewer.tick(workers[0])
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=poller)] + [
        threading.Thread(target=browse, args=(v, viewer)) for v, viewer in enumerate(viewers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures
    for viewer in viewers:
        for symbol, first in viewer.first_ms.items():
            expected = stored(sessions, symbol, first)
            assert expected, "the test wrote nothing this viewer could receive"
            assert viewer.got.get(symbol, []) == expected, (viewer.search, symbol)
