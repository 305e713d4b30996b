"""A price writer beside a retention step: every write's time, to find the longest beside it."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, text

from core.records import Quote
from db.engine import make_session_factory, unit_of_work
from db.writes import write_quotes

INTERVAL = 0.05  # seconds between writes: 20 a second, each one tick per stock


class Writer:
    """Writes one tick per stock every INTERVAL on its own thread and times each write."""

    def __init__(self, write: Callable[[list[Quote]], None], symbols: list[str], t0: datetime):
        self.write, self.symbols, self.t0 = write, symbols, t0
        self.times: list[tuple[float, float]] = []  # (started, seconds) per write
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Writer:
        self._thread.start()
        time.sleep(1.0)  # a second of writes before the step: the baseline
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.5)
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        k = 0
        while not self._stop.is_set():
            at = self.t0 + timedelta(seconds=k)
            batch = [Quote(s, Decimal("100") + k % 50, at) for s in self.symbols]
            started = time.perf_counter()
            self.write(batch)
            self.times.append((started, time.perf_counter() - started))
            k += 1
            time.sleep(INTERVAL)

    def during(self, began: float, ended: float) -> tuple[float, float, int]:
        """Longest and median write (ms) of those that overlapped [began, ended], and how many."""
        beside = [s for start, s in self.times if start < ended and start + s > began]
        if not beside:
            return 0.0, 0.0, 0
        return max(beside) * 1000, statistics.median(beside) * 1000, len(beside)

    def before(self, began: float) -> float:
        """The longest write (ms) that ended before the step began."""
        return max((s for start, s in self.times if start + s <= began), default=0.0) * 1000


def app_writer(engine: Engine) -> Callable[[list[Quote]], None]:
    """The poller's own write: ticks and their bars in one transaction."""
    sessions = make_session_factory(engine)

    def write(quotes: list[Quote]) -> None:
        with unit_of_work(sessions) as session:
            write_quotes(session, quotes, quotes[0].observed_at)

    return write


def plain_writer(engine: Engine, table: str) -> Callable[[list[Quote]], None]:
    """A plain INSERT of the ticks into `table`: the same statement for both tick tables."""
    statement = text(
        f"INSERT INTO {table} (symbol, observed_at, price, fetched_at, simulated) "
        "VALUES (:s, :at, :p, :at, false) ON CONFLICT DO NOTHING"
    )

    def write(quotes: list[Quote]) -> None:
        with engine.begin() as connection:
            connection.execute(
                statement, [{"s": q.symbol, "at": q.observed_at, "p": q.price} for q in quotes]
            )

    return write
