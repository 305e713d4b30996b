"""A call with a deadline: the caller gets an answer in time even when the database hangs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The call did not answer in time (it may still finish on its own thread)."""


class BoundedCall:
    """Runs calls on daemon threads; a caller waits at most `seconds`, at most `limit` hang at once.

    A hung call keeps its thread until the engine's own deadline ends it; the limit
    keeps a stream of probes against a frozen database from piling threads up.
    """

    def __init__(self, seconds: float, name: str, limit: int = 4) -> None:
        self.seconds = seconds
        self._name = name
        self._slots = threading.BoundedSemaphore(limit)

    def __call__(self, work: Callable[[], T]) -> T:
        """`work()`'s result or exception; DeadlineExceeded when it takes longer than `seconds`."""
        if not self._slots.acquire(blocking=False):
            raise DeadlineExceeded("earlier checks are still waiting for the database")
        outcome: dict[str, object] = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["value"] = work()
            except BaseException as exc:  # handed to the caller below
                outcome["error"] = exc
            finally:
                self._slots.release()
                done.set()

        threading.Thread(target=run, name=self._name, daemon=True).start()
        if not done.wait(self.seconds):
            raise DeadlineExceeded(f"no answer from the database in {self.seconds:g}s")
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["value"]  # type: ignore[return-value]
