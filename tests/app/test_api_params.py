"""The API's parameters and its text: read strictly, each refusal naming its parameter."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.api_params import (
    NAMES,
    RESOLUTIONS,
    Cursor,
    ParameterError,
    decode_cursor,
    encode_cursor,
    parse_price_args,
    parse_utc,
)
from app.api_shapes import decimal_text, new_york_text, utc_text
from db.exports import TICKS, Key
from db.rollups import BAR_WIDTHS

UTC = timezone.utc
AT = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def refusal(args: dict[str, list[str]], max_rows: int = 100) -> tuple[str | None, str]:
    """The parameter and message of the ParameterError these arguments raise."""
    with pytest.raises(ParameterError) as caught:
        parse_price_args(args, max_rows)
    return caught.value.parameter, caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T15:00:00Z", AT),
        ("2026-11-27T15:00:00.250Z", AT + timedelta(milliseconds=250)),
        ("2026-11-27T10:00:00-05:00", AT),
        ("2026-11-27T16:00:00+01:00", AT),
        (" 2026-11-27T15:00:00+00:00 ", AT),
    ],
)
def test_times_with_z_or_an_offset_are_read_as_utc(text, expected):
    moment = parse_utc(text, "start")
    assert moment == expected and moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["2026-11-27T15:00:00", "2026-11-27"])
def test_a_time_without_a_zone_is_refused_not_guessed(text):
    with pytest.raises(ParameterError) as caught:
        parse_utc(text, "end")
    assert caught.value.parameter == "end" and "UTC offset or Z" in caught.value.message


@pytest.mark.parametrize(
    "text", ["yesterday", "", "2026-13-01T00:00:00Z", "1764255600", "0001-01-01T00:00:00+01:00"]
)
def test_a_time_that_is_not_iso_8601_is_refused(text):
    assert refusal({"start": [text]}) == ("start", "start is not an ISO-8601 time")


def test_the_defaults_leave_symbols_window_and_resolution_to_the_caller():
    query = parse_price_args({}, max_rows=100)
    assert (query.symbols, query.start, query.end, query.width, query.cursor) == (None,) * 5
    assert query.limit == 100
    assert query.window(AT) == (AT - timedelta(days=1), AT)


def test_the_window_rounds_up_to_whole_milliseconds_selecting_the_same_stored_rows():
    query = parse_price_args({"start": ["2026-11-27T14:00:00.000001Z"]}, 100)
    now = AT + timedelta(microseconds=2_500)
    assert query.window(now) == (
        AT - timedelta(hours=1) + timedelta(milliseconds=1),
        AT + timedelta(milliseconds=3),
    )
    assert parse_price_args({}, 100).window(now)[0] == AT - timedelta(days=1, milliseconds=-3)


def test_symbols_are_trimmed_upper_cased_and_taken_once():
    query = parse_price_args({"symbols": [" aapl,GE ,aapl,brk.b"]}, 100)
    assert query.symbols == ("AAPL", "GE", "BRK.B")


@pytest.mark.parametrize(
    ("args", "parameter", "words"),
    [
        ({"symbols": ["AAPL,,GE"]}, "symbols", "an empty name"),
        ({"symbols": ["AAPL,$$$"]}, "symbols", "'$$$' is not a ticker"),
        ({"symbol": ["AAPL"]}, "symbol", "unknown parameter 'symbol'"),
        ({"symbols": ["AAPL", "GE"]}, "symbols", "give symbols once"),
        ({"resolution": ["2m"]}, "resolution", "one of auto, tick, 1m, 5m, 1h, 1d"),
        ({"limit": ["0"]}, "limit", "from 1 to 100"),
        ({"limit": ["101"]}, "limit", "from 1 to 100"),
        ({"limit": ["ten"]}, "limit", "whole number"),
        ({"cursor": ["not-a-cursor"]}, "cursor", "not one this API gave"),
        (
            {"start": ["2026-11-27T15:00:00Z"], "end": ["2026-11-27T15:00:00Z"]},
            "start",
            "start must be before end",
        ),
    ],
)
def test_each_bad_parameter_is_named(args, parameter, words):
    named, message = refusal(args)
    assert named == parameter and words in message


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        ({"start": ["2026-11-28T00:00:00Z"]}, "start"),
        ({"end": ["0001-01-01T12:00:00Z"]}, "end"),
        ({"end": ["9999-12-31T23:59:59.9999Z"]}, "end"),
    ],
)
def test_a_window_that_cannot_be_is_refused_when_it_is_settled(args, parameter):
    query = parse_price_args(args, 100)
    with pytest.raises(ParameterError) as caught:
        query.window(AT)
    assert caught.value.parameter == parameter


def test_every_resolution_maps_to_one_width_and_every_stored_width_has_a_name():
    assert RESOLUTIONS["tick"] == TICKS and len(set(RESOLUTIONS.values())) == len(RESOLUTIONS)
    # When daily (or any) bars join BAR_WIDTHS, "auto" may choose them: name them here.
    assert set(BAR_WIDTHS) <= set(NAMES)


def test_a_cursor_reads_back_exactly_and_settles_resolution_and_end():
    key = Key("BRK.B", AT + timedelta(microseconds=123_456))
    cursor = Cursor(key, 300, AT + timedelta(hours=1))
    text = encode_cursor(cursor)
    assert decode_cursor(text) == cursor and text.isascii() and "=" not in text
    query = parse_price_args({"cursor": [text], "symbols": ["brk.b,GE"]}, 100)
    end = AT + timedelta(hours=1)  # the first page's end, whatever the clock says now
    assert query.width == 300 and query.window(AT) == (end - timedelta(days=1), end)
    assert parse_price_args({"cursor": [text], "resolution": ["5m"]}, 100).cursor == cursor


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"resolution": ["1m"]}, "continues resolution 5m"),
        ({"symbols": ["AAPL"]}, "belongs to other symbols"),
    ],
)
def test_a_cursor_refuses_a_request_it_does_not_continue(args, words):
    text = encode_cursor(Cursor(Key("GE", AT), 300, AT))
    parameter, message = refusal({"cursor": [text], **args})
    assert parameter == "cursor" and words in message


@pytest.mark.parametrize(
    "payload",
    [b'["GE",1,7,2]', b'["ge",1,300,2]', b'["GE",1.5,300,2]', b'["GE",1,300]', b"{}", b"\xff"],
)
def test_a_made_up_cursor_is_refused(payload):
    text = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    assert refusal({"cursor": [text]}) == ("cursor", "cursor is not one this API gave")


def test_times_are_iso_8601_utc_with_z_to_the_millisecond():
    assert utc_text(AT + timedelta(microseconds=5_999)) == "2026-11-27T15:00:00.005Z"
    assert new_york_text(AT) == "2026-11-27T10:00:00.000-05:00"
    assert new_york_text(datetime(2026, 7, 1, 14, tzinfo=UTC)) == "2026-07-01T10:00:00.000-04:00"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("187.250000"), "187.25"),
        (Decimal("100.000000"), "100.00"),
        (Decimal("1E+2"), "100.00"),
        (Decimal("0.123456"), "0.123456"),
        (Decimal("9999999.999999"), "9999999.999999"),
        (187.25, "187.25"),
        (9999999.999999, "9999999.999999"),  # 13 significant digits survive a float
        (0.1, "0.10"),
        (None, None),
    ],
)
def test_prices_are_exact_decimal_text_at_least_to_the_cent(value, text):
    assert decimal_text(value) == text
