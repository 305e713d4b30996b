"""SharedReads: one read per key at a time, answers kept for a TTL, a bounded number of keys."""

from __future__ import annotations

import threading
import time

import pytest

from app.tick_cache import DirectReads, SharedReads


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def counting(value):
    calls = []

    def read():
        calls.append(1)
        return value

    return read, calls


def test_the_same_key_within_the_ttl_is_read_once():
    clock = Clock()
    shared = SharedReads(2.5, clock=clock)
    read, calls = counting(["a"])
    first = shared.get(("after", 1), read)
    clock.now += 2.4
    assert shared.get(("after", 1), read) is first
    assert len(calls) == 1 and shared.reads == 1


def test_an_answer_expires_ttl_seconds_after_its_read_began():
    clock = Clock()
    shared = SharedReads(2.5, clock=clock)
    read, calls = counting("x")
    shared.get("k", read)
    clock.now += 2.5
    shared.get("k", read)
    assert len(calls) == 2


def test_different_keys_are_read_apart():
    shared = SharedReads(5, clock=Clock())
    assert shared.get("a", lambda: 1) == 1
    assert shared.get("b", lambda: 2) == 2
    assert shared.reads == 2


def test_the_least_recently_used_key_goes_beyond_the_bound():
    shared = SharedReads(5, size=2, clock=Clock())
    shared.get("a", lambda: 1)
    shared.get("b", lambda: 2)
    shared.get("a", lambda: 1)  # a used again: b is the oldest now
    shared.get("c", lambda: 3)
    assert len(shared) == 2
    read, calls = counting(1)
    shared.get("a", read)
    assert calls == []  # still held
    shared.get("b", read)
    assert calls == [1]  # dropped, read again


def test_a_failed_read_is_not_kept_and_is_raised():
    shared = SharedReads(5, clock=Clock())

    def broken():
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError, match="database down"):
        shared.get("k", broken)
    assert shared.get("k", lambda: "back") == "back"


def test_threads_asking_the_same_key_wait_for_one_read():
    shared = SharedReads(5)
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_read():
        calls.append(threading.get_ident())
        started.set()
        release.wait(5)
        return {"AAPL": [1, 2]}

    answers = []
    lock = threading.Lock()

    def viewer():
        value = shared.get(("after", "AAPL", 1), slow_read)
        with lock:
            answers.append(value)

    threads = [threading.Thread(target=viewer) for _ in range(20)]
    threads[0].start()
    assert started.wait(5)
    for t in threads[1:]:
        t.start()
    time.sleep(0.2)  # the others are asking now, and must be waiting
    assert answers == []
    release.set()
    for t in threads:
        t.join(5)
    assert len(calls) == 1 and len(answers) == 20
    assert all(a is answers[0] for a in answers)


def test_waiters_get_the_readers_error():
    shared = SharedReads(5)
    started, release = threading.Event(), threading.Event()

    def failing():
        started.set()
        release.wait(5)
        raise RuntimeError("down")

    errors = []

    def viewer():
        try:
            shared.get("k", failing)
        except RuntimeError as exc:
            errors.append(str(exc))

    first = threading.Thread(target=viewer)
    first.start()
    assert started.wait(5)
    others = [threading.Thread(target=viewer) for _ in range(5)]
    for t in others:
        t.start()
    time.sleep(0.1)
    release.set()
    for t in [first, *others]:
        t.join(5)
    assert errors == ["down"] * 6


def test_direct_reads_always_read():
    direct = DirectReads()
    read, calls = counting(1)
    direct.get("k", read)
    direct.get("k", read)
    assert len(calls) == 2


@pytest.mark.parametrize(("ttl", "size"), [(0, 5), (-1, 5), (1, 0)])
def test_a_bad_ttl_or_size_is_refused(ttl, size):
    with pytest.raises(ValueError, match="ttl > 0 and size >= 1"):
        SharedReads(ttl, size)
