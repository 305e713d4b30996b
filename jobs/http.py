"""One pooled HTTP client per provider: explicit timeouts, bounded retries, no secrets in errors."""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from core.settings import Settings
from jobs.failures import FailureKind, ProviderError

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries; waits grow as backoff * 2**n with full jitter, capped."""

    attempts: int = 3
    backoff: float = 0.5
    max_delay: float = 10.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The wait before try number attempt + 1 (attempt counts from 1)."""
        return rng.uniform(0, min(self.max_delay, self.backoff * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class HttpOptions:
    """How a provider's client talks HTTP: timeout, retries, parallel requests, auth backoff."""

    timeout: float = 5.0
    retry: RetryPolicy = RetryPolicy()
    concurrency: int = 8  # parallel requests per run, and pooled connections
    auth_backoff: float = 300.0  # seconds between tries while a provider refuses the key

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpOptions:
        """The options the settings ask for."""
        retry = RetryPolicy(
            settings.retry_attempts, settings.retry_backoff, settings.retry_max_delay
        )
        return cls(settings.http_timeout, retry, settings.fetch_concurrency, settings.auth_backoff)


DEFAULT_HTTP = HttpOptions()


def retry_after_seconds(value: str | None) -> float | None:
    """Parse Retry-After as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def rate_limit_wait(headers: httpx.Headers) -> float | None:
    """Seconds a 429 asks for: Retry-After, else the X-RateLimit-Reset that Alpaca/Finnhub send."""
    wait = retry_after_seconds(headers.get("Retry-After"))
    if wait is not None:
        return wait
    try:
        reset = float(headers.get("X-RateLimit-Reset", ""))
    except ValueError:
        return None
    if not math.isfinite(reset):
        return None
    # A Unix time (seconds); a small number can only be a delay already.
    return max(0.0, reset - time.time()) if reset > 1e9 else max(0.0, reset)


def redact(text: str, secrets: Sequence[str]) -> str:
    """The text with every secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class JsonClient:
    """GET JSON from one base URL with a pooled httpx client and a bounded retry loop."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        retry: RetryPolicy,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_connections: int = 16,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            timeout=httpx.Timeout(timeout),
            params=dict(params or {}),
            headers={"Accept": "application/json", **dict(headers or {})},
            limits=httpx.Limits(max_connections=max_connections),
            follow_redirects=False,
        )
        self._timeout = timeout
        # Values that must never appear in an error message (the token, if any).
        self._secrets = tuple(v for v in (params or {}).values() if v)
        self._retry = retry
        self._sleep = sleep
        self._rng = random.Random()

    def get(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
    ) -> object:
        """GET path (relative to the base URL) and decode JSON, retrying what is worth retrying.

        `headers` are added to this request only; `secrets` (the keys inside them) are
        redacted from any error text, like the client's own params.
        """
        last: ProviderError | None = None
        secrets = (*self._secrets, *(s for s in secrets if s))
        for attempt in range(1, self._retry.attempts + 1):
            wait: float | None = None
            try:
                response = self._fetch(path.lstrip("/"), params, headers)
            except httpx.TimeoutException:
                last = ProviderError(FailureKind.TIMEOUT, f"GET /{path.lstrip('/')} timed out")
            except httpx.TransportError as exc:
                # The message of a transport error never holds the URL or its token.
                last = ProviderError(
                    FailureKind.CONNECT, f"GET /{path.lstrip('/')} failed: {type(exc).__name__}"
                )
            else:
                if response.status_code == 429:
                    wait = rate_limit_wait(response.headers)
                    last = ProviderError(
                        FailureKind.RATE_LIMITED,
                        f"GET /{path.lstrip('/')} answered 429",
                        retry_after=wait,
                        status=429,
                    )
                    if wait is not None and wait > self._retry.max_delay:
                        # Waiting longer than a poll is worth would stall the scheduler.
                        cap = f"Retry-After {wait:.0f}s exceeds the retry cap"
                        raise last.reworded(f"{last}; {cap}")
                elif response.status_code in RETRYABLE_STATUS:
                    last = ProviderError(
                        FailureKind.HTTP_5XX,
                        f"GET /{path.lstrip('/')} answered {response.status_code}",
                        status=response.status_code,
                    )
                else:
                    return decode(response, path, secrets)
            if attempt == self._retry.attempts:
                break
            delay = wait if wait is not None else self._retry.delay(attempt, self._rng)
            log.debug("retrying %s in %.2fs after: %s", path, delay, last)
            self._sleep(delay)
        assert last is not None
        raise last

    def _fetch(
        self, path: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None
    ) -> httpx.Response:
        """One GET whose whole answer must arrive within the timeout (httpx times each read)."""
        deadline = time.monotonic() + self._timeout
        with self._client.stream("GET", path, params=params, headers=headers) as response:
            raw = bytearray()
            for chunk in response.iter_raw():
                raw += chunk
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout(
                        "answer slower than the timeout", request=response.request
                    )
        # Built from the raw bytes, so that a gzip answer is still decoded by .text.
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=bytes(raw),
            request=response.request,
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()


def decode(response: httpx.Response, path: str, secrets: tuple[str, ...] = ()) -> object:
    """Turn a final answer into JSON, or a ProviderError that says what came back."""
    where = f"GET /{path.lstrip('/')}"
    text = response.text
    if response.status_code >= 400:
        # An upstream may echo the URL (?token= included) or a key: redact before cutting.
        snippet = redact(" ".join(text.split()), secrets)[:80]
        status = response.status_code
        unknown = "unknown symbol" in text.lower()
        kind = FailureKind.UNKNOWN_SYMBOL if unknown else FailureKind.HTTP_4XX
        raise ProviderError(kind, f"{where} answered {status}: {snippet!r}", status=status)
    if text.lstrip().startswith("<"):
        raise ProviderError(FailureKind.BAD_BODY, f"{where} answered an HTML page, not JSON")
    if text.strip().lower() == "unknown symbol":
        raise ProviderError(FailureKind.UNKNOWN_SYMBOL, f"{where} answered 'Unknown symbol'")
    try:
        return json.loads(text)
    except ValueError:
        raise ProviderError(FailureKind.BAD_JSON, f"{where} answered malformed JSON") from None
