"""The one time module: epoch milliseconds, and the exchange's wall clock on the chart's axis."""

from __future__ import annotations

from datetime import datetime, timezone

from core.times import FEW_POINTS, from_ms, to_exchange_ms, to_ms, utc_of_exchange_text, whole_ms

UTC = timezone.utc


def ms(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def test_epoch_milliseconds_round_trip_and_cut_to_the_millisecond():
    at = datetime(2026, 11, 27, 15, 30, 5, 123_456, tzinfo=UTC)
    assert to_ms(at) == ms(2026, 11, 27, 15, 30, 5) + 123
    assert from_ms(to_ms(at)) == whole_ms(at) == at.replace(microsecond=123_000)
    assert from_ms(to_ms(at)).tzinfo is not None


def test_exchange_time_follows_new_york_across_the_dst_change():
    # 2026-11-01 06:00 UTC is 01:00 EST (after the change); 05:00 UTC is 01:00 EDT (before).
    before, after = ms(2026, 11, 1, 5), ms(2026, 11, 1, 6)
    assert to_exchange_ms([before, after]) == [ms(2026, 11, 1, 1), ms(2026, 11, 1, 1)]
    assert to_exchange_ms([ms(2026, 7, 1, 14, 30)]) == [ms(2026, 7, 1, 10, 30)]
    assert to_exchange_ms([]) == []


def test_few_points_and_many_points_convert_alike_at_both_dst_changes():
    # A tick's few points take the per-point path, a whole view the vectorised one.
    for change in (ms(2026, 3, 8, 7), ms(2026, 11, 1, 6)):
        times = [change + step for step in range(-3000, 3000, 125)]  # 48 points, ms apart
        assert len(times) > FEW_POINTS
        whole = to_exchange_ms(times)
        pieces = [v for i in range(0, len(times), 8) for v in to_exchange_ms(times[i : i + 8])]
        assert pieces == whole
        assert whole[0] - times[0] != whole[-1] - times[-1]  # the offset did change in between


def test_axis_text_reads_back_as_utc():
    assert utc_of_exchange_text("2026-11-27 10:30:05") == datetime(
        2026, 11, 27, 15, 30, 5, tzinfo=UTC
    )
    assert utc_of_exchange_text("2026-07-01 09:30") == datetime(2026, 7, 1, 13, 30, tzinfo=UTC)
