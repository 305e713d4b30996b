"""What the jobs tests share: fakes and providers made per test, failures, settings, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from core.settings import Settings, load_settings
from jobs.budget import Budget
from jobs.failures import Failure, FailureKind
from jobs.http import HttpOptions, RetryPolicy
from jobs.providers.registry import PROVIDERS
from jobs.providers.spec import ProviderSpec
from tests.fakes.base import FakeServer

FAST = RetryPolicy(attempts=3, backoff=0.01, max_delay=2.0)
FAST_HTTP = HttpOptions(timeout=2.0, retry=FAST)


def settings(**overrides: object) -> Settings:
    """The settings of every provider, with these overrides (flat names: `alpaca_base_url`)."""
    return load_settings(PROVIDERS, **overrides)


def plan(spec: ProviderSpec, **limits: object) -> Budget:
    """A provider's budget on its declared defaults, or on these limits (no environment read)."""
    return spec.budget(spec.options.model_construct(**limits))


@contextmanager
def closing_factory(build: Callable[..., object], **defaults: object) -> Iterator[Callable]:
    """`make(*args, **overrides)` builds providers with these defaults; all closed on exit."""
    made = []

    def make(*args: object, **overrides: object):
        made.append(build(*args, **{**defaults, **overrides}))
        return made[-1]

    try:
        yield make
    finally:
        for provider in made:
            provider.close()


def serving(server_class: type[FakeServer]):
    """A fixture: a fake of this class serving for one test."""

    @pytest.fixture
    def fake() -> Iterator[FakeServer]:
        with server_class() as server:
            yield server

    return fake


def made_on(fake: str, build: Callable[..., object], **defaults: object):
    """A fixture: `make(…)` calls build(the fake fixture named `fake`, …); all closed."""

    @pytest.fixture
    def factory(request) -> Iterator[Callable]:
        server = request.getfixturevalue(fake)
        with closing_factory(lambda *a, **kw: build(server, *a, **kw), **defaults) as make:
            yield make

    return factory


def kinds(failures: dict[str, Failure]) -> set[FailureKind]:
    """The kinds of failure among per-symbol failures."""
    return {failure.kind for failure in failures.values()}


def texts(failures: dict[str, object]) -> dict[str, str]:
    """Each symbol's reason as printed and logged ("kind: message" for a failure)."""
    return {symbol: str(reason) for symbol, reason in failures.items()}


def wait_for(condition: Callable[[], object], timeout: float) -> bool:
    """Whether the condition came true within the timeout, checked every 20 ms."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
