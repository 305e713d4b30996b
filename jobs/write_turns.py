"""Price writes go before a background writer's next batch.

SQLite takes one writer at a time, and a writer that finds the lock taken waits in its
busy handler, sleeping up to 100 ms between looks. A history fill commits batch after
batch with a few milliseconds between them, so a price write could miss every gap: one
took 6.5 s beside a 500-symbol fill (three runs skipped). A fill, a metadata refresh or
daily history asks here before each batch and waits while a price write is on, so a
price write waits for one batch at most. On PostgreSQL it costs a price write's time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

MOST_WAIT = 5.0  # seconds a batch waits for price writes: a hung one does not stop the rest


class PricesFirst:
    """Counts price writes in progress; background batches wait until there are none."""

    def __init__(self, most_wait: float = MOST_WAIT) -> None:
        self.most_wait = most_wait
        self._writing = 0
        self._changed = threading.Condition()

    @contextmanager
    def prices(self) -> Iterator[None]:
        """Around a price write: from before it asks for the database until it is done."""
        with self._changed:
            self._writing += 1
        try:
            yield
        finally:
            with self._changed:
                self._writing -= 1
                self._changed.notify_all()

    def wait(self) -> bool:
        """Before a background batch: False if price writes were still on after most_wait."""
        with self._changed:
            return self._changed.wait_for(lambda: self._writing == 0, timeout=self.most_wait)
