"""The two views as whole figures: Compare (% change on one axis) and Price (a panel per stock)."""

from __future__ import annotations

import json

import pytest

from app.figure import PALETTE, THEMES, rgba
from app.panels import price_view
from app.views import (
    COMPARE_PLOT_PX,
    LEGEND_MAX,
    LOGO_PX,
    Frame,
    compare_view,
    logo_height,
    visible,
)
from core.times import to_exchange_ms
from db.chart import Points
from tests.app.page_helpers import stock, utc_ms

T0 = utc_ms(2026, 11, 27, 19)  # 14:00 New York
MIN = 60_000
BOUNDS = (T0, T0 + 60 * MIN)
EXCHANGE_BOUNDS = to_exchange_ms(list(BOUNDS))


def points(*prices: float, start: int = T0, step: int = MIN) -> Points:
    return Points([start + i * step for i in range(len(prices))], list(prices), "minute")


def test_visible_points_start_at_the_left_edge():
    p = points(1.0, 2.0, 3.0, 4.0)
    assert visible(p, T0 + MIN) == ([T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN], [2.0, 3.0, 4.0])
    assert visible(p, T0 + MIN - 1) == visible(p, T0 + MIN)
    assert visible(p, T0) == (p.times, p.prices)
    assert visible(p, T0 + 10 * MIN) == ([], [])
    assert visible(Points([], [], "tick"), T0) == ([], [])


def test_compare_is_percent_change_from_the_first_visible_point():
    stocks = [stock("AAPL", 0), stock("GE", 1, company_name="GE Aerospace")]
    series = {
        # The point before the left edge is not the baseline.
        "AAPL": points(50.0, 100.0, 101.0, 99.0, start=T0 - MIN),
        "GE": points(200.0, 210.0, 190.0),
    }
    drawn = compare_view(Frame(stocks, series, BOUNDS, "light", "Compare · last 1 hour"))
    aapl, ge = drawn.figure["data"]
    assert drawn.base == {"AAPL": 100.0, "GE": 200.0}
    assert aapl["y"] == [0.0, 1.0, -1.0] and ge["y"] == [0.0, 5.0, -5.0]
    assert aapl["x"] == to_exchange_ms([T0, T0 + MIN, T0 + 2 * MIN])
    assert type(aapl["x"]) is list and type(aapl["y"]) is list
    assert "%{y:+.2f}%" in aapl["hovertemplate"] and (aapl["xaxis"], aapl["yaxis"]) == ("x", "y")
    assert aapl["line"]["color"] == PALETTE[0] and ge["line"]["color"] == PALETTE[1]
    lay = drawn.figure["layout"]
    assert lay["title"]["text"] == "Compare · last 1 hour" and lay["height"] == drawn.height
    assert lay["xaxis"]["range"] == EXCHANGE_BOUNDS
    y = lay["yaxis"]
    assert y["zeroline"] is True and y["ticksuffix"] == "%" and y["fixedrange"] is True
    assert drawn.y == {"yaxis": y["range"]}
    lo, hi = y["range"]
    assert lo < -5.0 and hi > 5.0 and hi - lo < 12.0  # fitted to what is shown
    assert lay["showlegend"] is True and lay["hovermode"] == "x unified"
    assert lay["legend"]["itemclick"] is False and lay["legend"]["itemdoubleclick"] is False
    # Each logo sits right of the plot at its line's newest value, LOGO_PX tall on this axis.
    assert [(i["name"], i["y"], i["xref"], i["x"], i["yref"]) for i in lay["images"]] == [
        ("logo-AAPL", -1.0, "paper", 1.0, "y"),
        ("logo-GE", -5.0, "paper", 1.0, "y"),
    ]
    assert all(i["sizey"] == logo_height(y["range"]) > 0 for i in lay["images"])
    assert logo_height([0.0, float(COMPARE_PLOT_PX)]) == LOGO_PX
    json.dumps(drawn.figure)  # plain JSON: no numpy anywhere


def test_compare_y_always_includes_the_zero_line():
    rising = {"AAPL": points(100.0, 110.0, 120.0)}
    lo, hi = compare_view(Frame([stock()], rising, BOUNDS, "light", "t")).y["yaxis"]
    assert lo < 0.0 < hi and hi > 20.0
    flat = {"AAPL": points(100.0, 100.0)}
    lo, hi = compare_view(Frame([stock()], flat, BOUNDS, "light", "t")).y["yaxis"]
    assert lo < 0.0 < hi and hi - lo >= 0.2  # a flat line is not a hairline


