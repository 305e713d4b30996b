"""Price writes first: a background batch waits while one is on, and not forever."""

from __future__ import annotations

import threading

from jobs.write_turns import PricesFirst


def test_a_batch_goes_at_once_when_no_price_write_is_on():
    assert PricesFirst().wait() is True


def test_a_batch_waits_until_the_price_write_is_done():
    turns = PricesFirst()
    entered, release, waited = threading.Event(), threading.Event(), threading.Event()
    answers: list[bool] = []

    def price_write() -> None:
        with turns.prices():
            entered.set()
            release.wait(10)

    def batch() -> None:
        answers.append(turns.wait())
        waited.set()

    writer = threading.Thread(target=price_write)
    writer.start()
    assert entered.wait(10)
    waiting = threading.Thread(target=batch)
    waiting.start()
    assert not waited.wait(0.2), "the batch went while the price write was on"
    release.set()
    assert waited.wait(10) and answers == [True]
    writer.join(10)
    waiting.join(10)


def test_a_hung_price_write_holds_a_batch_for_most_wait_only():
    turns = PricesFirst(most_wait=0.05)
    with turns.prices():
        assert turns.wait() is False  # the batch goes on; the database decides the rest
    assert turns.wait() is True
