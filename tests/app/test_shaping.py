"""Pure shaping: times, colours, downsampling, bands, logos, and the Patches built from them."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from app.figures import (
    POINT_BUDGET,
    base_figure,
    data_patch,
    fingerprint,
    tick_patch,
    window_patch,
)
from app.shaping import (
    PALETTE,
    band,
    color_of,
    downsample,
    logo,
    rgba,
    trace,
)
from db.chart import ChartStock, Points

UTC = timezone.utc


def stock(symbol="AAPL", slot=0, **kw) -> ChartStock:
    values = dict(
        company_name="Apple Inc.",
        logo_url="/assets/logos/AAPL.svg",
        week52_high=260.0,
        week52_low=160.0,
        simulated=True,
    )
    values.update(kw)
    return ChartStock(symbol=symbol, color_slot=slot, **values)


def ms(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def operations(patch) -> list[tuple[str, tuple]]:
    return [(op["operation"], tuple(op["location"])) for op in patch.to_plotly_json()["operations"]]


def value_at(patch, location: tuple):
    for op in patch.to_plotly_json()["operations"]:
        if tuple(op["location"]) == location:
            return op["params"]["value"]
    raise KeyError(location)


def test_colours_follow_the_slot_and_the_palette_has_more_than_six():
    assert len(PALETTE) > 6 and len(set(PALETTE)) == len(PALETTE)
    assert color_of(stock(slot=3)) == PALETTE[3]
    assert color_of(stock("GE", slot=3)) == color_of(stock("AAPL", slot=3))
    assert color_of(stock(slot=len(PALETTE) + 1)) == PALETTE[1]
    assert rgba("#1f77b4", 0.1) == "rgba(31,119,180,0.1)"


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


def test_a_trace_is_lists_with_a_safe_hover():
    t = trace(stock(company_name="<b>Evil</b> & Co"), [ms(2026, 11, 27, 15)], [174.97])
    assert t["x"] == [ms(2026, 11, 27, 10)] and t["y"] == [174.97]
    assert isinstance(t["x"], list) and isinstance(t["y"], list)
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in t["hovertemplate"]
    assert "$%{y:,.2f}" in t["hovertemplate"] and "ET" in t["hovertemplate"]
    assert t["mode"] == "lines+markers" and t["line"]["color"] == PALETTE[0]


def test_band_spans_the_visible_window_under_the_lines_or_is_absent():
    b = band(stock())
    assert (b["xref"], b["x0"], b["x1"], b["layer"]) == ("paper", 0, 1, "below")
    assert (b["y0"], b["y1"]) == (160.0, 260.0)
    assert band(stock(week52_high=None)) is None


def test_logo_sits_at_the_first_point_or_is_absent():
    anchor = logo(stock(), ms(2026, 11, 27, 15), 174.97)
    assert anchor == {
        "symbol": "AAPL",
        "url": "/assets/logos/AAPL.svg",
        "x": ms(2026, 11, 27, 10),
        "y": 174.97,
    }
    assert logo(stock(logo_url=None), 0, 1.0) is None


def test_window_patch_replaces_traces_bands_logos_and_leaves_the_view():
    stocks = [stock("AAPL", 0), stock("GE", 1, week52_high=None, logo_url=None)]
    series = {
        "AAPL": Points([ms(2026, 11, 27, 15), ms(2026, 11, 27, 15, 0, 5)], [1.0, 2.0], "tick"),
        "GE": Points([], [], "tick"),
    }
    patch, last = window_patch(stocks, series)
    data = value_at(patch, ("data",))
    assert [t["name"] for t in data] == ["AAPL", "GE"] and data[1]["x"] == []
    assert [s["name"] for s in value_at(patch, ("layout", "shapes"))] == ["band-AAPL"]
    assert [a["symbol"] for a in value_at(patch, ("layout", "meta"))["logos"]] == ["AAPL"]
    assert last == {"AAPL": ms(2026, 11, 27, 15, 0, 5)}
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
        "AAPL": Points([ms(2026, 11, 27, 15, 0, 10)], [3.5], "tick"),
        "GE": Points([], [], "tick"),
    }
    patch, last = tick_patch(stocks, new)
    assert operations(patch) == [("Extend", ("data", 0, "x")), ("Extend", ("data", 0, "y"))]
    assert value_at(patch, ("data", 0, "x")) == [ms(2026, 11, 27, 10, 0, 10)]
    assert value_at(patch, ("data", 0, "y")) == [3.5]
    assert last == {"AAPL": ms(2026, 11, 27, 15, 0, 10)}
    nothing, _ = tick_patch(stocks, {})
    assert operations(nothing) == []


def test_data_patch_replaces_points_only():
    stocks = [stock("AAPL", 0)]
    patch = data_patch(stocks, {"AAPL": Points([ms(2026, 11, 27, 15)], [1.0], "tick")})
    assert operations(patch) == [("Assign", ("data", 0, "x")), ("Assign", ("data", 0, "y"))]


def test_fingerprint_changes_with_what_the_chart_shows_about_stocks():
    base = [stock("AAPL", 0)]
    assert fingerprint(base) == fingerprint([stock("AAPL", 0)])
    assert fingerprint(base) != fingerprint([stock("AAPL", 0, week52_high=270.0)])
    assert fingerprint(base) != fingerprint([stock("AAPL", 0), stock("GE", 1)])


@pytest.mark.parametrize("title", ["Stock prices, last 7 days"])
def test_the_base_figure_is_an_empty_chart_with_labelled_axes(title):
    figure = base_figure(title)
    assert figure["data"] == []
    layout = figure["layout"]
    assert layout["title"]["text"] == title
    assert (
        layout["xaxis"]["type"] == "date" and "America/New_York" in layout["xaxis"]["title"]["text"]
    )
    assert layout["yaxis"]["tickprefix"] == "$"
    assert layout["uirevision"]
