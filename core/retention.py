"""How long each level of prices is kept: raw ticks, then bars of a minute up to a day.

Pure: the settings give each level a number of days (0, or "forever", keeps it
for good) and `Retention.kept_from(now)` says from when each level is whole. The
retention job deletes what is older; the chart reads a level only over the time
it still holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field

MINUTE, FIVE_MINUTES, HOUR, DAY = 60, 300, 3600, 86_400  # bar widths, seconds
TICKS = 0  # the raw ticks' level, beside the bar widths


def _forever(value: object) -> object:
    """`forever` (any case, trimmed) is 0: keep for good; other text must be a number."""
    if not isinstance(value, str):
        return value
    if value.strip().lower() == "forever":
        return 0
    try:
        return float(value)
    except ValueError:
        raise ValueError("must be a number of days, or 0 or 'forever' to keep for good") from None


# Days to keep a level; 0 keeps it for good.
KeepDays = Annotated[float, BeforeValidator(_forever), Field(ge=0, le=36_500)]


@dataclass(frozen=True)
class Retention:
    """Days kept per level (TICKS or a bar width); 0 or absent keeps a level for good."""

    days: Mapping[int, float] = field(default_factory=dict)

    def limit(self, level: int) -> timedelta | None:
        """How far back a level is kept, or None when it is kept for good."""
        days = self.days.get(level, 0)
        return timedelta(days=days) if days > 0 else None

    def kept_from(self, now: datetime) -> dict[int, datetime | None]:
        """Per level, the oldest time still kept at `now` (None: everything is kept)."""
        return {
            level: (now - limit if (limit := self.limit(level)) is not None else None)
            for level in (TICKS, MINUTE, FIVE_MINUTES, HOUR, DAY)
        }

    @property
    def active(self) -> bool:
        """Whether any level is ever removed."""
        return any(days > 0 for days in self.days.values())


KEEP_EVERYTHING = Retention()
