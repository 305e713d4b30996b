"""BoundedCall: an answer in time, else the work's own result or error; hung calls are capped."""

from __future__ import annotations

import threading
import time

import pytest

from app.bounded import BoundedCall, DeadlineExceeded


def test_a_quick_call_gives_its_result_or_its_error():
    bounded = BoundedCall(1.0, "quick")
    assert bounded(lambda: 42) == 42
    with pytest.raises(ZeroDivisionError):
        bounded(lambda: 1 / 0)


def test_a_hung_call_is_left_behind_at_the_deadline():
    release = threading.Event()
    bounded = BoundedCall(0.2, "hung")
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match=r"0\.2s"):
        bounded(release.wait)
    assert time.monotonic() - started < 0.5
    release.set()


def test_while_a_late_call_runs_others_are_refused_at_once_then_served_again():
    release = threading.Event()
    bounded = BoundedCall(0.05, "late")
    with pytest.raises(DeadlineExceeded, match="no answer"):
        bounded(release.wait)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="still waiting"):
        bounded(lambda: 1)
    assert time.monotonic() - started < 0.02  # refused at once, no thread started
    release.set()  # the database answers again: the late call ends
    deadline = time.monotonic() + 2
    while True:
        try:
            assert bounded(lambda: 1) == 1
            break
        except DeadlineExceeded:
            assert time.monotonic() < deadline
            time.sleep(0.01)


def test_calls_in_time_run_side_by_side():
    both = threading.Barrier(2, timeout=1)
    bounded = BoundedCall(2.0, "side-by-side")
    answers = []
    other = threading.Thread(target=lambda: answers.append(bounded(both.wait)))
    other.start()
    answers.append(bounded(both.wait))
    other.join()
    assert sorted(answers) == [0, 1]