def test_compare_with_a_stock_without_visible_points_or_no_stock_at_all():
    series = {"AAPL": points(100.0, start=T0 - 5 * MIN), "GE": points(200.0, 202.0)}
    drawn = compare_view(Frame([stock("AAPL"), stock("GE", 1)], series, BOUNDS, "dark", "t"))
    aapl, ge = drawn.figure["data"]
    assert aapl["x"] == [] and aapl["y"] == [] and drawn.base == {"GE": 200.0}
    assert ge["y"] == [0.0, 1.0]
    assert drawn.figure["layout"]["paper_bgcolor"] == THEMES["dark"]["paper"]
    empty = compare_view(Frame([], {}, BOUNDS, "light", "t"))
    assert empty.figure["data"] == [] and empty.base == {}
    (lo, hi), *_ = empty.y.values()
    assert list(empty.y) == ["yaxis"] and lo < 0.0 < hi
    assert empty.figure["layout"]["xaxis"]["range"] == EXCHANGE_BOUNDS


def test_price_has_a_panel_per_stock_on_one_time_axis():
    stocks = [stock("AAPL", 0), stock("GE", 1), stock("NVDA", 2)]
    series = {s.symbol: points(170.0, 175.0) for s in stocks}
    drawn = price_view(Frame(stocks, series, BOUNDS, "light", "Price · last 1 hour"))
    data, lay = drawn.figure["data"], drawn.figure["layout"]
    assert [(t["name"], t["xaxis"], t["yaxis"]) for t in data] == [
        ("AAPL", "x", "y"),
        ("GE", "x2", "y2"),
        ("NVDA", "x3", "y3"),
    ]
    assert lay["title"]["text"] == "Price · last 1 hour" and lay["height"] == drawn.height
    assert "matches" not in lay["xaxis"]
    assert lay["xaxis2"]["matches"] == "x" and lay["xaxis3"]["matches"] == "x"
    for i, suffix in enumerate(["", "2", "3"]):
        assert lay[f"xaxis{suffix}"]["range"] == EXCHANGE_BOUNDS
        assert lay[f"xaxis{suffix}"]["anchor"] == f"y{suffix}"
        assert lay[f"xaxis{suffix}"]["showticklabels"] is (i == 2)  # only under the last panel
        assert lay[f"yaxis{suffix}"]["tickprefix"] == "$"
    domains = [lay[f"yaxis{s}"]["domain"] for s in ("", "2", "3")]
    assert all(0 <= lo < hi <= 1 for lo, hi in domains)
    assert domains[0][0] > domains[1][1] and domains[1][0] > domains[2][1]  # top to bottom
    assert set(drawn.y) == {"yaxis", "yaxis2", "yaxis3"} and drawn.base == {}
    assert drawn.height > price_view(Frame(stocks[:1], series, BOUNDS, "light", "t")).height
    json.dumps(drawn.figure)


def test_each_price_axis_fits_the_visible_prices_not_the_band():
    series = {
        "AAPL": points(400.0, 170.0, 175.0, start=T0 - MIN),  # 400 is left of the window
        "GE": points(20.0, 21.0),
    }
    stocks = [stock("AAPL", 0), stock("GE", 1, week52_low=10.0, week52_high=30.0)]
    drawn = price_view(Frame(stocks, series, BOUNDS, "light", "t"))
    lo, hi = drawn.y["yaxis"]
    assert 165.0 < lo < 170.0 and 175.0 < hi < 180.0  # the band is 160-260
    lo, hi = drawn.y["yaxis2"]
    assert 19.0 < lo < 20.0 and 21.0 < hi < 22.0
    lay = drawn.figure["layout"]
    assert lay["yaxis"]["range"] == drawn.y["yaxis"] and lay["yaxis2"]["range"] == drawn.y["yaxis2"]
    assert drawn.figure["data"][0]["y"] == [170.0, 175.0]


def test_a_panel_has_its_band_in_the_stock_colour_its_logo_and_its_title():
    stocks = [stock("AAPL", 0), stock("GE", 1, company_name="GE Aerospace", logo_url="/ge.svg")]
    series = {"AAPL": points(170.0), "GE": points(150.0)}
    lay = price_view(Frame(stocks, series, BOUNDS, "light", "t")).figure["layout"]
    bands = {s["name"]: s for s in lay["shapes"]}
    assert list(bands) == ["band-AAPL", "band-GE"]
    ge = bands["band-GE"]
    assert (ge["xref"], ge["x0"], ge["x1"], ge["yref"]) == ("x2 domain", 0, 1, "y2")
    assert (ge["y0"], ge["y1"], ge["layer"]) == (160.0, 260.0, "below")
    assert ge["fillcolor"] == rgba(PALETTE[1], 0.10) and ge["line"]["color"] == rgba(
        PALETTE[1], 0.7
    )
    logos = {i["name"]: i for i in lay["images"]}
    assert list(logos) == ["logo-AAPL", "logo-GE"] and logos["logo-GE"]["source"] == "/ge.svg"
    texts = [a["text"] for a in lay["annotations"]]
    assert "<b>GE</b>  GE Aerospace" in texts
    assert "52-week range $160.00 – $260.00 (shaded)" in texts
    title = next(a for a in lay["annotations"] if a["text"].startswith("<b>GE</b>"))
    assert title["font"]["color"] == PALETTE[1]


