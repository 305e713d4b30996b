"""What the jobs tests share: fakes and providers made per test, failures, settings, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from decimal import Decimal

import pytest

from core.settings import Settings, load_settings
from db.locks import NotLeader
from jobs.budget import Budget
from jobs.failures import Failure, FailureKind
from jobs.http import HttpOptions, RetryPolicy
from jobs.providers.keyed import KeyedProvider, Keys
from jobs.providers.registry import PROVIDERS
from tests.fakes.base import FakeServer

# The last price every fake provider quotes for its symbols, as a Decimal.
LAST_PRICES = {
    "AAPL": Decimal("201.45"),
    "MSFT": Decimal("461.97"),
    "GE": Decimal("246.3"),
    "AMZN": Decimal("206.65"),
    "NVDA": Decimal("137.38"),
    "INTC": Decimal("19.68"),
}
FAST = RetryPolicy(attempts=3, backoff=0.01, max_delay=2.0)
FAST_HTTP = HttpOptions(timeout=2.0, retry=FAST)
HTTP_FIELDS = {field.name for field in fields(HttpOptions)}


def settings(**overrides: object) -> Settings:
    """The settings of every provider, with these overrides (flat names: `alpaca_base_url`)."""
    return load_settings(PROVIDERS, **overrides)


def iex_settings(fake: FakeServer, symbols: list[str], database_url: str, **extra: object):
    """The settings of a poll on a fake IEX-compatible server's Cloud layout, fast retries."""
    return settings(
        symbols=symbols,
        provider="iex",
        provider_base_url=fake.url("stable"),  # type: ignore[attr-defined]
        database_url=database_url,
        retry_backoff=0.01,
        http_timeout=2,
        **extra,
    )


def plan(provider: str, **limits: object) -> Budget:
    """A provider's budget on its declared defaults, or on these limits (no environment read)."""
    (spec,) = [spec for spec in PROVIDERS if spec.name == provider]
    assert spec.budget is not None
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


def keyed_on(fake: str, provider: type[KeyedProvider], keys: Keys, **defaults: object):
    """A fixture: `make(**overrides)` builds the keyed provider on the fake, all closed after.

    It has these keys, fast retries and its free plan; an override may also name an
    HttpOptions field or a plan's limit: `make(auth_backoff=30, rate_limit=3)`.
    """

    def build(server: FakeServer, **kw: object) -> KeyedProvider:
        http = {k: kw.pop(k) for k in HTTP_FIELDS & kw.keys()}
        limits = {k: kw.pop(k) for k in ("rate_limit", "daily_limit") & kw.keys()}
        budget = plan(provider.name, **limits)
        return provider(server.url(), budget=budget, http=replace(FAST_HTTP, **http), **kw)

    return made_on(fake, build, keys=keys, **defaults)


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


class CountingFence:
    """A poller's fence that counts its write transactions and refuses the n-th (a lost lock)."""

    def __init__(self, refuse: int | None = None) -> None:
        self.count, self.refuse = 0, refuse

    def __call__(self, _session: object) -> None:
        self.count += 1
        if self.count == self.refuse:
            raise NotLeader("the poller lock was lost")
