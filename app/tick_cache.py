"""Reads shared by the viewers one worker answers: the same question asked within a TTL, read once.

Every viewer's tick asks the database the same things (the watched stocks, the
points after the newest ones the page holds, the cards' prices), and after one
tick all pages following live hold the same newest points, so their questions
are equal. `SharedReads` keys each read by what was asked; the first thread to
ask reads, those asking the same meanwhile wait for its answer, and later ones
get it until it is `ttl` seconds old (counted from when the read began).

Why this is correct across workers and hosts: every answer is one read of the
database as committed at some moment no older than `ttl`, never a second copy of
the data kept in step with it. A page asks "after the newest point I hold" and
gets strictly newer points, so an answer that is a little old only arrives one
interval late: nothing is skipped (the next question starts where this answer
ended) and nothing is repeated (an answer holds only points after the question).
Answers are shared as they are: callers must not change them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(eq=False)
class _Read:
    """One read: in flight until `done` is set, then its value or its error."""

    began: float
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class SharedReads:
    """Answers by key, read once per `ttl` seconds and at most once at a time, `size` keys kept."""

    def __init__(self, ttl: float, size: int = 256, clock: Callable[[], float] = time.monotonic):
        if ttl <= 0 or size < 1:
            raise ValueError("SharedReads needs ttl > 0 and size >= 1")
        self.ttl, self.size, self._clock = ttl, size, clock
        self._reads: OrderedDict[Hashable, _Read] = OrderedDict()
        self._lock = threading.Lock()
        self.reads = 0  # how many times a read ran (for tests and the benchmark)

    def get(self, key: Hashable, read: Callable[[], T]) -> T:
        """The answer to `key`: a fresh one shared, or `read()` run by this thread (others wait)."""
        with self._lock:
            now = self._clock()
            entry = self._reads.get(key)
            fresh = entry is not None and (
                not entry.done.is_set() or (entry.error is None and now - entry.began < self.ttl)
            )
            if fresh:
                assert entry is not None
                self._reads.move_to_end(key)
                mine = False
            else:
                entry = self._reads[key] = _Read(began=now)
                self._reads.move_to_end(key)
                while len(self._reads) > self.size:
                    self._reads.popitem(last=False)  # waiters hold their entry; only reuse is lost
                self.reads += 1
                mine = True
        if mine:
            try:
                entry.value = read()
            except BaseException as exc:
                entry.error = exc
                raise
            finally:
                entry.done.set()
            return entry.value
        entry.done.wait()
        if entry.error is not None:
            # The same failure for everyone who waited on it (the database is down): no stampede.
            raise entry.error
        return entry.value

    def __len__(self) -> int:
        with self._lock:
            return len(self._reads)

    def forget(self) -> None:
        """Drop every answer: what they read has changed here (a watchlist edit)."""
        with self._lock:
            self._reads.clear()  # reads in flight finish for those already waiting on them


class DirectReads:
    """No sharing: every `get` reads (the setting that switches sharing off)."""

    reads = 0

    def get(self, key: Hashable, read: Callable[[], T]) -> T:
        """`read()`, every time."""
        return read()

    def forget(self) -> None:
        """Nothing kept, nothing to drop."""
