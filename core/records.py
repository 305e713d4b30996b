"""Domain records: what a ticker looks like, and what providers observe about stocks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# Letters first, then letters/digits, optionally a class suffix: AAPL, BRK.B, BF-B.
TICKER_RE = re.compile(r"^[A-Z][A-Z0-9]{0,6}(?:[.-][A-Z0-9]{1,3})?$")


@dataclass(frozen=True, slots=True)
class Quote:
    """A price observed for a symbol at the provider's own observation time.

    `previous_close` is the close of the session before the one `observed_at` falls
    in, when the provider's answer carries it.
    """

    symbol: str
    price: Decimal | None
    observed_at: datetime | None
    simulated: bool = False
    previous_close: Decimal | None = None


@dataclass(frozen=True, slots=True)
class StockProfile:
    """What a provider says about a stock: its name, logo and 52-week band."""

    symbol: str
    company_name: str | None = None
    logo_url: str | None = None
    week52_high: Decimal | None = None
    week52_low: Decimal | None = None
    source: str | None = None
    simulated: bool = False


@dataclass(frozen=True, slots=True)
class DailyBar:
    """A provider's open/high/low/close of one trading day (New York date), with its session."""

    symbol: str
    day: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    open_at: datetime  # the session's first second (UTC)
    close_at: datetime  # its last second
    simulated: bool = False
