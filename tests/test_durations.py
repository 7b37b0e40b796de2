"""ISO 8601 durations and date-times as the PBX writes them; the time-span text it reads."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from py3cx._durations import (
    format_datetime_utc,
    format_hms,
    format_iso_duration,
    format_timespan,
    parse_datetime,
    parse_duration,
    parse_timespan,
    total_seconds_int,
)

# --- parse_duration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT1M2S", timedelta(minutes=1, seconds=2)),
        ("PT1M16.46S", timedelta(minutes=1, seconds=16, microseconds=460000)),
        ("P1D", timedelta(days=1)),
        ("P1DT2H3M", timedelta(days=1, hours=2, minutes=3)),
        ("PT0S", timedelta(0)),
        ("PT27H", timedelta(hours=27)),
        ("PT90M", timedelta(minutes=90)),
        ("P2W", timedelta(weeks=2)),
        ("-PT5S", timedelta(seconds=-5)),
        ("-P1DT2H", -timedelta(days=1, hours=2)),
        ("+PT1S", timedelta(seconds=1)),
        ("PT0.1234567S", timedelta(microseconds=123456)),
        (" PT1S ", timedelta(seconds=1)),
    ],
)
def test_parse_duration_reads_the_forms_the_pbx_sends(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_one_day_is_one_day_not_zero_as_in_the_php_tool() -> None:
    assert parse_duration("P1D").total_seconds() == 86_400


@pytest.mark.parametrize(
    "text", ["", "P", "PT", "P1DT", "1:02:03", "PT1.5M", "P1Y", "P1M", "PT-1S", "PT1S junk", "pt1s", "PT١S"]
)
def test_parse_duration_refuses_anything_else_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601 duration"):
        parse_duration(text)


# --- format_iso_duration, format_hms, total_seconds_int ------------------------------------------


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(days=1), "P1D"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4.5), "P1DT2H3M4.5S"),
        (timedelta(minutes=1, seconds=16.46), "PT1M16.46S"),
        (timedelta(hours=2), "PT2H"),
        (timedelta(microseconds=1), "PT0.000001S"),
        (timedelta(seconds=-5), "-PT5S"),
    ],
)
def test_format_iso_duration(td: timedelta, text: str) -> None:
    assert format_iso_duration(td) == text


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(0), "00:00:00"),
        (timedelta(minutes=1, seconds=16.46), "00:01:16"),
        (timedelta(days=1, hours=3, minutes=3, seconds=4), "27:03:04"),
        (timedelta(hours=100), "100:00:00"),
        (timedelta(seconds=-5.5), "-00:00:05"),
        (timedelta(seconds=59.999), "00:00:59"),
    ],
)
def test_format_hms_lets_hours_pass_24_and_truncates_fractions(td: timedelta, text: str) -> None:
    assert format_hms(td) == text


def test_total_seconds_int_truncates_toward_zero_like_format_hms() -> None:
    assert total_seconds_int(timedelta(seconds=76.46)) == 76
    assert total_seconds_int(timedelta(seconds=-5.5)) == -5
    assert total_seconds_int(timedelta(days=1)) == 86_400


# --- time spans ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(0), "0:00:0"),
        (timedelta(seconds=20), "0:00:20"),
        (timedelta(hours=1, minutes=2, seconds=3), "1:02:3"),
        (timedelta(days=2, hours=1), "2.01:00:0"),
        (timedelta(seconds=-20), "-0:00:20"),
    ],
)
def test_format_timespan_and_parse_timespan_are_inverse(td: timedelta, text: str) -> None:
    assert format_timespan(td) == text
    assert parse_timespan(text) == td


def test_parse_timespan_reads_padded_and_fractional_forms() -> None:
    assert parse_timespan("00:01:05") == timedelta(minutes=1, seconds=5)
    assert parse_timespan("0:01") == timedelta(minutes=1)
    assert parse_timespan("0:00:01.5") == timedelta(seconds=1.5)


@pytest.mark.parametrize("text", ["", "20", "24:00:00", "0:60:00", "0:00:60", "0:00:0'", "PT20S"])
def test_parse_timespan_refuses_malformed_or_out_of_range_text(text: str) -> None:
    with pytest.raises(ValueError, match="time span"):
        parse_timespan(text)


# --- date-times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-13T23:00:00Z", datetime(2025, 3, 13, 23, tzinfo=timezone.utc)),
        ("2025-03-13T23:00:00.5Z", datetime(2025, 3, 13, 23, 0, 0, 500000, tzinfo=timezone.utc)),
        ("2025-03-13T23:00:00.1234567Z", datetime(2025, 3, 13, 23, 0, 0, 123456, tzinfo=timezone.utc)),
        ("2025-03-13T23:00:00.123456789012Z", datetime(2025, 3, 13, 23, 0, 0, 123456, tzinfo=timezone.utc)),
        ("2025-03-14T00:00:00+01:00", datetime(2025, 3, 13, 23, tzinfo=timezone.utc)),
        ("2025-03-13T20:30:00-02:30", datetime(2025, 3, 13, 23, tzinfo=timezone.utc)),
        ("2025-03-13 23:00Z", datetime(2025, 3, 13, 23, tzinfo=timezone.utc)),
    ],
)
def test_parse_datetime_reads_z_offsets_and_any_fraction_length(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() is not None


def test_parse_datetime_keeps_the_offset_it_was_given() -> None:
    assert parse_datetime("2025-03-14T00:00:00+01:00").utcoffset() == timedelta(hours=1)


def test_a_datetime_without_zone_needs_a_default_zone() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        parse_datetime("2025-03-14T00:00:00")
    zagreb = ZoneInfo("Europe/Zagreb")
    assert parse_datetime("2025-03-14T00:00:00", default_tz=zagreb) == datetime(2025, 3, 14, tzinfo=zagreb)


@pytest.mark.parametrize(
    "text",
    ["", "2025-03-13", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z", "2025-03-13T25:00:00Z", "yesterday"],
)
def test_parse_datetime_refuses_malformed_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(text)


def test_format_datetime_utc_writes_utc_with_z() -> None:
    moment = datetime(2025, 3, 14, tzinfo=ZoneInfo("Europe/Zagreb"))
    assert format_datetime_utc(moment) == "2025-03-13T23:00:00Z"
    assert format_datetime_utc(moment.replace(microsecond=120000)) == "2025-03-13T23:00:00.12Z"
    assert format_datetime_utc(moment, digits=3) == "2025-03-13T23:00:00.000Z"
    assert format_datetime_utc(moment.replace(microsecond=999999), digits=3) == "2025-03-13T23:00:00.999Z"


def test_format_datetime_utc_refuses_naive_datetimes_and_bad_digits() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        format_datetime_utc(datetime(2025, 3, 14))
    with pytest.raises(ValueError):
        format_datetime_utc(datetime(2025, 3, 14, tzinfo=timezone.utc), digits=7)


# --- properties ----------------------------------------------------------------------------------

whole_milliseconds = st.integers(min_value=-(10**12), max_value=10**12).map(
    lambda ms: timedelta(milliseconds=ms)
)


@given(whole_milliseconds)
def test_iso_durations_round_trip(td: timedelta) -> None:
    assert parse_duration(format_iso_duration(td)) == td


@given(whole_milliseconds)
def test_format_hms_agrees_with_total_seconds_int(td: timedelta) -> None:
    text = format_hms(td)
    hours, minutes, seconds = (int(part) for part in text.lstrip("-").split(":"))
    total = hours * 3600 + minutes * 60 + seconds
    assert minutes < 60 and seconds < 60
    assert (-total if text.startswith("-") else total) == total_seconds_int(td)


@given(st.integers(min_value=-(10**9), max_value=10**9).map(lambda s: timedelta(seconds=s)))
def test_time_spans_round_trip(td: timedelta) -> None:
    assert parse_timespan(format_timespan(td)) == td


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.timezones(),
        allow_imaginary=False,
    )
)
def test_datetimes_round_trip_through_utc_text(moment: datetime) -> None:
    # Compare in UTC: Python never finds an ambiguous local time (a DST fold) equal across zones.
    assert parse_datetime(format_datetime_utc(moment)) == moment.astimezone(timezone.utc)
