"""Keyed providers: an HTTP client within budget, pausing after a 429, backing off on 401/403.

Whatever goes wrong for the provider as a whole (a refused key, a 429) is remembered
here, so that every thread and every pass stops asking until it is worth asking again,
and `ready_in()` lets the scheduler skip its runs meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import ClassVar

from core.options import AtLeastOne, BaseUrl, ProviderOptions, env_name
from jobs.budget import Budget, RateLimiter, Rotation
from jobs.failures import FailureKind, ProviderError
from jobs.http import DEFAULT_HTTP, HttpOptions, JsonClient, redact
from jobs.providers.base import Provider
from jobs.providers.spec import Setup

log = logging.getLogger(__name__)

RATE_LIMIT_PAUSE = 60.0  # after a 429 that named no wait: a per-minute budget refills by then
AUTH_STATUS = frozenset({401, 403})

Keys = tuple[str | None, ...]


class KeyedOptions(ProviderOptions):
    """A keyed provider's settings: its keys (named by `KEYS`), base URL and rate limit.

    A subclass sets its variable prefix, declares its keys, and gives base_url and
    rate_limit their defaults: the real service, and its free plan.
    """

    KEYS: ClassVar[tuple[str, ...]]
    base_url: BaseUrl
    rate_limit: AtLeastOne  # requests (or credits) a minute

    def keys(self) -> Keys:
        """The keys as plain strings (None where unset), for the request headers only."""
        secrets = (getattr(self, name) for name in self.KEYS)
        return tuple(s.get_secret_value() if s is not None else None for s in secrets)


class KeyedClient:
    """GET JSON with a provider's keys in headers; the keys never reach a URL, a log or an error."""

    def __init__(
        self,
        budget: Budget,
        base_url: str,
        *,
        keys: Keys,
        headers: Callable[..., Mapping[str, str]],
        setting: str,
        http: HttpOptions,
        reload: Callable[[], Keys] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.budget = budget
        self._retry = http.retry
        self._json = JsonClient(
            base_url,
            timeout=http.timeout,
            retry=http.retry,
            sleep=sleep,
            max_connections=http.concurrency,
        )
        self._limiter = RateLimiter(budget, clock=clock, sleep=sleep)
        self._keys = keys
        self._headers = headers  # keys -> the request headers that carry them
        self._setting = setting  # the variable(s) to fix, named in the auth message
        self._reload = reload  # fresh keys (from the environment and .env) after a refusal
        self._auth_backoff = http.auth_backoff
        self._clock = clock
        self._lock = threading.Lock()
        self._refused: str | None = None  # the auth message, repeated while backing off
        self._retry_auth_at = 0.0
        self._paused_until = 0.0

    @property
    def provider(self) -> str:
        """The provider's name, for messages."""
        return self.budget.provider

    def get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        cost: int = 1,
        check: Callable[[object], None] | None = None,
    ) -> object:
        """GET and decode; `check` raises ProviderError for an error answered with HTTP 200."""
        keys = self._admit()
        self._limiter.acquire(cost, max_wait=self._retry.max_delay)
        secrets = tuple(k for k in keys if k)
        try:
            body = self._json.get(path, params, headers=self._headers(*keys), secrets=secrets)
            if check is not None:
                try:
                    check(body)
                except ProviderError as exc:
                    # Its text comes from the body, which may echo a key: redact, then cut.
                    raise exc.reworded(redact(str(exc), secrets)[:200]) from None
        except ProviderError as exc:
            raise self._failed(exc) from None
        self._succeeded()
        return body

    def redact(self, text: str) -> str:
        """The text with the current keys replaced by ***."""
        return redact(text, tuple(k for k in self._keys if k))

    def ready_in(self) -> float:
        """Seconds before requests are sent again after a refusal or a 429; 0 when they are."""
        with self._lock:
            now = self._clock()
            auth = self._retry_auth_at - now if self._refused is not None else 0.0
            return max(0.0, auth, self._paused_until - now)

    def close(self) -> None:
        """Close the pooled connections."""
        self._json.close()

    def _admit(self) -> Keys:
        """The keys to send now, or the error that stands while a refusal or a pause lasts."""
        with self._lock:
            now = self._clock()
            if self._refused is not None:
                if now < self._retry_auth_at:
                    raise ProviderError(FailureKind.AUTH, self._refused)
                # This request is the one try after the backoff; concurrent ones keep waiting.
                self._retry_auth_at = now + self._auth_backoff
                if self._reload is not None:
                    fresh = self._reload()
                    if all(fresh):
                        self._keys = fresh
            if now < self._paused_until:
                raise ProviderError(
                    FailureKind.RATE_LIMITED,
                    f"{self.provider} asked to slow down; no requests for a while",
                    retry_after=self._paused_until - now,
                )
            keys = self._keys
        if not all(keys):
            raise self._refuse("has no key")
        return keys

    def _failed(self, exc: ProviderError) -> ProviderError:
        """Turn a failure into what callers see, remembering the provider-wide ones."""
        refused = exc.kind is FailureKind.HTTP_4XX and exc.status in AUTH_STATUS
        if refused or exc.kind is FailureKind.AUTH:
            return self._refuse(f"refused the key ({exc})")
        if exc.kind is FailureKind.RATE_LIMITED:
            pause = exc.retry_after if exc.retry_after is not None else RATE_LIMIT_PAUSE
            with self._lock:
                self._paused_until = max(self._paused_until, self._clock() + pause)
            return ProviderError(
                FailureKind.RATE_LIMITED, f"{exc}; pausing {self.provider} for {pause:.0f}s", pause
            )
        return exc

    def _refuse(self, what: str) -> ProviderError:
        """The one clear auth error, repeated to every caller until the backoff ends."""
        message = (
            f"{self.provider} {what}: set {self._setting}; "
            f"trying again every {self._auth_backoff:g}s"
        )
        with self._lock:
            self._refused = message
            self._retry_auth_at = self._clock() + self._auth_backoff
        return ProviderError(FailureKind.AUTH, message)

    def _succeeded(self) -> None:
        with self._lock:
            recovered, self._refused = self._refused is not None, None
        if recovered:
            log.info("%s accepted the key again; requests resumed", self.provider)


class KeyedProvider(Provider):
    """A provider whose requests all go through one KeyedClient: its budget, pauses and close."""

    options: ClassVar[type[KeyedOptions]]  # names the variables in the auth message

    def __init__(
        self,
        base_url: str,
        keys: Keys,
        *,
        budget: Budget,
        http: HttpOptions = DEFAULT_HTTP,
        reload: Callable[[], Keys] | None = None,
    ) -> None:
        self.budget = budget
        self._client = KeyedClient(
            budget,
            base_url,
            keys=keys,
            headers=self.headers,
            setting=env_name(self.options, *self.options.KEYS),
            http=http,
            reload=reload,
        )
        self._concurrency = http.concurrency
        # For providers that pace one request per part: a spent budget starves no symbol.
        self._rotation = Rotation()

    @staticmethod
    def headers(*keys: str) -> Mapping[str, str]:
        """The request headers that carry the keys."""
        raise NotImplementedError

    @classmethod
    def build(cls, setup: Setup[KeyedOptions]) -> Provider:
        """The provider on its settings; a key fixed in .env is used without a restart."""
        return cls(
            setup.options.base_url,
            setup.options.keys(),
            budget=setup.budget,  # type: ignore[arg-type]
            http=setup.http,
            reload=lambda: setup.reload().keys(),
        )

    def ready_in(self) -> float:
        """Seconds before requests are sent again after a refused key or a 429."""
        return self._client.ready_in()

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
