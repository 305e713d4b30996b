"""The retention job: the elected poller removes what each level no longer keeps.

It runs on a thread of its own (jobs/scheduler.py), never inside a price run, and
deletes in batches of `retention_batch` rows, each committed in a transaction of
its own that checks the lock first (a process that lost it deletes nothing more).
Bars are written with their ticks, so removing ticks never changes a bar: each bar
keeps what its ticks gave. Daily bars are kept for good by default.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.retention import DAY, FIVE_MINUTES, HOUR, MINUTE, TICKS, Retention
from core.times import Clock
from db.engine import unit_of_work
from db.locks import NotLeader
from db.reachability import failure_cause
from db.retention import delete_batch, stored_symbols

log = logging.getLogger(__name__)
LEVEL_NAMES = {
    TICKS: "ticks",
    MINUTE: "minute bars",
    FIVE_MINUTES: "5-minute bars",
    HOUR: "hourly bars",
    DAY: "daily bars",
}


class _Stopping(Exception):
    """The service is stopping: the pass ends between two batches."""


@dataclass
class RetentionResult:
    """Rows removed per level, the batches it took, and how long the pass ran."""

    removed: dict[int, int] = field(default_factory=dict)
    batches: int = 0
    seconds: float = 0.0
    finished: bool = True  # False when stopping ended it early

    def summary(self) -> str:
        """One log line."""
        parts = ", ".join(
            f"{LEVEL_NAMES.get(level, f'{level} s bars')} {n}" for level, n in self.removed.items()
        )
        return (
            f"retention: removed {parts or 'nothing'} in {self.batches} batches, "
            f"{self.seconds * 1000:.0f} ms"
        )


class RetentionPass:
    """One pass over every stored symbol and level, a bounded batch per transaction."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        retention: Retention,
        batch: int,
        clock: Clock,
        fence: Callable[[Session], None] | None = None,
        stopping: threading.Event | None = None,
        pause: float = 0.0,
    ) -> None:
        self.sessions, self.retention, self.batch, self.clock = sessions, retention, batch, clock
        self.fence = fence
        self.stopping = stopping or threading.Event()
        self.pause = pause  # seconds between batches: room for a price write on SQLite

    def run(self) -> RetentionResult:
        """Delete every row older than its level's limit at the clock's now."""
        started = time.perf_counter()
        result = RetentionResult()
        limits = {
            level: before
            for level, before in self.retention.kept_from(self.clock()).items()
            if before is not None
        }
        try:
            if limits:
                with self.sessions() as session:
                    symbols = stored_symbols(session)
                for level, before in limits.items():
                    for symbol in symbols:
                        if not self._drain(result, level, symbol, before):
                            raise _Stopping
        except _Stopping:
            result.finished = False
        except (SQLAlchemyError, NotLeader) as exc:
            # What was committed stays removed; the next pass goes on from there.
            result.finished = False
            log.warning("retention: pass ended early: %s", failure_cause(exc))
        result.seconds = time.perf_counter() - started
        if result.removed or not result.finished:
            log.info(result.summary())
        return result

    def _drain(self, result: RetentionResult, level: int, symbol: str, before) -> bool:
        """Delete one symbol's old rows of a level batch by batch; False when stopping."""
        while not self.stopping.is_set():
            with unit_of_work(self.sessions) as session:
                if self.fence is not None:
                    self.fence(session)
                removed = delete_batch(session, level, symbol, before, self.batch)
            result.batches += 1
            if removed:
                result.removed[level] = result.removed.get(level, 0) + removed
            if removed < self.batch:
                return True
            if self.pause:
                time.sleep(self.pause)
        return False