def test_a_hostile_name_is_escaped_in_the_panel_title_and_the_hover():
    hostile = stock(company_name='<img src=x onerror="alert(1)">')
    drawn = price_view(Frame([hostile], {"AAPL": points(170.0)}, BOUNDS, "light", "t"))
    (title, _) = drawn.figure["layout"]["annotations"]
    assert "<img" not in title["text"] and "&lt;img src=x" in title["text"]
    assert "<img" not in drawn.figure["data"][0]["hovertemplate"]


def test_a_stock_without_band_or_logo_gets_neither_and_still_an_axis():
    bare = stock("GE", 1, week52_low=None, week52_high=None, logo_url=None)
    drawn = price_view(
        Frame(
            [stock("AAPL"), bare],
            {"AAPL": points(170.0), "GE": points(150.0)},
            BOUNDS,
            "light",
            "t",
        )
    )
    lay = drawn.figure["layout"]
    assert [s["name"] for s in lay["shapes"]] == ["band-AAPL"]
    assert [i["name"] for i in lay["images"]] == ["logo-AAPL"]
    assert [a["text"] for a in lay["annotations"]][-1] == "<b>GE</b>  Apple Inc."
    lo, hi = drawn.y["yaxis2"]
    assert lo < 150.0 < hi
    # No price yet: the band, or $0-$1 without one.
    none = price_view(
        Frame([stock("AAPL"), bare], {"AAPL": points(), "GE": points()}, BOUNDS, "light", "t")
    )
    assert none.y == {"yaxis": [160.0, 260.0], "yaxis2": [0.0, 1.0]}


def test_price_with_no_stocks_is_an_empty_figure():
    drawn = price_view(Frame([], {}, BOUNDS, "dark", "Price · last 1 day"))
    assert drawn.figure["data"] == [] and drawn.y == {} and drawn.base == {}
    lay = drawn.figure["layout"]
    assert lay["shapes"] == [] and lay["images"] == [] and lay["annotations"] == []
    assert lay["title"]["text"] == "Price · last 1 day" and drawn.height > 0


@pytest.mark.parametrize("view", [compare_view, price_view])
def test_hidden_stocks_are_simply_not_given_to_a_view(view):
    series = {"GE": points(150.0), "AAPL": points(1.0)}
    drawn = view(Frame([stock("GE", 1)], series, BOUNDS, "light", "t"))
    assert [t["name"] for t in drawn.figure["data"]] == ["GE"]
    text = json.dumps(drawn.figure)
    assert "band-AAPL" not in text and "logo-AAPL" not in text


def test_compare_drops_the_legend_when_it_would_crowd_the_title():
    many = [stock(f"S{i}", i) for i in range(LEGEND_MAX + 1)]
    series = {s.symbol: points(10.0, 11.0) for s in many}
    few = compare_view(Frame(many[:LEGEND_MAX], series, BOUNDS, "light", "t"))
    assert few.figure["layout"]["showlegend"]
    assert not compare_view(Frame(many, series, BOUNDS, "light", "t")).figure["layout"][
        "showlegend"
    ]


@pytest.mark.parametrize("build", [compare_view, price_view])
def test_a_compact_view_gives_a_phone_the_whole_width_and_no_drag(build):
    stocks = [stock("AAPL", 0), stock("GE", 1)]
    series = {s.symbol: points(10.0, 11.0) for s in stocks}
    wide = build(Frame(stocks, series, BOUNDS, "light", "t")).figure["layout"]
    phone = build(Frame(stocks, series, BOUNDS, "light", "t", compact=True)).figure["layout"]
    assert wide["dragmode"] == "zoom" and phone["dragmode"] is False
    assert phone["margin"]["l"] < wide["margin"]["l"]
    assert phone["yaxis"]["ticklabelposition"] == "inside" and phone["yaxis"]["title"]["text"] == ""
    assert "ticklabelposition" not in wide["yaxis"]
