"""Checks that stand between a provider's answer and the database.

Every field is checked per row against what its column holds (db/models.py), so one
hostile value is one refused row, never a write of the whole batch rolled back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from core.records import TICKER_RE, Quote, StockProfile
from db.models import LOGO_URL_LENGTH, NAME_LENGTH, PRICE_PRECISION, PRICE_SCALE, SOURCE_LENGTH
from jobs.failures import Rejection, RejectionKind

Kind = RejectionKind
# The price columns' step and ceiling: a smaller price would be stored as 0 (against the
# tables' checks), a larger one overflows the column.
PRICE_STEP = Decimal(1).scaleb(-PRICE_SCALE)
PRICE_CEILING = Decimal(10) ** (PRICE_PRECISION - PRICE_SCALE) - PRICE_STEP
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)  # no feed's trade is older
# NUL is refused by PostgreSQL in any text; line breaks and the rest have no place in a name.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Observed(Protocol):
    """A quote or a profile: anything about one symbol."""

    @property
    def symbol(self) -> str: ...


T = TypeVar("T", bound=Observed)


@dataclass(frozen=True)
class Limits:
    """What counts as absurd: prices above max_price, times beyond now + max_future_skew."""

    max_price: Decimal = Decimal(10_000_000)
    max_future_skew: timedelta = timedelta(minutes=5)


def price_problem(price: Decimal | None, limits: Limits) -> tuple[Kind, str] | None:
    """Why a price cannot be stored, or None when it can."""
    if price is None:
        return Kind.MISSING, "price is missing"
    if not price.is_finite():
        return Kind.NOT_FINITE, f"price is not finite ({price})"
    if price <= 0:
        return Kind.NOT_POSITIVE, f"price is not positive ({price})"
    if price > limits.max_price or price > PRICE_CEILING:
        return Kind.ABSURD, f"price is absurd ({price} > {min(limits.max_price, PRICE_CEILING)})"
    if price < PRICE_STEP:
        return Kind.ABSURD, f"price is below the smallest step stored ({price} < {PRICE_STEP})"
    return None


def text_problem(value: str | None, field: str, longest: int) -> str | None:
    """Why a text field cannot be stored (too long for its column, control characters)."""
    if value is None:
        return None
    if len(value) > longest:
        return f"{field} is too long ({len(value):,} characters > {longest})"
    if CONTROL.search(value):
        return f"{field} has control characters"
    return None


def quote_problem(
    quote: Quote, now: datetime, limits: Limits, expected: frozenset[str]
) -> Rejection | None:
    """Why a quote cannot be stored, or None when it can."""
    problem = _quote_problem(quote, now, limits, expected)
    return Rejection(problem[0], quote.symbol or "?", problem[1]) if problem else None


def _quote_problem(
    quote: Quote, now: datetime, limits: Limits, expected: frozenset[str]
) -> tuple[Kind, str] | None:
    if not TICKER_RE.match(quote.symbol or ""):
        return Kind.MALFORMED, "symbol is malformed"
    if quote.symbol not in expected:
        return Kind.NOT_ASKED, "symbol was not asked for"
    problem = price_problem(quote.price, limits)
    if problem:
        return problem
    if quote.observed_at is None:
        return Kind.MISSING, "observation time is missing"
    if quote.observed_at.tzinfo is None:
        return Kind.TIME_ZONE, "observation time has no time zone"
    if quote.observed_at > now + limits.max_future_skew:
        return Kind.FUTURE, f"observation time {quote.observed_at.isoformat()} is in the future"
    if quote.observed_at < EARLIEST:
        return Kind.ABSURD, f"observation time {quote.observed_at.isoformat()} is before 1970"
    return None


def without_bad_previous_closes(
    quotes: Sequence[Quote], limits: Limits
) -> tuple[list[Quote], dict[str, str]]:
    """The quotes, each previous close that is no valid price left out, and why per symbol.

    A previous close is checked like a price, but only it is dropped: the quote stays.
    """
    kept: list[Quote] = []
    dropped: dict[str, str] = {}
    for quote in quotes:
        problem = (
            None if quote.previous_close is None else price_problem(quote.previous_close, limits)
        )
        if problem is None:
            kept.append(quote)
        else:
            kept.append(replace(quote, previous_close=None))
            dropped[quote.symbol] = f"previous close: {problem[1]}"
    return kept, dropped


def logo_problem(url: str | None) -> str | None:
    """Logos must be http(s) URLs or paths on this site; anything else could run script."""
    if url is None:
        return None
    problem = text_problem(url, "logo URL", LOGO_URL_LENGTH)
    if problem:
        return problem
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    if not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//"):
        return None
    return "logo URL must be http(s) or a path on this site"


def profile_problem(
    profile: StockProfile, limits: Limits, expected: frozenset[str]
) -> Rejection | None:
    """Why a profile cannot be stored, or None when it can."""
    problem = _profile_problem(profile, limits, expected)
    return Rejection(problem[0], profile.symbol or "?", problem[1]) if problem else None


def _profile_problem(
    profile: StockProfile, limits: Limits, expected: frozenset[str]
) -> tuple[Kind, str] | None:
    if not TICKER_RE.match(profile.symbol or "") or profile.symbol not in expected:
        return Kind.MALFORMED, "symbol is malformed or was not asked for"
    problem = text_problem(profile.company_name, "company name", NAME_LENGTH)
    if problem:
        return Kind.NAME, problem
    problem = text_problem(profile.source, "source", SOURCE_LENGTH)
    if problem:
        return Kind.MALFORMED, problem
    problem = logo_problem(profile.logo_url)
    if problem:
        return Kind.LOGO, problem
    high, low = profile.week52_high, profile.week52_low
    if (high is None) != (low is None):
        return Kind.WEEK52, "52-week band is incomplete"
    if high is not None and low is not None:
        band = price_problem(high, limits) or price_problem(low, limits)
        if band:
            return band[0], f"52-week band: {band[1]}"  # counted by what is wrong with it
        if low > high:
            return Kind.WEEK52, f"52-week low {low} is above the high {high}"
    return None


def split_valid(
    items: Sequence[T], problem_of: Callable[[T], Rejection | None]
) -> tuple[list[T], dict[str, Rejection]]:
    """Keep the items with no problem; name each rejected symbol with its rejection."""
    valid: list[T] = []
    rejected: dict[str, Rejection] = {}
    for item in items:
        rejection = problem_of(item)
        if rejection is None:
            valid.append(item)
        else:
            rejected[rejection.symbol] = rejection
    return valid, rejected
