"""Where the chart's live edge is: the newest stored price, at New York wall-clock time.

Issue 9 saw the x axis run on ~10 hours past the newest point. The points were
where they belong (the first test); the axis was not (the second): plotly's
autorange pads a trace drawn with markers by 5% of the axis length at each end,
~10 h on a 7-day window. The page now sets every range itself, its right edge
at the newest point while following live.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.times import to_exchange_ms, to_ms
from db.models import PriceTick
from tests.app.test_browser import GD, open_dashboard, wait_ticks, x_range_ms

pytestmark = pytest.mark.timeout(60)


def newest_point_ms(driver) -> float:
    """The newest x of any trace: epoch ms of the axis' (exchange) wall clock."""
    return driver.execute_script(
        GD + "return Math.max.apply(null, gd.data.map(t => t.x[t.x.length - 1]));"
    )


def newest_stored_ms(board) -> int:
    """The newest stored tick, UTC in the database, as exchange wall-clock ms."""
    with board.sessions() as session:
        newest = session.scalar(select(func.max(PriceTick.observed_at)))
    return to_exchange_ms([to_ms(newest)])[0]


def test_the_newest_point_is_the_newest_stored_price_in_new_york_time(driver, dashboard_factory):
    board = dashboard_factory("sqlite")
    open_dashboard(driver, board.url)
    wait_ticks(driver, 2)
    on_page = newest_point_ms(driver)
    stored = newest_stored_ms(board)
    # The poller may have written a tick or two the page has not asked for yet.
    interval_ms = board.settings.refresh_interval * 1000
    assert 0 <= stored - on_page <= 3 * interval_ms, (stored, on_page)


def test_the_x_axis_ends_within_one_interval_of_the_newest_point(driver, dashboard_factory):
    board = dashboard_factory("sqlite")
    open_dashboard(driver, board.url)
    wait_ticks(driver, 2)
    newest = newest_point_ms(driver)
    _, end = x_range_ms(driver)
    interval_ms = board.settings.refresh_interval * 1000
    assert newest <= end <= newest + interval_ms, (end - newest) / 1000
