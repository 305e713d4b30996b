"""Retention's pure part: from when each level is whole."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.retention import DAY, FIVE_MINUTES, HOUR, KEEP_EVERYTHING, MINUTE, TICKS, Retention

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)


def test_each_level_is_kept_from_its_own_limit_and_zero_keeps_it_for_good():
    retention = Retention({TICKS: 30, MINUTE: 365, FIVE_MINUTES: 0.5, HOUR: 0})
    assert retention.kept_from(NOW) == {
        TICKS: NOW - timedelta(days=30),
        MINUTE: NOW - timedelta(days=365),
        FIVE_MINUTES: NOW - timedelta(hours=12),
        HOUR: None,
        DAY: None,  # absent: kept for good
    }
    assert retention.active and not KEEP_EVERYTHING.active
    assert set(KEEP_EVERYTHING.kept_from(NOW).values()) == {None}
