"""What the provider tests share: a factory that closes what it made, and failure kinds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def closing_factory(build: Callable[..., object], **defaults: object) -> Iterator[Callable]:
    """`make(**overrides)` builds providers with these defaults; all are closed on exit."""
    made = []

    def make(**overrides: object):
        made.append(build(**{**defaults, **overrides}))
        return made[-1]

    try:
        yield make
    finally:
        for provider in made:
            provider.close()


def kinds(failures: dict[str, str]) -> set[str]:
    """The kinds of failure ("timeout", "http_5xx", …) among per-symbol reasons."""
    return {reason.split(":")[0] for reason in failures.values()}
