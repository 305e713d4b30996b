"""The page's view as a query string: view, time range (or a custom start and end), hidden stocks.

The URL is the page's memory: a link reproduces the view, and back/forward step
through changes. Reading is lenient: a bad or unknown value falls back to the
default and yields a short notice, never an error. Custom bounds are New York
wall-clock times to the second (what the chart's axis shows), e.g.
`?view=price&start=2026-11-30T10:00:00&end=2026-11-30T12:30:00&hide=GE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Protocol, TypeVar
from urllib.parse import parse_qs, urlencode

from core.records import TICKER_RE
from core.times import NEW_YORK


class _HasSymbol(Protocol):
    symbol: str


T = TypeVar("T", bound=_HasSymbol)
COMPARE, PRICE = "compare", "price"
VIEWS = {COMPARE: "Compare", PRICE: "Price"}
RANGES = {
    "1H": timedelta(hours=1),
    "1D": timedelta(days=1),
    "5D": timedelta(days=5),
    "7D": timedelta(days=7),
    # Read from hourly and daily bars (db/chart.py): as cheap to draw as the week.
    "1M": timedelta(days=30),
    "6M": timedelta(days=182),
    "1Y": timedelta(days=365),
    "5Y": timedelta(days=1826),
}
RANGE_NAMES = {
    "1H": "1 hour",
    "1D": "1 day",
    "5D": "5 days",
    "7D": "7 days",
    "1M": "1 month",
    "6M": "6 months",
    "1Y": "1 year",
    "5Y": "5 years",
}
CUSTOM = "custom"
DEFAULT_RANGE = "1D"
WALL_FORMAT = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class PageQuery:
    """What the user chose to see; `start`/`end` (UTC) only for a custom range."""

    view: str = COMPARE
    range: str = DEFAULT_RANGE
    start: datetime | None = None
    end: datetime | None = None
    hidden: frozenset[str] = frozenset()

    @property
    def custom(self) -> bool:
        return self.range == CUSTOM

    def span(self) -> timedelta:
        """How long the range is."""
        if self.custom and self.start and self.end:
            return self.end - self.start
        return RANGES[self.range]

    def shown(self, stocks: Sequence[T]) -> list[T]:
        """The stocks not hidden, in their order."""
        return [s for s in stocks if s.symbol not in self.hidden]

    def live_bounds(self, newest_ms: int) -> tuple[int, int]:
        """A preset range following live: its span, ending at the newest point (UTC ms)."""
        return newest_ms - int(self.span().total_seconds() * 1000), newest_ms

    def with_view(self, view: str) -> PageQuery:
        return replace(self, view=view)

    def with_range(self, key: str) -> PageQuery:
        """A preset range, following live."""
        return replace(self, range=key, start=None, end=None)

    def with_custom(self, start: datetime, end: datetime) -> PageQuery:
        """A fixed range the user zoomed or panned to."""
        return replace(self, range=CUSTOM, start=start, end=end)

    def toggled(self, symbol: str) -> PageQuery:
        """The same view with `symbol` shown if it was hidden, hidden if it was shown."""
        return replace(self, hidden=self.hidden ^ {symbol})

    def to_search(self) -> str:
        """The query string (with "?"), naming only what differs from the defaults."""
        pairs: list[tuple[str, str]] = []
        if self.view != COMPARE:
            pairs.append(("view", self.view))
        if self.custom and self.start and self.end:
            pairs += [("start", wall_text(self.start)), ("end", wall_text(self.end))]
        elif self.range != DEFAULT_RANGE:
            pairs.append(("range", self.range))
        if self.hidden:
            pairs.append(("hide", ",".join(sorted(self.hidden))))
        return "?" + urlencode(pairs, safe=",:") if pairs else ""


def wall_text(moment: datetime) -> str:
    """A UTC time as New York wall-clock text for the URL (with its offset when ambiguous)."""
    local = moment.astimezone(NEW_YORK)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return local.isoformat(timespec="seconds")  # 01:00-02:00 happens twice when DST ends
    return local.strftime(WALL_FORMAT)


def parse_wall(text: str) -> datetime | None:
    """New York wall-clock text from the URL as UTC, or None when it is not a time."""
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        return None
    if local.tzinfo is not None:
        return local.astimezone(timezone.utc)
    return local.replace(tzinfo=NEW_YORK).astimezone(timezone.utc)


def parse_query(search: str | None, longest: timedelta) -> tuple[PageQuery, list[str]]:
    """The query a URL asks for, and a notice for each value that was ignored.

    `longest` is the longest range the database serves: longer presets fall back.
    """
    values = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}
    notices: list[str] = []
    view = values.get("view", COMPARE).lower()
    if view not in VIEWS:
        notices.append(f"Unknown view “{_short(view)}”: showing {VIEWS[COMPARE]}.")
        view = COMPARE
    query = PageQuery(view=view, hidden=_hidden(values.get("hide", ""), notices))
    if "start" in values or "end" in values:
        start, end = parse_wall(values.get("start", "")), parse_wall(values.get("end", ""))
        if start and end and start < end:
            return query.with_custom(start, end), notices
        notices.append(f"That start and end do not make a range: showing {_name(DEFAULT_RANGE)}.")
        return query, notices
    key = values.get("range", DEFAULT_RANGE).upper()
    if key not in RANGES or RANGES[key] > longest:
        notices.append(f"Unknown range “{_short(key)}”: showing {_name(DEFAULT_RANGE)}.")
        key = DEFAULT_RANGE
    return query.with_range(key), notices


def _hidden(text: str, notices: list[str]) -> frozenset[str]:
    symbols = {s.strip().upper() for s in text.split(",") if s.strip()}
    bad = sorted(s for s in symbols if not TICKER_RE.match(s))
    if bad:
        notices.append(f"Ignored “{_short(', '.join(bad))}” in the hidden stocks.")
    return frozenset(symbols - set(bad))


def _name(key: str) -> str:
    return f"the last {RANGE_NAMES[key]}"


def _short(text: str) -> str:
    """A value from the URL, cut short for a notice (Dash escapes it as text)."""
    return text if len(text) <= 24 else text[:23] + "…"
