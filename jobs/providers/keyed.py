"""The HTTP client of a keyed provider: within budget, pausing after a 429, backing off on 401/403.

Whatever goes wrong for the provider as a whole (a refused key, a 429) is remembered
here, so that every thread and every pass stops asking until it is worth asking again,
and `ready_in()` lets the scheduler skip its runs meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from jobs.budget import Budget, RateLimiter
from jobs.http import JsonClient, RetryPolicy, redact
from jobs.providers.base import ProviderError

log = logging.getLogger(__name__)

AUTH_BACKOFF = 300.0  # seconds between tries while the provider refuses the key
RATE_LIMIT_PAUSE = 60.0  # after a 429 that named no wait: a per-minute budget refills by then
AUTH_KINDS = frozenset({"auth", "http_401", "http_403"})

Keys = tuple[str | None, ...]


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
        reload: Callable[[], Keys] | None = None,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        auth_backoff: float = AUTH_BACKOFF,
        concurrency: int = 8,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.budget = budget
        self._retry = retry or RetryPolicy()
        self._json = JsonClient(
            base_url, timeout=timeout, retry=self._retry, sleep=sleep, max_connections=concurrency
        )
        self._limiter = RateLimiter(budget, clock=clock, sleep=sleep)
        self._keys = keys
        self._headers = headers  # keys -> the request headers that carry them
        self._setting = setting  # the variable(s) to fix, named in the auth message
        self._reload = reload  # fresh keys (from the environment and .env) after a refusal
        self._auth_backoff = auth_backoff
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
                    text = redact(str(exc), secrets)[:200]
                    raise ProviderError(exc.kind, text, exc.retry_after) from None
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
                    raise ProviderError("auth", self._refused)
                # This request is the one try after the backoff; concurrent ones keep waiting.
                self._retry_auth_at = now + self._auth_backoff
                if self._reload is not None:
                    fresh = self._reload()
                    if all(fresh):
                        self._keys = fresh
            if now < self._paused_until:
                raise ProviderError(
                    "rate_limited",
                    f"{self.provider} asked to slow down; no requests for a while",
                    retry_after=self._paused_until - now,
                )
            keys = self._keys
        if not all(keys):
            raise self._refuse("has no key")
        return keys

    def _failed(self, exc: ProviderError) -> ProviderError:
        """Turn a failure into what callers see, remembering the provider-wide ones."""
        if exc.kind in AUTH_KINDS:
            return self._refuse(f"refused the key ({exc})")
        if exc.kind == "rate_limited":
            pause = exc.retry_after if exc.retry_after is not None else RATE_LIMIT_PAUSE
            with self._lock:
                self._paused_until = max(self._paused_until, self._clock() + pause)
            return ProviderError(
                "rate_limited", f"{exc}; pausing {self.provider} for {pause:.0f}s", pause
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
        return ProviderError("auth", message)

    def _succeeded(self) -> None:
        with self._lock:
            recovered, self._refused = self._refused is not None, None
        if recovered:
            log.info("%s accepted the key again; requests resumed", self.provider)
