"""The page's numbered control operations: which are pending, and the query after them."""

from __future__ import annotations

from datetime import datetime, timezone

from app.control_ops import MOST_OPS, Op, apply_ops, pending_ops
from app.query import PageQuery

RANGES = ["1H", "1D", "5D", "7D"]
START = datetime(2026, 11, 27, 15, tzinfo=timezone.utc)
END = datetime(2026, 11, 27, 16, tzinfo=timezone.utc)


def test_only_the_operations_after_the_applied_number_are_pending():
    data = {"ops": [[1, "view", "price"], [2, "range", "5D"], [3, "live", None]]}
    assert [op.number for op in pending_ops(data, 0, RANGES)] == [1, 2, 3]
    assert pending_ops(data, 2, RANGES) == [Op(3, "live", None)]
    assert pending_ops(data, 3, RANGES) == []
    assert pending_ops(None, 5, RANGES) == []  # nothing sent yet


def test_a_range_the_database_does_not_serve_is_refused():
    assert pending_ops({"ops": [[1, "range", "1Y"]]}, 0, RANGES) is None
    assert pending_ops({"ops": [[1, "range", "1Y"]]}, 0, [*RANGES, "1Y"]) is not None


def test_more_pending_than_the_page_keeps_is_refused():
    many = {"ops": [[n, "live", None] for n in range(1, MOST_OPS + 2)]}
    assert pending_ops(many, 0, RANGES) is None


def test_operations_apply_in_order_and_live_returns_to_the_preset():
    ops = [
        Op(1, "view", "price"),
        Op(2, "hidden", ["GE"]),
        Op(3, "range", "1H"),
        Op(4, "hidden", ["AAPL", "GE"]),
        Op(5, "live", None),
    ]
    custom = PageQuery().with_custom(START, END)  # a zoomed range, then the clicks
    after = apply_ops(custom, ops, preset="5D")
    assert after == PageQuery(view="price", range="1H", hidden=frozenset({"AAPL", "GE"}))
    assert after.to_search() == "?view=price&range=1H&hide=AAPL,GE"
    # With no range chosen among them, "live" returns to the page's preset.
    assert apply_ops(custom, [Op(1, "live", None)], preset="5D").range == "5D"


def test_live_after_a_range_in_the_same_request_returns_to_that_range():
    ops = [Op(1, "range", "5D"), Op(2, "live", None)]
    assert apply_ops(PageQuery().with_custom(START, END), ops, preset="1D").range == "5D"
