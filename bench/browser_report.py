"""The browser bench's figures per case, its table and its targets (PASS/FAIL)."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field

from browser_probe import Load

KB = 1000


@dataclass
class Case:
    """What one browser saw of one server: two loads and the ticks after them."""

    cold: Load
    warm: Load
    tick_busy_ms: list[float] = field(default_factory=list)  # long tasks' sum per tick window
    tick_trace_ms: list[float] = field(default_factory=list)  # RunTask sum per tick window
    tick_trace_long_ms: list[float] = field(default_factory=list)  # RunTasks >= 50 ms, per window
    tick_parts_ms: dict[str, float] = field(default_factory=dict)  # per tick, by kind
    tick_calls_ms: list[tuple[str, float]] = field(default_factory=list)  # per tick, heaviest
    longest_task_ms: float = 0.0
    tick_bytes: list[int] = field(default_factory=list)
    tick_ms: list[float] = field(default_factory=list)  # request sent to answer read


def busy_per_tick(ticks: list[list[float | None]], longtasks: list[list[float]]) -> list[float]:
    """The long tasks' total ms in each tick's window: from its request to the next tick's."""
    starts = [t[0] for t in ticks]
    windows = itertools.pairwise(starts)
    return [sum(d for s, d in longtasks if a <= s < b) for a, b in windows]


def p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# (label, how to read it from a Case, format, target per stock count or None)
def _ms(v):
    return "—" if v is None else f"{v:,.0f} ms"


def _drawn(v):
    return "not in 60 s" if v is None else _ms(v)


def _kb(v):
    return "—" if v is None else f"{v / KB:,.1f} KB"


NO_FREEZE = {6: ("≤", 50), 30: ("≤", 100)}  # long tasks' ms per tick, p95 (issue 10, point 1)
# The same limits held to every task, long or not: stricter than the issue asks, shown
# so that what a tick costs in all is in view.
ALL_WORK = {6: ("≤", 50), 30: ("≤", 100)}
ROWS = [
    ("chart drawn, cold", lambda c: c.cold.drawn_ms, _drawn, {6: ("≤", 1000)}),
    ("chart drawn, warm (reload)", lambda c: c.warm.drawn_ms, _drawn, {6: ("≤", 500)}),
    ("bytes, cold", lambda c: c.cold.bytes, _kb, {6: ("≤", 1_600_000), 30: ("≤", 1_600_000)}),
    ("requests, cold", lambda c: c.cold.requests, str, None),
    ("bytes, warm (reload)", lambda c: c.warm.bytes, _kb, {6: ("≤", 300_000), 30: ("≤", 300_000)}),
    ("requests, warm", lambda c: c.warm.requests, str, None),
    ("bytes per tick (median)", lambda c: median(c.tick_bytes), _kb, {6: ("≤", 2000)}),
    ("tick answer ms (median)", lambda c: median(c.tick_ms), _ms, None),
    ("long tasks per tick, median", lambda c: median(c.tick_busy_ms), _ms, None),
    ("long tasks per tick, p95", lambda c: p95(c.tick_busy_ms), _ms, NO_FREEZE),
    ("long tasks per tick, max", lambda c: max(c.tick_busy_ms, default=None), _ms, None),
    ("long tasks per tick (trace), p95", lambda c: p95(c.tick_trace_long_ms), _ms, NO_FREEZE),
    (
        "long tasks per tick (trace), max",
        lambda c: max(c.tick_trace_long_ms, default=None),
        _ms,
        None,
    ),
    ("busy per tick (trace), median", lambda c: median(c.tick_trace_ms), _ms, None),
    ("busy per tick (trace), p95", lambda c: p95(c.tick_trace_ms), _ms, ALL_WORK),
    ("busy per tick (trace), max", lambda c: max(c.tick_trace_ms, default=None), _ms, None),
    ("longest task after load", lambda c: c.longest_task_ms, _ms, None),
    ("ticks measured", lambda c: len(c.tick_busy_ms), str, None),
]


def verdict(value, target) -> str:
    if target is None:
        return ""
    _, limit = target
    if value is None:
        return "FAIL (none)"
    return "PASS" if value <= limit else "FAIL"


def print_table(stocks: int, on: Case, off: Case | None) -> None:
    """One table per stock count: compression and caching on, off, and the target."""
    print(f"\n{stocks} stocks (Compare 1D, the default page)")
    head = f"{'':30} {'on':>12} {'off':>12}   target"
    print(head)
    print("-" * len(head))
    for label, read, fmt, targets in ROWS:
        value = read(on)
        target = (targets or {}).get(stocks)
        other = fmt(read(off)) if off is not None else "n/a"
        goal = f"{target[0]} {fmt(target[1])}  {verdict(value, target)}" if target else ""
        print(f"{label:30} {fmt(value):>12} {other:>12}   {goal}")
    for name, case in (("on", on), ("off", off)):
        if case is not None and case.tick_parts_ms:
            parts = ", ".join(f"{k} {v:.0f} ms" for k, v in case.tick_parts_ms.items())
            print(f"  {name}: a tick window's main thread, on average: {parts}")
            calls = "; ".join(f"{k} {v:.0f} ms" for k, v in case.tick_calls_ms)
            print(f"  {name}: its heaviest outermost calls, per tick: {calls}")
