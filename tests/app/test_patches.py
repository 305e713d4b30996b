"""A tick's Patch in both views, downsampling, the point budget, the fingerprint."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from app.patches import (
    FIGURE_BUDGET,
    MIN_POINTS,
    POINT_BUDGET,
    axis_names,
    downsample,
    fingerprint,
    point_budget,
    tick_patch,
)
from app.query import COMPARE, PRICE
from app.views import logo_height
from core.times import to_exchange_ms
from db.chart import Points
from tests.app.page_helpers import ops, stock, utc_ms

T1, T2 = utc_ms(2026, 11, 27, 15, 0, 10), utc_ms(2026, 11, 27, 15, 0, 15)
LIVE = (utc_ms(2026, 11, 27, 14, 0, 15), T2)  # one hour up to the newest point


def operations(patch) -> list[tuple[str, tuple]]:
    return [(op["operation"], tuple(op["location"])) for op in patch.to_plotly_json()["operations"]]


def test_downsampling_keeps_the_budget_the_ends_and_the_extremes():
    times = list(range(0, 10_080 * 60_000, 60_000))
    prices = list(100 + np.sin(np.arange(len(times)) / 50.0))
    prices[5_000] = 150.0  # a spike must survive
    prices[7_000] = 50.0  # and a dip
    kept = downsample(Points(times, prices, "minute"), 2_000)
    x, y = kept.times, kept.prices
    assert len(x) <= 2_000 and len(x) == len(y) and kept.resolution == "minute"
    assert x[0] == times[0] and x[-1] == times[-1]
    assert 150.0 in y and 50.0 in y and x == sorted(x)
    assert type(x) is list and type(y) is list  # lists, never numpy arrays
    assert type(x[0]) is int and type(y[0]) is float
    short = Points([1, 2, 3], [1.0, 2.0, 3.0], "tick")
    assert downsample(short, 2_000) == short
    assert downsample(short, 3) == short


def test_the_point_budget_shares_a_page_budget_between_stocks():
    assert point_budget(0) == point_budget(1) == point_budget(2) == POINT_BUDGET
    assert point_budget(6) == FIGURE_BUDGET // 6 == 833
    assert point_budget(20) == FIGURE_BUDGET // 20 == 250 < POINT_BUDGET
    assert point_budget(30) == point_budget(10_000) == MIN_POINTS
    assert all(point_budget(n) * n <= FIGURE_BUDGET for n in (3, 6, 20, 25))


def test_a_range_of_a_year_or_more_is_drawn_with_half_the_points():
    assert point_budget(6, timedelta(days=182)) == point_budget(6) == 833
    assert point_budget(6, timedelta(days=365)) == point_budget(6, timedelta(days=1826)) == 416
    assert point_budget(30, timedelta(days=1826)) == point_budget(30) // 2


def test_axis_names_are_one_shared_in_compare_and_one_per_panel_in_price():
    assert axis_names(COMPARE, 3) == ["yaxis"] * 3
    assert axis_names(PRICE, 3) == ["yaxis", "yaxis2", "yaxis3"]
    assert axis_names(PRICE, 0) == []


def test_a_compare_tick_appends_percent_against_each_baseline():
    stocks = [stock("AAPL", 0), stock("GE", 1)]
    new = {"AAPL": Points([T1, T2], [101.0, 99.5], "tick"), "GE": Points([T2], [210.0], "tick")}
    base = {"AAPL": 100.0, "GE": 200.0}
    done = tick_patch(COMPARE, stocks, new, base, {"yaxis": [-10.0, 10.0]}, LIVE)
    changes = ops(done.patch)
    assert changes[("data", 0, "x")] == ("Extend", to_exchange_ms([T1, T2]))
    assert changes[("data", 0, "y")] == ("Extend", [1.0, -0.5])
    assert changes[("data", 1, "y")] == ("Extend", [5.0])
    assert all(type(v) is list for op, v in changes.values() if op == "Extend")
    assert done.last_ms == {"AAPL": T2, "GE": T2}
    assert done.y == {} and ("layout", "yaxis", "range") not in changes  # 5% fits in ±10%


def test_a_price_tick_appends_dollars_to_each_panel():
    stocks = [stock("AAPL", 0), stock("GE", 1)]
    new = {"GE": Points([T1], [150.123456], "tick")}
    y = {"yaxis": [160.0, 180.0], "yaxis2": [140.0, 160.0]}
    done = tick_patch(PRICE, stocks, new, {}, y, LIVE)
    assert operations(done.patch) == [
        ("Extend", ("data", 1, "x")),
        ("Extend", ("data", 1, "y")),
        ("Assign", ("layout", "xaxis", "range")),  # the other panels' axes match it
    ]
    assert ops(done.patch)[("data", 1, "y")] == ("Extend", [150.1235])
    assert done.last_ms == {"GE": T1}


def test_following_live_moves_the_time_axis_that_every_panel_matches():
    stocks = [stock("AAPL", 0), stock("GE", 1), stock("NVDA", 2)]
    new = {"AAPL": Points([T2], [170.0], "tick")}
    y = {"yaxis": [160.0, 180.0], "yaxis2": [1.0, 2.0], "yaxis3": [1.0, 2.0]}
    changes = ops(tick_patch(PRICE, stocks, new, {}, y, LIVE).patch)
    edge = to_exchange_ms(list(LIVE))
    assert changes[("layout", "xaxis", "range")] == ("Assign", edge)
    assert not any(k[1] in ("xaxis2", "xaxis3") for k in changes)  # they match "x"
    compare = ops(tick_patch(COMPARE, stocks, new, {"AAPL": 170.0}, {"yaxis": [-1, 1]}, LIVE).patch)
    assert compare[("layout", "xaxis", "range")] == ("Assign", edge)
    assert ("layout", "xaxis2", "range") not in compare


def test_a_y_axis_widens_only_when_a_new_point_falls_outside_it():
    stocks = [stock("AAPL", 0), stock("GE", 1)]
    y = {"yaxis": [160.0, 180.0], "yaxis2": [140.0, 160.0]}
    new = {"AAPL": Points([T1, T2], [175.0, 190.0], "tick"), "GE": Points([T2], [150.0], "tick")}
    done = tick_patch(PRICE, stocks, new, {}, y, LIVE)
    changes = ops(done.patch)
    op, (lo, hi) = changes[("layout", "yaxis", "range")]
    assert op == "Assign" and lo == 160.0 and hi > 190.0
    assert done.y == {"yaxis": [lo, hi]}
    assert ("layout", "yaxis2", "range") not in changes  # GE's 150 fits


def test_in_compare_the_shared_axis_widens_once_for_every_stock():
    stocks = [stock("AAPL", 0), stock("GE", 1)]
    new = {"AAPL": Points([T2], [115.0], "tick"), "GE": Points([T2], [170.0], "tick")}
    done = tick_patch(COMPARE, stocks, new, {"AAPL": 100.0, "GE": 200.0}, {"yaxis": [-1, 1]}, LIVE)
    lo, hi = done.y["yaxis"]
    assert lo < -15.0 and hi > 15.0  # holds GE's -15% and AAPL's +15%
    assert ops(done.patch)[("layout", "yaxis", "range")] == ("Assign", [lo, hi])


@pytest.mark.parametrize("view", [COMPARE, PRICE])
def test_a_custom_range_only_gets_points_appended_never_an_axis(view):
    stocks = [stock("AAPL", 0), stock("GE", 1)]
    new = {"AAPL": Points([T1], [500.0], "tick")}  # far outside every axis
    y = {"yaxis": [-1.0, 1.0], "yaxis2": [1.0, 2.0]}
    done = tick_patch(view, stocks, new, {"AAPL": 100.0, "GE": 1.0}, y, None)
    assert operations(done.patch) == [("Extend", ("data", 0, "x")), ("Extend", ("data", 0, "y"))]
    assert done.y == {} and done.last_ms == {"AAPL": T1}


@pytest.mark.parametrize("view", [COMPARE, PRICE])
def test_nothing_new_is_an_empty_patch_that_keeps_the_view(view):
    stocks = [stock("AAPL", 0)]
    for new in ({}, {"AAPL": Points([], [], "tick")}, {"NVDA": Points([T1], [1.0], "tick")}):
        done = tick_patch(view, stocks, new, {"AAPL": 100.0}, {"yaxis": [-1.0, 1.0]}, LIVE)
        assert operations(done.patch) == [] and done.last_ms == {} and done.y == {}


def test_fingerprint_changes_with_what_the_chart_shows_about_stocks():
    base = [stock("AAPL", 0)]
    assert fingerprint(base) == fingerprint([stock("AAPL", 0)])
    assert len(fingerprint(base)) == 16
    assert fingerprint(base) != fingerprint([stock("AAPL", 0, week52_high=270.0)])
    assert fingerprint(base) != fingerprint([stock("AAPL", 0, logo_url="/other.svg")])
    assert fingerprint(base) != fingerprint([stock("AAPL", 1)])
    assert fingerprint(base) != fingerprint([stock("AAPL", 0), stock("GE", 1)])
    assert fingerprint([]) != fingerprint(base)


def test_compare_logos_follow_the_newest_value_live_and_keep_their_size_on_a_wider_axis():
    stocks = [stock("AAPL", 0), stock("GE", 1, logo_url=None), stock("NVDA", 2)]
    base = {"AAPL": 100.0, "GE": 10.0, "NVDA": 50.0}
    new = {"NVDA": Points([T1], [55.0], "tick"), "GE": Points([T1], [10.5], "tick")}
    done = tick_patch(COMPARE, stocks, new, base, {"yaxis": [-1.0, 1.0]}, LIVE)
    changes = ops(done.patch)
    # GE has no logo: NVDA's is the second image; it moves to +10%.
    assert changes[("layout", "images", 1, "y")] == ("Assign", 10.0)
    assert ("layout", "images", 0, "y") not in changes
    wider = done.y["yaxis"]
    for k in (0, 1):
        assert changes[("layout", "images", k, "sizey")] == ("Assign", logo_height(wider))
    custom = ops(tick_patch(COMPARE, stocks, new, base, {"yaxis": [-1.0, 1.0]}, None).patch)
    assert not any(key[1] == "images" for key in custom)  # a custom range keeps them


def test_a_compare_logo_moves_only_once_its_line_is_half_a_logo_away():
    stocks = [stock("AAPL", 0)]
    y = {"yaxis": [-10.0, 10.0]}
    half = logo_height(y["yaxis"]) / 2
    near = {"AAPL": Points([T1], [100.0 + half * 0.9], "tick")}  # +0.9 half-logo, in %
    done = tick_patch(COMPARE, stocks, near, {"AAPL": 100.0}, y, LIVE, {"AAPL": 0.0})
    assert ("layout", "images", 0, "y") not in ops(done.patch) and done.logo_y == {}
    far = {"AAPL": Points([T1], [100.0 + half * 1.5], "tick")}
    done = tick_patch(COMPARE, stocks, far, {"AAPL": 100.0}, y, LIVE, {"AAPL": 0.0})
    moved = round(half * 1.5, 3)
    assert ops(done.patch)[("layout", "images", 0, "y")] == ("Assign", moved)
    assert done.logo_y == {"AAPL": moved}
