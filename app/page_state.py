"""The page's own state, kept in the browser: what the chart holds, and live or zoomed.

Both travel as dcc.Store data, so any worker can answer any request. Whatever
a browser sends back is read leniently: a store that is missing, old or
malformed reads as "nothing loaded" (the next tick reloads the window) or as
"following live", never as an error. Times are UTC epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from core.times import to_ms

FOLLOWING_LIVE = "Following live"
ZOOMED = "Zoomed: live updates continue"


def _is_ms(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class PageState:
    """What the page's chart holds: a window for these stocks, drawn up to each one's last point.

    Stored as {"ok", "fp", "last", "since"}: short keys, because it travels
    with every tick.
    """

    loaded: bool = False
    fingerprint: str = ""  # patches.fingerprint of the stocks the window was drawn for
    last_ms: Mapping[str, int] = field(default_factory=dict)  # each stock's newest point
    since_ms: int = 0  # the start of the window

    @classmethod
    def from_store(cls, data: object) -> PageState:
        """The state a browser sent back; anything but a well-formed loaded state is unloaded."""
        if not isinstance(data, dict) or data.get("ok") is not True:
            return NOT_LOADED
        fp, last, since = data.get("fp"), data.get("last"), data.get("since")
        if not (isinstance(fp, str) and isinstance(last, dict) and _is_ms(since)):
            return NOT_LOADED
        if not all(isinstance(k, str) and _is_ms(v) for k, v in last.items()):
            return NOT_LOADED
        return cls(True, fp, dict(last), since)

    def to_store(self) -> dict:
        """The store's JSON-ready data."""
        if not self.loaded:
            return {"ok": False}
        return {
            "ok": True,
            "fp": self.fingerprint,
            "last": dict(self.last_ms),
            "since": self.since_ms,
        }

    def with_points(self, last_ms: Mapping[str, int]) -> PageState:
        """The same window, drawn up to these newer points as well."""
        merged = {**self.last_ms, **last_ms}
        return PageState(self.loaded, self.fingerprint, merged, self.since_ms)


NOT_LOADED = PageState()


@dataclass(frozen=True)
class ViewMode:
    """Following live, or zoomed by the user on a range (UTC ms) that ticks must not undo.

    Stored as {"mode": "live"} or {"mode": "zoomed", "range": [start, end]}.
    """

    zoom_ms: tuple[int, int] | None = None

    @classmethod
    def zoomed(cls, start: datetime, end: datetime) -> ViewMode:
        """Zoomed on [start, end]."""
        return cls((to_ms(start), to_ms(end)))

    @property
    def following_live(self) -> bool:
        return self.zoom_ms is None

    @property
    def label(self) -> str:
        """What the page says about it, next to the "Follow live" button."""
        return FOLLOWING_LIVE if self.following_live else ZOOMED

    @classmethod
    def from_store(cls, data: object) -> ViewMode:
        """The mode a browser sent back; anything but a well-formed zoom is following live."""
        if isinstance(data, dict) and data.get("mode") == "zoomed":
            bounds = data.get("range")
            if isinstance(bounds, list) and len(bounds) == 2 and all(map(_is_ms, bounds)):
                return cls((bounds[0], bounds[1]))
        return LIVE

    def to_store(self) -> dict:
        """The store's JSON-ready data."""
        if self.zoom_ms is None:
            return {"mode": "live"}
        return {"mode": "zoomed", "range": list(self.zoom_ms)}


LIVE = ViewMode()
