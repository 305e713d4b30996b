"""A call with a deadline: the caller gets an answer in time even when the database hangs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The call did not answer in time (it may still finish on its own thread)."""


class BoundedCall:
    """Runs calls on daemon threads; a caller waits at most `seconds`.

    While a call that missed its deadline is still running (the database hangs), later
    callers are refused at once instead of each holding a request thread for `seconds`:
    the late call's end (an error from the engine's own deadline, or an answer once the
    database is back) reopens the way.
    """

    def __init__(self, seconds: float, name: str) -> None:
        self.seconds = seconds
        self._name = name
        self._lock = threading.Lock()
        self._late = 0  # calls past their deadline and still running

    def __call__(self, work: Callable[[], T]) -> T:
        """`work()`'s result or exception; DeadlineExceeded when it takes longer than `seconds`."""
        with self._lock:
            if self._late:
                raise DeadlineExceeded("an earlier call is still waiting for the database")
        outcome: dict[str, object] = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["value"] = work()
            except BaseException as exc:  # handed to the caller below
                outcome["error"] = exc
            finally:
                with self._lock:
                    outcome["finished"] = True
                    if outcome.get("late"):
                        self._late -= 1
                done.set()

        threading.Thread(target=run, name=self._name, daemon=True).start()
        if not done.wait(self.seconds):
            with self._lock:
                if "finished" not in outcome:
                    outcome["late"] = True
                    self._late += 1
            if outcome.get("late"):
                raise DeadlineExceeded(f"no answer from the database in {self.seconds:g}s")
            done.wait()
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["value"]  # type: ignore[return-value]
