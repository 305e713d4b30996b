"""Reading provider answers: objects, numbers (JSON or strings), text, and times as aware UTC."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TypeVar

from jobs.providers.base import Fetched, ProviderError
from jobs.providers.iex import number

__all__ = ["collect", "epoch_seconds", "number", "object_of", "rfc3339", "text"]

T = TypeVar("T")

# 2022-03-18T14:02:09.722539521Z: Python keeps microseconds, so digits past six are cut.
RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def rfc3339(value: object, field: str) -> datetime:
    """An RFC 3339 time (any number of fraction digits) as an aware UTC datetime."""
    match = RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise ProviderError("bad_body", f"{field} is not an RFC 3339 time")
    whole, fraction, offset = match.groups()
    micros = (fraction or "")[:6].ljust(6, "0")
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        parsed = datetime.fromisoformat(f"{whole.replace(' ', 'T')}.{micros}{offset}")
    except ValueError:
        raise ProviderError("bad_body", f"{field} is not a valid time") from None
    return parsed.astimezone(timezone.utc)


def epoch_seconds(value: object, field: str) -> datetime:
    """Epoch seconds (a number, or digits in a string) as an aware UTC datetime."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProviderError("bad_body", f"{field} is not epoch seconds")
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ProviderError("bad_body", f"{field} is out of range") from None


def object_of(body: object, what: str) -> Mapping[str, object]:
    """The body as a JSON object, or a bad_body error naming what was expected."""
    if not isinstance(body, Mapping):
        raise ProviderError("bad_body", f"{what} is not a JSON object")
    return body


def text(value: object) -> str | None:
    """A non-empty string field, stripped; None for anything else."""
    return value.strip() or None if isinstance(value, str) else None


def collect(
    part: Sequence[str],
    entries: Mapping[str, object],
    parse: Callable[[str, Mapping[str, object]], T],
    provider: str,
) -> Fetched[T]:
    """Parse each asked symbol's entry (keys matched in any case); a symbol left out is unknown."""
    by_symbol = {str(k).upper(): v for k, v in entries.items()}
    result: Fetched[T] = Fetched()
    for symbol in part:
        entry = by_symbol.get(symbol)
        if not isinstance(entry, Mapping):
            result.failures[symbol] = f"unknown_symbol: not in {provider}'s answer"
            continue
        try:
            result.items.append(parse(symbol, entry))
        except ProviderError as exc:
            result.failures[symbol] = f"{exc.kind}: {exc}"
    return result
