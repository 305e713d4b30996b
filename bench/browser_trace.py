"""The renderer's main thread in a DevTools trace: busy time per tick window, and on what."""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from pathlib import PurePosixPath

SCRIPT = {
    "EvaluateScript",
    "FunctionCall",
    "TimerFire",
    "RunMicrotasks",
    "EventDispatch",
    "FireAnimationFrame",
    "XHRReadyStateChange",
    "v8.callFunction",
}
RENDER = {
    "UpdateLayoutTree",
    "Layout",
    "PrePaint",
    "Paint",
    "Layerize",
    "Commit",
    "ParseAuthorStyleSheet",
    "HitTest",
}
TICK_OWN_US = 500_000
GC = {"MinorGC", "MajorGC", "V8.GC_SCAVENGER", "V8.GC_MARK_COMPACTOR"}


def _page_main_thread(trace: list[dict], after: float) -> tuple[int, int] | None:
    """The CrRendererMain thread with the most RunTask time after `after` (the page's)."""
    mains = {
        (e["pid"], e["tid"])
        for e in trace
        if e.get("ph") == "M" and e.get("args", {}).get("name") == "CrRendererMain"
    }
    time_on: dict[tuple[int, int], float] = {}
    for e in trace:
        key = (e.get("pid"), e.get("tid"))
        if e.get("name") == "RunTask" and key in mains and e.get("ts", 0) >= after:
            time_on[key] = time_on.get(key, 0) + e.get("dur", 0)
    return max(time_on, key=time_on.get) if time_on else None


def trace_busy_per_tick(trace: list[dict]) -> tuple[list[float], dict[str, float]]:
    """The page's main-thread RunTask ms per tick window (between the probe's marks),
    and what those windows spent it on, in ms: script (outermost calls), rendering
    (style, layout, paint), GC, and the rest of the tasks."""
    marks = sorted(e["ts"] for e in trace if e.get("name") == "bench-tick")
    thread = _page_main_thread(trace, marks[0]) if marks else None
    if len(marks) < 2 or thread is None:
        return [], {}
    events = _on_thread(trace, thread, marks)
    tasks = [e for e in events if e["name"] == "RunTask"]
    busy = [
        sum(t.get("dur", 0) for t in tasks if a <= t["ts"] < b) / 1000
        for a, b in itertools.pairwise(marks)
    ]
    # The tick's own work (its answer applied, the chart redrawn) comes in its first
    # 0.5 s; the rest of the window is the 1-s clock and other timers.
    parts_first = [
        sum(t.get("dur", 0) for t in tasks if a <= t["ts"] < min(b, a + TICK_OWN_US)) / 1000
        for a, b in itertools.pairwise(marks)
    ]
    parts = {"script": 0.0, "rendering": 0.0, "GC": 0.0}
    scripts = sorted((e for e in events if e["name"] in SCRIPT), key=lambda e: e["ts"])
    end = -1.0
    for e in scripts:  # outermost only: nested calls are inside their caller's time
        if e["ts"] >= end:
            parts["script"] += e.get("dur", 0) / 1000
            end = e["ts"] + e.get("dur", 0)
    parts["rendering"] = sum(e.get("dur", 0) for e in events if e["name"] in RENDER) / 1000
    parts["GC"] = sum(e.get("dur", 0) for e in events if e["name"] in GC) / 1000
    parts["other"] = max(0.0, sum(busy) - sum(parts.values()))
    parts = {k: v / max(1, len(busy)) for k, v in parts.items()}
    parts["of which in the tick's first 0.5 s"] = sum(parts_first) / max(1, len(busy))
    return busy, parts


def trace_long_tasks_per_tick(trace: list[dict], over_ms: float = 50.0) -> list[float]:
    """The page's main-thread tasks of `over_ms` or more (long tasks), summed per tick window."""
    marks = sorted(e["ts"] for e in trace if e.get("name") == "bench-tick")
    thread = _page_main_thread(trace, marks[0]) if marks else None
    if len(marks) < 2 or thread is None:
        return []
    tasks = [
        e
        for e in _on_thread(trace, thread, marks)
        if e["name"] == "RunTask" and e.get("dur", 0) >= over_ms * 1000
    ]
    return [
        sum(t["dur"] for t in tasks if a <= t["ts"] < b) / 1000
        for a, b in itertools.pairwise(marks)
    ]


def heaviest_calls(trace: list[dict], top: int = 4) -> list[tuple[str, float]]:
    """The outermost script and rendering events with the most ms per tick window, by what ran."""
    marks = sorted(e["ts"] for e in trace if e.get("name") == "bench-tick")
    thread = _page_main_thread(trace, marks[0]) if marks else None
    if len(marks) < 2 or thread is None:
        return []
    totals: Counter[str] = Counter()
    fires: Counter[str] = Counter()
    end = -1.0
    events = sorted(_on_thread(trace, thread, marks), key=lambda e: e["ts"])
    calls = [e for e in events if e["name"] == "FunctionCall"]
    call_times = [c["ts"] for c in calls]
    for e in events:
        if e["name"] in RENDER:
            totals[e["name"]] += e.get("dur", 0) / 1000
        elif e["name"] in SCRIPT and e["ts"] >= end:
            end = e["ts"] + e.get("dur", 0)
            # The first function the event ran: the first call starting inside it.
            k = bisect.bisect_left(call_times, e["ts"])
            k += k < len(calls) and calls[k] is e
            inner = calls[k] if k < len(calls) and call_times[k] < end else e
            label = _label(e) if inner is e else f"{e['name']} → {_label(inner)}"
            totals[label] += e.get("dur", 0) / 1000
            fires[label] += 1
    windows = len(marks) - 1
    return [
        (f"{k} [{fires[k] / windows:.1f}× a tick]" if fires[k] else k, v / windows)
        for k, v in totals.most_common(top)
    ]


def _on_thread(trace: list[dict], thread: tuple[int, int], marks: list[float]) -> list[dict]:
    return [
        e
        for e in trace
        if (e.get("pid"), e.get("tid")) == thread
        and e.get("ph") == "X"
        and marks[0] <= e["ts"] < marks[-1]
    ]


def _label(event: dict) -> str:
    """What a script event ran: its function and file, the event type, or its name."""
    data = event.get("args", {}).get("data", {}) or {}
    if data.get("functionName") or data.get("url"):
        where = PurePosixPath(str(data.get("url", "")).split("?")[0]).name
        return f"{event['name']} {data.get('functionName') or '(anonymous)'} ({where})"
    if data.get("type"):
        return f"{event['name']} {data['type']}"
    return event["name"]
