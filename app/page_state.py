"""What the page's chart holds, kept in the browser so that any worker can answer its next tick.

It travels as dcc.Store data with every tick, so its keys are short. Whatever a
browser sends back is read leniently: a store that is missing, old or malformed
reads as "nothing loaded" (the next tick draws the whole view again), never as
an error. Times are UTC epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from app.query import DEFAULT_RANGE, RANGES

MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z: the last time a datetime holds


def _is_ms(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_MS


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class PageState:
    """A drawn view: its query and theme, each stock's newest point, baselines and axis ranges."""

    loaded: bool = False
    search: str = ""  # the query string the view was drawn for
    theme: str = "light"
    fingerprint: str = ""  # patches.fingerprint of the stocks shown
    last_ms: Mapping[str, int] = field(default_factory=dict)  # each stock's newest point
    since_ms: int = 0  # where the window read began
    base: Mapping[str, float] = field(default_factory=dict)  # compare: each stock's 0%
    y: Mapping[str, list[float]] = field(default_factory=dict)  # each y axis's range
    preset: str = DEFAULT_RANGE  # the range "Follow live" returns to
    compact: bool = False  # drawn for a phone: narrow margins, no drag (a swipe scrolls)
    cards: str = ""  # patches.fingerprint of every stock: the cards the page holds
    logo_y: Mapping[str, float] = field(default_factory=dict)  # Compare: where each logo is
    notes: str = ""  # a digest of the status lines shown, so that a tick resends them only changed

    @property
    def newest_ms(self) -> int | None:
        """The newest point on the chart: the live edge."""
        return max(self.last_ms.values(), default=None)

    @classmethod
    def from_store(cls, data: object) -> PageState:
        """The state a browser sent back; anything but a well-formed loaded state is unloaded."""
        if not isinstance(data, dict) or data.get("ok") is not True:
            return NOT_LOADED
        q, th, fp, last, since = (data.get(k) for k in ("q", "th", "fp", "last", "since"))
        base, y, preset = data.get("base"), data.get("y"), data.get("preset")
        well_formed = (
            isinstance(q, str)
            and th in ("light", "dark")
            and isinstance(fp, str)
            and _is_ms(since)
            and preset in RANGES
            and isinstance(last, dict)
            and all(isinstance(k, str) and _is_ms(v) for k, v in last.items())
            and isinstance(base, dict)
            and all(isinstance(k, str) and _is_number(v) and v > 0 for k, v in base.items())
            and isinstance(y, dict)
            and all(_is_bounds(v) for v in y.values())
        )
        if not well_formed:
            return NOT_LOADED
        # Later additions, read leniently: a missing or odd value only costs a redraw.
        compact = data.get("cp", False) is True
        cards = data.get("cfp") if isinstance(data.get("cfp"), str) else ""
        notes = data.get("nt") if isinstance(data.get("nt"), str) else ""
        ly = data.get("ly")
        logo_y = (
            {k: float(v) for k, v in ly.items() if isinstance(k, str) and _is_number(v)}
            if isinstance(ly, dict)
            else {}
        )
        return cls(
            True,
            q,
            th,
            fp,
            dict(last),
            since,
            dict(base),
            dict(y),
            preset,
            compact,
            cards,
            logo_y,
            notes,
        )

    def to_store(self) -> dict:
        """The store's JSON-ready data."""
        if not self.loaded:
            return {"ok": False}
        return {
            "ok": True,
            "q": self.search,
            "th": self.theme,
            "fp": self.fingerprint,
            "last": dict(self.last_ms),
            "since": self.since_ms,
            "base": dict(self.base),
            "y": {k: list(v) for k, v in self.y.items()},
            "preset": self.preset,
            "cp": self.compact,
            "cfp": self.cards,
            "ly": dict(self.logo_y),
            "nt": self.notes,
        }

    def with_points(
        self,
        last_ms: Mapping[str, int],
        y: Mapping[str, list[float]],
        logo_y: Mapping[str, float] | None = None,
    ) -> PageState:
        """The same view, drawn up to newer points, with axes widened and logos moved."""
        return replace(
            self,
            last_ms={**self.last_ms, **last_ms},
            y={**self.y, **y},
            logo_y={**self.logo_y, **(logo_y or {})},
        )


def _is_bounds(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(map(_is_number, value))
        and value[0] < value[1]
    )


NOT_LOADED = PageState()
