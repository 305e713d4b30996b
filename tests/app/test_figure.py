"""The figure and each stock's parts: colours, the empty chart, a line, a band, a logo anchor."""

from __future__ import annotations

import pytest

from app.figure import PALETTE, band, base_figure, color_of, logo_anchor, rgba, trace
from tests.app.page_helpers import stock, utc_ms


def test_colours_follow_the_slot_and_the_palette_has_more_than_six():
    assert len(PALETTE) > 6 and len(set(PALETTE)) == len(PALETTE)
    assert color_of(stock(slot=3)) == PALETTE[3]
    assert color_of(stock("GE", slot=3)) == color_of(stock("AAPL", slot=3))
    assert color_of(stock(slot=len(PALETTE) + 1)) == PALETTE[1]
    assert rgba("#1f77b4", 0.1) == "rgba(31,119,180,0.1)"


def test_a_trace_is_lists_with_a_safe_hover():
    t = trace(stock(company_name="<b>Evil</b> & Co"), [utc_ms(2026, 11, 27, 15)], [174.97])
    assert t["x"] == [utc_ms(2026, 11, 27, 10)] and t["y"] == [174.97]
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
    anchor = logo_anchor(stock(), utc_ms(2026, 11, 27, 15), 174.97)
    assert anchor == {
        "symbol": "AAPL",
        "url": "/assets/logos/AAPL.svg",
        "x": utc_ms(2026, 11, 27, 10),
        "y": 174.97,
    }
    assert logo_anchor(stock(logo_url=None), 0, 1.0) is None


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
