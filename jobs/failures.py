"""Why a symbol was not stored: typed kinds and records, from where it happened to the metrics.

A Failure is a symbol a fetch or a write could not get through; a Rejection is a
value validation refused. Each kind's value is its metric label.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FailureKind(StrEnum):
    """Why a fetch or a write failed."""

    TIMEOUT = "timeout"
    CONNECT = "connect"
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    HTTP_5XX = "http_5xx"
    HTTP_4XX = "http_4xx"  # any other refusal; the record carries the status
    UNKNOWN_SYMBOL = "unknown_symbol"
    BAD_BODY = "bad_body"
    BAD_JSON = "bad_json"
    NOT_LEADER = "not_leader"
    DATABASE = "database"


class RejectionKind(StrEnum):
    """What validation found wrong with a value."""

    MISSING = "missing"
    NOT_FINITE = "not_finite"
    NOT_POSITIVE = "not_positive"
    ABSURD = "absurd"
    FUTURE = "future"
    TIME_ZONE = "time_zone"
    MALFORMED = "malformed"
    NOT_ASKED = "not_asked"
    LOGO = "logo"
    NAME = "name"  # a company name too long for its column, or with control characters
    WEEK52 = "52-week"


@dataclass(frozen=True, slots=True)
class Failure:
    """A symbol that could not be fetched or stored; printed as "kind: message"."""

    kind: FailureKind
    symbol: str
    message: str
    status: int | None = None  # the HTTP status, when one was answered

    def __str__(self) -> str:
        # A refusal names its status, as in "http_404: GET /x answered 404: …".
        refusal = self.kind is FailureKind.HTTP_4XX and self.status is not None
        return f"{f'http_{self.status}' if refusal else self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class Rejection:
    """A symbol whose value validation refused; printed as its message."""

    kind: RejectionKind
    symbol: str
    message: str

    def __str__(self) -> str:
        return self.message


class ProviderError(Exception):
    """A request to a provider failed, for all the symbols it was for."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        # Seconds the provider asked us to wait (a 429's Retry-After), when it said.
        self.retry_after = retry_after
        self.status = status

    def reworded(self, message: str) -> ProviderError:
        """The same error with another text (e.g. redacted)."""
        return ProviderError(self.kind, message, self.retry_after, self.status)

    def failure(self, symbol: str) -> Failure:
        """This error as one symbol's failure."""
        return Failure(self.kind, symbol, str(self), self.status)
