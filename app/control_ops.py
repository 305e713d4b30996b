"""The page's control clicks as numbered operations, applied in order to the URL's query.

assets/page.js numbers each click on a view, a range, "Follow live" or a card, and sends
every one the server has not yet applied; on_control applies those after the last applied
number to the URL it has, and answers the new URL with that number. Two clicks within one
round trip then both count: the second request carries both operations and the URL from
before the first answer (whose result Dash drops, as it drops any superseded answer).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from app.query import VIEWS, PageQuery
from core.records import TICKER_RE

MOST_OPS = 100  # page.js drops the applied ones: more pending than this is hand-made
MOST_HIDDEN = 10_000  # STOCKSTREAMER_MAX_SYMBOLS's own limit


@dataclass(frozen=True)
class Op:
    """One click: `kind` is view, range, live or hidden (the whole set of hidden stocks)."""

    number: int
    kind: str
    value: object


def pending_ops(data: object, applied: int, ranges: Collection[str]) -> list[Op] | None:
    """The operations numbered after `applied`, in order; None for data page.js never sends."""
    if data is None:
        return []
    ops = data.get("ops") if isinstance(data, dict) else None
    if not isinstance(ops, list) or len(ops) > MOST_OPS:
        return None
    parsed = [_op(entry, ranges) for entry in ops]
    if any(op is None for op in parsed):
        return None
    numbers = [op.number for op in parsed]  # type: ignore[union-attr]
    if numbers != sorted(set(numbers)):
        return None
    return [op for op in parsed if op.number > applied]  # type: ignore[union-attr]


def apply_ops(query: PageQuery, ops: list[Op], preset: str) -> PageQuery:
    """The query after each operation in turn; "live" returns to the last preset range."""
    for op in ops:
        if op.kind == "view":
            query = query.with_view(str(op.value))
        elif op.kind == "range":
            query, preset = query.with_range(str(op.value)), str(op.value)
        elif op.kind == "live":
            query = query.with_range(preset)
        else:
            query = replace(query, hidden=frozenset(op.value))  # type: ignore[arg-type]
    return query


def _op(entry: object, ranges: Collection[str]) -> Op | None:
    if not (isinstance(entry, list) and len(entry) == 3):
        return None
    number, kind, value = entry
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        return None
    if kind == "view":
        ok = isinstance(value, str) and value in VIEWS
    elif kind == "range":
        ok = isinstance(value, str) and value in ranges
    elif kind == "live":
        ok = value is None
    elif kind == "hidden":
        ok = isinstance(value, list) and len(value) <= MOST_HIDDEN and all(map(_ticker, value))
    else:
        ok = False
    return Op(number, kind, value) if ok else None


def _ticker(value: object) -> bool:
    return isinstance(value, str) and TICKER_RE.match(value) is not None
