"""The cards: change against the previous close, place in the 52-week range, numbers, a card."""

from __future__ import annotations

import json

import pytest

from app.cards import card_frame, card_numbers, freshness, price_change, range_position
from app.figure import PALETTE
from db.cards import CardPrice
from tests.app.page_helpers import stock, utc_ms


def parts(component) -> list:
    """The component and every component under it, depth first."""
    found = [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if hasattr(child, "to_plotly_json"):
            found += parts(child)
    return found


def by_class(component, name: str):
    """The one part whose class list holds `name`."""
    (found,) = [p for p in parts(component) if name in (getattr(p, "className", "") or "").split()]
    return found


def test_change_is_against_the_previous_close_in_dollars_and_percent():
    assert price_change(101.0, 100.0) == (1.0, 1.0)
    assert price_change(99.0, 100.0) == (-1.0, -1.0)
    assert price_change(100.0, 100.0) == (0.0, 0.0)
    assert price_change(123.45, 122.81) == (0.64, 0.52)  # % to the hundredth, as shown


@pytest.mark.parametrize(
    ("last", "previous"), [(None, 100.0), (100.0, None), (None, None), (100.0, 0.0), (1.0, -5.0)]
)
def test_no_change_without_a_price_and_a_positive_previous_close(last, previous):
    assert price_change(last, previous) is None


def test_the_place_in_the_52_week_range_is_between_0_and_1():
    assert range_position(130.0, 100.0, 200.0) == 0.3
    assert range_position(100.0, 100.0, 200.0) == 0.0 and range_position(200.0, 100.0, 200.0) == 1.0
    assert range_position(90.0, 100.0, 200.0) == 0.0  # below the low: clamped
    assert range_position(250.0, 100.0, 200.0) == 1.0  # above the high: clamped
    assert range_position(1.0, 1.0, 4.0) == 0.0 and range_position(2.0, 1.0, 4.0) == 0.333


@pytest.mark.parametrize(
    ("last", "low", "high"),
    [(None, 1.0, 2.0), (1.5, None, 2.0), (1.5, 1.0, None), (1.5, 2.0, 2.0), (1.5, 3.0, 2.0)],
)
def test_no_place_without_a_price_and_a_range(last, low, high):
    assert range_position(last, low, high) is None


def test_card_numbers_are_last_change_percent_time_and_place_per_stock():
    stocks = [
        stock("AAPL", 0, week52_low=100.0, week52_high=200.0),
        stock("GE", 1, week52_low=None, week52_high=None),
        stock("NVDA", 2),
    ]
    at = utc_ms(2026, 11, 27, 20)
    prices = {
        "AAPL": CardPrice(symbol="AAPL", last_price=150.0, last_ms=at, previous_close=120.0),
        "GE": CardPrice(symbol="GE", last_price=210.123456, last_ms=at - 5, previous_close=None),
    }
    numbers = card_numbers(stocks, prices)
    assert numbers == {
        "AAPL": [150.0, 30.0, 25.0, at, 0.5],
        "GE": [210.1235, None, None, at - 5, None],
        "NVDA": [None, None, None, None, None],  # no price yet
    }
    json.dumps(numbers)  # plain JSON: no numpy, no Decimal
    assert card_numbers([], prices) == {}


def test_a_card_frame_is_the_few_facts_the_page_draws_a_card_from():
    frame = card_frame(stock("GE", 3, company_name="GE Aerospace", logo_url="/assets/logos/GE.svg"))
    assert frame == ["GE", "GE Aerospace", "/assets/logos/GE.svg", PALETTE[3], 160.0, 260.0]
    assert len(json.dumps(frame)) < 100  # a card's frame costs a few dozen bytes
    bare = card_frame(
        stock("NVDA", 12, company_name=None, logo_url=None, week52_low=None, week52_high=None)
    )
    assert bare == ["NVDA", "", None, PALETTE[2], None, None]


def test_a_hostile_company_name_travels_as_plain_data():
    hostile = '<img src=x onerror="alert(1)"> & Co'
    frame = card_frame(stock(company_name=hostile))
    assert json.loads(json.dumps(frame))[1] == hostile  # page.js puts it in as text


@pytest.mark.parametrize(
    ("last_ms", "open_", "expected"),
    [
        (None, True, (None, "none")),
        (10_000, True, (10.0, "live")),
        (4_999, True, (15.0, "live")),  # three intervals exactly: still live
        (4_998, True, (15.0, "stale")),
        (4_998, False, (15.0, "closed")),
        (25_000, True, (0.0, "live")),  # a price a little ahead of this clock is not negative
    ],
)
def test_freshness_is_the_cards_age_and_state(last_ms, open_, expected):
    assert freshness(last_ms, 19_999, open_, price_seconds=5) == expected
