"""What both views share: colours, a line, the axes, the layout, fitting and widening a range."""

from __future__ import annotations

import pytest

from app.figure import (
    PALETTE,
    THEMES,
    bars_note,
    color_of,
    dash_of,
    fitted,
    layout,
    line,
    rgba,
    rounded,
    theme_of,
    widened,
    x_axis,
    y_axis,
)
from tests.app.page_helpers import stock, utc_ms


def test_colours_follow_the_slot_and_the_palette_has_more_than_six():
    assert len(PALETTE) > 6 and len(set(PALETTE)) == len(PALETTE)
    assert color_of(stock(slot=3)) == PALETTE[3]
    assert color_of(stock("GE", slot=3)) == color_of(stock("AAPL", slot=3))
    assert color_of(stock(slot=len(PALETTE) + 1)) == PALETTE[1]
    assert rgba("#1f77b4", 0.1) == "rgba(31,119,180,0.1)"


def test_lines_past_the_palette_are_dotted_so_no_two_look_alike():
    assert dash_of(stock(slot=0)) == dash_of(stock(slot=len(PALETTE) - 1)) == "solid"
    assert dash_of(stock(slot=len(PALETTE))) == "dot"
    assert dash_of(stock(slot=2 * len(PALETTE))) == "solid"


def test_a_line_is_lists_in_exchange_time_with_a_safe_hover():
    t = line(
        stock(company_name="<b>Evil</b> & Co"),
        [utc_ms(2026, 11, 27, 15), utc_ms(2026, 7, 1, 15)],
        [174.97, 175.0],
        "$%{y:,.2f}",
    )
    # New York is UTC-5 in November and UTC-4 in July.
    assert t["x"] == [utc_ms(2026, 11, 27, 10), utc_ms(2026, 7, 1, 11)] and t["y"] == [
        174.97,
        175.0,
    ]
    assert type(t["x"]) is list and type(t["y"]) is list  # never numpy: Patch.extend needs lists
    assert all(type(v) is int for v in t["x"])
    assert (
        "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in t["hovertemplate"]
        and "<b>Evil" not in t["hovertemplate"]
    )
    assert "$%{y:,.2f}" in t["hovertemplate"]
    assert (t["mode"], t["name"], t["legendgroup"]) == ("lines", "AAPL", "AAPL")
    assert t["line"]["color"] == PALETTE[0] and (t["xaxis"], t["yaxis"]) == ("x", "y")
    assert line(stock(), [], [], "%{y}", ("x2", "y2"))["x"] == []
    assert line(stock("<i>", company_name=None), [], [], "%{y}")["hovertemplate"].startswith(
        "<b>&lt;i&gt;</b> &lt;i&gt;:"
    )


def test_rounded_values_are_a_plain_list():
    values = rounded([1.123456, 2.0])
    assert values == [1.1235, 2.0] and type(values) is list and type(values[0]) is float
    assert rounded([1.26], 1) == [1.3] and rounded([]) == []


def test_the_theme_is_dark_only_when_asked_for():
    assert theme_of("dark") == "dark"
    assert [theme_of(v) for v in ("light", None, "", "DARK", 1, {"x": 1})] == ["light"] * 6


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axes_and_layout_are_explicit_and_themed(theme):
    x = x_axis(theme, (1, 2), anchor="y2")
    assert x["range"] == [1, 2] and x["type"] == "date" and x["anchor"] == "y2"
    assert x["gridcolor"] == THEMES[theme]["grid"] and "ET" in x["hoverformat"]
    y = y_axis(theme, (10.0, 20.0), tickprefix="$")
    assert y["range"] == [10.0, 20.0] and y["fixedrange"] is True and y["tickprefix"] == "$"
    lay = layout(theme, "Compare · last 1 day", height=480)
    assert lay["title"]["text"] == "Compare · last 1 day" and lay["height"] == 480
    assert (
        lay["paper_bgcolor"] == THEMES[theme]["paper"]
        and lay["font"]["color"] == THEMES[theme]["ink"]
    )
    assert lay["hovermode"] == "x unified" and lay["uirevision"] and lay["showlegend"] is False


def test_a_fitted_range_holds_the_values_with_a_margin():
    lo, hi = fitted([100.0, 110.0])
    assert lo < 100.0 and hi > 110.0 and lo == pytest.approx(99.2) and hi == pytest.approx(110.8)
    assert fitted([]) is None


def test_a_flat_line_still_gets_a_visible_range():
    lo, hi = fitted([100.0, 100.0])
    assert lo < 100.0 < hi and hi - lo == pytest.approx(0.1)  # 0.1% of its level
    lo, hi = fitted([0.0], floor=0.2)
    assert (lo, hi) == pytest.approx((-0.1, 0.1))
    lo, hi = fitted([0.0])
    assert lo < 0.0 < hi


def test_a_range_widens_only_when_a_value_falls_outside_it():
    assert widened([100.0, 110.0], [101.0, 110.0]) is None
    assert widened([100.0, 110.0], []) is None
    lo, hi = widened([100.0, 110.0], [105.0, 120.0])
    assert lo == 100.0 and hi == pytest.approx(120.8)
    lo, hi = widened([100.0, 110.0], [90.0])
    assert lo == pytest.approx(89.2) and hi == 110.0


def test_history_from_bars_is_said_on_the_hover_and_ticks_say_nothing():
    assert bars_note(None) == "" and bars_note(0) == ""
    assert "gaps filled from 1-minute bars" in bars_note(60)
    assert "5-minute" in bars_note(300) and "1-hour" in bars_note(3600)
    assert "30-second" in bars_note(30)
    filled = line(stock("AAPL", history_bar_seconds=60), [], [], "%{y}")["hovertemplate"]
    assert "gaps filled from 1-minute bars" in filled and filled.endswith("<extra></extra>")
    assert "bars" not in line(stock("AAPL"), [], [], "%{y}")["hovertemplate"]
