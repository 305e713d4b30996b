"""The JSON API's query parameters: read strictly, each bad one a ParameterError naming it.

Times are ISO-8601 with a zone (`Z` or an offset); a time without one is refused
rather than guessed. Resolutions map to one bar width each (TICKS for raw
prices); the cursor is opaque to clients: base64url of the last row's key and of
what the first page settled (the resolution `auto` chose, the end `now` was).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from core.records import TICKER_RE
from db.exports import TICKS, Key

AUTO = "auto"
# The one mapping of a resolution to the width of what is read (seconds; TICKS: raw prices).
# A day's bar is the New York trading date's, keyed by its midnight there (db/rollups.py).
RESOLUTIONS: dict[str, int] = {"tick": TICKS, "1m": 60, "5m": 300, "1h": 3600, "1d": 86400}
NAMES = {width: name for name, width in RESOLUTIONS.items()}
DEFAULT_SPAN = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)
PRICE_PARAMETERS = ("symbols", "start", "end", "resolution", "limit", "cursor")


class ParameterError(ValueError):
    """A request the API refuses: the parameter at fault, the message, the HTTP status."""

    def __init__(self, parameter: str | None, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.parameter, self.message, self.status = parameter, message, status


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts, and what the first page settled."""

    key: Key  # the last row read
    width: int  # the level the first page read ("auto" is settled once)
    end: datetime  # the first page's end ("now" is settled once)


@dataclass(frozen=True, slots=True)
class PriceQuery:
    """A /api/v1/prices request, checked; None where the caller decides (watchlist, now, auto)."""

    symbols: tuple[str, ...] | None
    start: datetime | None
    end: datetime | None
    width: int | None  # None: auto
    limit: int
    cursor: Cursor | None

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """[start, end) in whole milliseconds: end the cursor's or now, start a day before end.

        Stored times are whole milliseconds, so rounding both bounds up selects the very
        same rows, and the millisecond text of `next` names the same window exactly.
        """
        end = self.end or (self.cursor.end if self.cursor else now)
        try:
            start = _ms_up(self.start or end - DEFAULT_SPAN)
            end = _ms_up(end)
        except OverflowError:  # at the ends of the calendar
            raise ParameterError("end", "end is out of range") from None
        if start >= end:
            raise ParameterError("start", "start must be before end")
        return start, end


def parse_price_args(args: Mapping[str, Sequence[str]], max_rows: int) -> PriceQuery:
    """A request's query (name -> values) as a PriceQuery; ParameterError on the first bad one."""
    for name in args:
        if name not in PRICE_PARAMETERS:
            raise ParameterError(name, f"unknown parameter {name!r}")
    values = {name: _once(name, vs) for name, vs in args.items()}
    start, end = (parse_utc(values[n], n) if n in values else None for n in ("start", "end"))
    if start and end and start >= end:
        raise ParameterError("start", "start must be before end")
    cursor = decode_cursor(values["cursor"]) if "cursor" in values else None
    width = parse_resolution(values.get("resolution", AUTO))
    if cursor is not None and width is not None and width != cursor.width:
        given = NAMES[cursor.width]
        raise ParameterError("cursor", f"this cursor continues resolution {given}")
    symbols = parse_symbols(values["symbols"]) if "symbols" in values else None
    if cursor is not None and symbols is not None and cursor.key.symbol not in symbols:
        raise ParameterError("cursor", "this cursor belongs to other symbols")
    limit = _limit(values.get("limit"), max_rows)
    return PriceQuery(symbols, start, end, cursor.width if cursor else width, limit, cursor)


def _once(name: str, values: Sequence[str]) -> str:
    if len(values) != 1:
        raise ParameterError(name, f"give {name} once")
    return values[0]


def parse_utc(text: str, parameter: str) -> datetime:
    """An ISO-8601 time with `Z` or an offset, as UTC; a time without a zone is refused."""
    try:
        moment = datetime.fromisoformat(text.strip())
        utc = moment.astimezone(timezone.utc) if moment.tzinfo else None
    except (ValueError, OverflowError):
        raise ParameterError(parameter, f"{parameter} is not an ISO-8601 time") from None
    if utc is None:
        example = "e.g. 2026-11-27T15:00:00Z"
        raise ParameterError(parameter, f"{parameter} needs a UTC offset or Z, {example}")
    return utc


def parse_resolution(text: str) -> int | None:
    """A resolution's width (seconds, TICKS for raw prices), or None for auto."""
    name = text.strip().lower()
    if name == AUTO:
        return None
    if name not in RESOLUTIONS:
        choices = ", ".join([AUTO, *RESOLUTIONS])
        raise ParameterError("resolution", f"resolution must be one of {choices}")
    return RESOLUTIONS[name]


def parse_symbols(text: str) -> tuple[str, ...]:
    """Comma-separated tickers, upper-cased, each once, in the order given."""
    symbols: list[str] = []
    for part in text.split(","):
        symbol = part.strip().upper()
        if not symbol:
            raise ParameterError("symbols", "symbols has an empty name (two commas?)")
        if not TICKER_RE.match(symbol):
            raise ParameterError("symbols", f"{symbol[:24]!r} is not a ticker symbol")
        if symbol not in symbols:
            symbols.append(symbol)
    return tuple(symbols)


def _limit(text: str | None, max_rows: int) -> int:
    if text is None:
        return max_rows
    try:
        limit = int(text)
    except ValueError:
        raise ParameterError("limit", "limit must be a whole number") from None
    if not 1 <= limit <= max_rows:
        raise ParameterError("limit", f"limit must be from 1 to {max_rows}")
    return limit


def encode_cursor(cursor: Cursor) -> str:
    """The cursor as URL-safe text."""
    # Whole microseconds, what the databases keep: a key read back is the key stored.
    payload = [cursor.key.symbol, _micros(cursor.key.at), cursor.width, _micros(cursor.end)]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    """A cursor made by encode_cursor; ParameterError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        symbol, at_us, width, end_us = json.loads(raw)
        valid = (
            isinstance(symbol, str)
            and TICKER_RE.match(symbol)
            and width in NAMES
            and all(type(v) is int for v in (at_us, end_us))
        )
        if valid:
            at, end = (EPOCH + us * MICROSECOND for us in (at_us, end_us))
            return Cursor(Key(symbol, at), width, end)
    except (binascii.Error, ValueError, TypeError, OverflowError, OSError):
        pass
    raise ParameterError("cursor", "cursor is not one this API gave")


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def _ms_up(moment: datetime) -> datetime:
    """The first whole millisecond at or after `moment`."""
    return moment + (-moment.microsecond % 1000) * MICROSECOND
