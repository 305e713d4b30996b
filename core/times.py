"""Time in one place: the UTC clock, epoch milliseconds, and the exchange's wall clock.

The database, the page's state and the chart all speak UTC epoch milliseconds;
the chart's axis shows New York wall-clock time (plotly has no time zones).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

Clock = Callable[[], datetime]
EXCHANGE_TZ = "America/New_York"
NEW_YORK = ZoneInfo(EXCHANGE_TZ)


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(timezone.utc)


def to_ms(moment: datetime) -> int:
    """An aware datetime as whole UTC epoch milliseconds (earlier ones are cut, not rounded)."""
    return int(moment.timestamp() * 1000)


def from_ms(value: float) -> datetime:
    """UTC epoch milliseconds as an aware datetime."""
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def whole_ms(at: datetime) -> datetime:
    """A time truncated to the millisecond: what the database stores and the page reads back."""
    return at.replace(microsecond=at.microsecond - at.microsecond % 1000)


# Up to this many points the zone is asked point by point: pandas costs ~0.2 ms a call
# whatever the length, most of a tick's CPU when a thousand viewers each append a few points.
FEW_POINTS = 32


def to_exchange_ms(utc_ms: Sequence[int]) -> list[int]:
    """UTC epoch ms -> epoch ms of the New York wall clock (DST handled per point)."""
    if len(utc_ms) == 0:
        return []
    if len(utc_ms) <= FEW_POINTS:
        return [int(ms) + _exchange_offset_ms(int(ms) // 1000) for ms in utc_ms]
    index = pd.to_datetime(np.asarray(utc_ms, dtype="int64"), unit="ms", utc=True)
    local = index.tz_convert(EXCHANGE_TZ).tz_localize(None).as_unit("ms")
    return local.asi8.tolist()


def _exchange_offset_ms(utc_seconds: int) -> int:
    """New York's offset from UTC at that instant, in ms (offsets change on whole seconds)."""
    offset = datetime.fromtimestamp(utc_seconds, NEW_YORK).utcoffset()
    assert offset is not None
    return (offset.days * 86400 + offset.seconds) * 1000


def utc_of_exchange_text(text: str) -> datetime:
    """A date string from the chart's axis (New York wall clock) as an aware UTC datetime."""
    local = pd.Timestamp(text).tz_localize(
        EXCHANGE_TZ, ambiguous=False, nonexistent="shift_forward"
    )
    return local.tz_convert("UTC").to_pydatetime().astimezone(timezone.utc)
