"""Reading provider answers: objects, numbers (JSON or strings), text, and times as aware UTC."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from core.times import from_ms
from jobs.failures import FailureKind, ProviderError
from jobs.providers.base import Fetched

T = TypeVar("T")
log = logging.getLogger(__name__)

# 2022-03-18T14:02:09.722539521Z: Python keeps microseconds, so digits past six are cut.
RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def bad_body(message: str) -> ProviderError:
    """The error for an answer that is JSON but not what was expected."""
    return ProviderError(FailureKind.BAD_BODY, message)


def number(value: object, field: str) -> Decimal | None:
    """A JSON number (or a numeric string) as a Decimal, None when null; NaN passes on."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise bad_body(f"{field} is not a number")
    try:
        # Through str() so that 174.97 stays 174.97 and not its binary neighbour; NaN and
        # infinity pass on for validation to reject.
        return Decimal(str(value))
    except InvalidOperation:
        raise bad_body(f"{field} is not a number") from None


def extra_number(value: object, field: str, symbol: str) -> Decimal | None:
    """A number that is worth having but not worth losing the quote for: None when it is not one."""
    try:
        return number(value, field)
    except ProviderError as exc:
        log.warning("%s: %s, left out: %s", symbol, field, exc)
        return None


def rfc3339(value: object, field: str) -> datetime:
    """An RFC 3339 time (any number of fraction digits) as an aware UTC datetime."""
    match = RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise bad_body(f"{field} is not an RFC 3339 time")
    whole, fraction, offset = match.groups()
    micros = (fraction or "")[:6].ljust(6, "0")
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        parsed = datetime.fromisoformat(f"{whole.replace(' ', 'T')}.{micros}{offset}")
    except ValueError:
        raise bad_body(f"{field} is not a valid time") from None
    return parsed.astimezone(timezone.utc)


def epoch_seconds(value: object, field: str) -> datetime:
    """Epoch seconds (a number, or digits in a string) as an aware UTC datetime."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return _epoch(value, field, "epoch seconds", lambda v: datetime.fromtimestamp(v, timezone.utc))


def epoch_millis(value: object, field: str) -> datetime | None:
    """Epoch milliseconds (a number) as an aware UTC datetime; None when null."""
    return None if value is None else _epoch(value, field, "epoch milliseconds", from_ms)


def _epoch(value: object, field: str, unit: str, convert: Callable[[float], datetime]) -> datetime:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad_body(f"{field} is not {unit}")
    try:
        return convert(value)
    except (OverflowError, OSError, ValueError):
        raise bad_body(f"{field} is out of range") from None


def object_of(body: object, what: str) -> Mapping[str, object]:
    """The body as a JSON object, or a bad_body error naming what was expected."""
    if not isinstance(body, Mapping):
        raise bad_body(f"{what} is not a JSON object")
    return body


def text(value: object) -> str | None:
    """A non-empty string field, stripped; None for anything else."""
    return value.strip() or None if isinstance(value, str) else None


def collect(
    part: Sequence[str],
    entries: Mapping[str, object],
    parse: Callable[[str, Mapping[str, object]], T],
    answer: str,
) -> Fetched[T]:
    """Parse each asked symbol's entry (keys in any case); one left out of `answer` is unknown."""
    by_symbol = {str(k).upper(): v for k, v in entries.items()}
    result: Fetched[T] = Fetched()
    for symbol in part:
        entry = by_symbol.get(symbol)
        try:
            if not isinstance(entry, Mapping):
                raise ProviderError(FailureKind.UNKNOWN_SYMBOL, f"not in {answer}")
            result.items.append(parse(symbol, entry))
        except ProviderError as exc:
            result.fail([symbol], exc)
    return result
