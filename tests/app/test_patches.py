"""The Patches (a window, a zoom's re-read, a tick), downsampling, the budget, the fingerprint."""

from __future__ import annotations

import numpy as np

from app.patches import (
    POINT_BUDGET,
    downsample,
    fingerprint,
    tick_patch,
    window_patch,
    zoom_patch,
)
from db.chart import Points
from tests.app.page_helpers import ops, stock, utc_ms


def operations(patch) -> list[tuple[str, tuple]]:
    return [(op["operation"], tuple(op["location"])) for op in patch.to_plotly_json()["operations"]]


def value_at(patch, location: tuple):
    return ops(patch)[location][1]


def test_downsampling_keeps_the_budget_the_ends_and_the_extremes():
    times = list(range(0, 10_080 * 60_000, 60_000))
    prices = list(100 + np.sin(np.arange(len(times)) / 50.0))
    prices[5_000] = 150.0  # a spike must survive
    x, y = downsample(Points(times, prices, "minute"), 2_000)
    assert len(x) <= 2_000 and len(x) == len(y)
    assert x[0] == times[0] and x[-1] == times[-1]
    assert 150.0 in y and x == sorted(x)
    assert isinstance(x, list) and isinstance(y, list)
    short = Points([1, 2, 3], [1.0, 2.0, 3.0], "tick")
    assert downsample(short, 2_000) == ([1, 2, 3], [1.0, 2.0, 3.0])


def test_window_patch_replaces_traces_bands_logos_and_leaves_the_view():
    stocks = [stock("AAPL", 0), stock("GE", 1, week52_high=None, logo_url=None)]
    series = {
        "AAPL": Points(
            [utc_ms(2026, 11, 27, 15), utc_ms(2026, 11, 27, 15, 0, 5)], [1.0, 2.0], "tick"
        ),
        "GE": Points([], [], "tick"),
    }
    patch, last = window_patch(stocks, series)
    data = value_at(patch, ("data",))
    assert [t["name"] for t in data] == ["AAPL", "GE"] and data[1]["x"] == []
    assert [s["name"] for s in value_at(patch, ("layout", "shapes"))] == ["band-AAPL"]
    assert [a["symbol"] for a in value_at(patch, ("layout", "meta"))["logos"]] == ["AAPL"]
    assert last == {"AAPL": utc_ms(2026, 11, 27, 15, 0, 5)}
    assert not [
        loc for _, loc in operations(patch) if loc[:2] in (("layout", "xaxis"), ("layout", "yaxis"))
    ]


def test_following_live_again_drops_the_zoom_with_a_new_axis_revision():
    patch, _ = window_patch([stock()], {}, reset_view=1234)
    for axis in ("xaxis", "yaxis"):
        assert value_at(patch, ("layout", axis, "autorange")) is True
        assert value_at(patch, ("layout", axis, "uirevision")) == 1234


def test_a_window_is_downsampled_to_the_point_budget():
    n = 10_080
    series = {
        "AAPL": Points(
            list(range(0, n * 60_000, 60_000)), [100.0 + i % 7 for i in range(n)], "minute"
        )
    }
    patch, _ = window_patch([stock()], series, None)
    (t,) = value_at(patch, ("data",))
    assert len(t["x"]) <= POINT_BUDGET


def test_tick_patch_only_extends_the_traces_that_have_new_points():
    stocks = [stock("AAPL", 0), stock("GE", 1)]
    new = {
        "AAPL": Points([utc_ms(2026, 11, 27, 15, 0, 10)], [3.5], "tick"),
        "GE": Points([], [], "tick"),
    }
    patch, last = tick_patch(stocks, new)
    assert operations(patch) == [("Extend", ("data", 0, "x")), ("Extend", ("data", 0, "y"))]
    assert value_at(patch, ("data", 0, "x")) == [utc_ms(2026, 11, 27, 10, 0, 10)]
    assert value_at(patch, ("data", 0, "y")) == [3.5]
    assert last == {"AAPL": utc_ms(2026, 11, 27, 15, 0, 10)}
    nothing, _ = tick_patch(stocks, {})
    assert operations(nothing) == []


def test_zoom_patch_replaces_points_only():
    stocks = [stock("AAPL", 0)]
    patch = zoom_patch(stocks, {"AAPL": Points([utc_ms(2026, 11, 27, 15)], [1.0], "tick")})
    assert operations(patch) == [("Assign", ("data", 0, "x")), ("Assign", ("data", 0, "y"))]


def test_fingerprint_changes_with_what_the_chart_shows_about_stocks():
    base = [stock("AAPL", 0)]
    assert fingerprint(base) == fingerprint([stock("AAPL", 0)])
    assert fingerprint(base) != fingerprint([stock("AAPL", 0, week52_high=270.0)])
    assert fingerprint(base) != fingerprint([stock("AAPL", 0), stock("GE", 1)])
