"""literal(): the one OData literal encoder for filters, keys and function arguments."""

import enum
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from py3cx.odata import EDM_TYPES, Duration, EnumMember, TimeSpan, Typed, literal

ZAGREB = ZoneInfo("Europe/Zagreb")


class Severity(str, enum.Enum):
    ALL = "All"


class CallType(enum.IntEnum):
    INBOUND = 2


# --- strings -------------------------------------------------------------------------------------


def test_a_string_is_single_quoted() -> None:
    assert literal("100") == "'100'"


def test_a_quote_in_a_string_is_doubled() -> None:
    assert literal("O'Brien") == "'O''Brien'"
    assert literal("''") == "''''''"


def test_the_empty_string_is_two_quotes() -> None:
    assert literal("") == "''"


@pytest.mark.parametrize("text", ["50%", "#1", "a&b", "a+b", "a/b", "Čakovec ☎", "line\nbreak", "tab\t\x00"])
def test_any_other_character_is_left_for_url_encoding(text: str) -> None:
    assert literal(text) == f"'{text}'"


def test_a_str_enum_is_encoded_by_its_value() -> None:
    assert literal(Severity.ALL) == "'All'"


# --- numbers and booleans ------------------------------------------------------------------------


def test_integers_are_bare() -> None:
    assert literal(42) == "42"
    assert literal(-7) == "-7"
    assert literal(CallType.INBOUND) == "2"


def test_booleans_are_lower_case_and_not_taken_for_integers() -> None:
    assert literal(True) == "true"
    assert literal(False) == "false"


def test_none_is_null() -> None:
    assert literal(None) == "null"
    assert literal(None, "Edm.Int32") == "null"


def test_a_decimal_never_uses_an_exponent() -> None:
    assert literal(Decimal("1E+3")) == "1000"
    assert literal(Decimal("12.50")) == "12.50"
    assert literal(Decimal("1E-7")) == "0.0000001"


def test_a_float_is_bare() -> None:
    assert literal(0.5) == "0.5"
    assert literal(-2.0) == "-2.0"


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity")]
)
def test_non_finite_numbers_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        literal(value)


# --- identifiers, dates and times ----------------------------------------------------------------


def test_a_uuid_is_bare() -> None:
    value = uuid.UUID("5c1d2f3e-0000-4000-8000-00000000abcd")
    assert literal(value) == "5c1d2f3e-0000-4000-8000-00000000abcd"


def test_a_date_is_bare_iso() -> None:
    assert literal(date(2025, 3, 1)) == "2025-03-01"


def test_an_aware_datetime_is_unquoted_utc_with_milliseconds() -> None:
    local_midnight = datetime(2025, 3, 14, tzinfo=ZAGREB)
    assert literal(local_midnight) == "2025-03-13T23:00:00.000Z"


def test_datetime_microseconds_are_truncated_to_milliseconds() -> None:
    value = datetime(2025, 3, 13, 23, 0, 0, 123999, tzinfo=timezone.utc)
    assert literal(value) == "2025-03-13T23:00:00.123Z"


def test_a_naive_datetime_is_refused_with_a_hint_about_the_zone() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        literal(datetime(2025, 3, 14))


def test_a_time_of_day_is_bare() -> None:
    assert literal(time(13, 5)) == "13:05:00"


# --- time spans, durations, enums ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(0), "'0:00:0'"),
        (timedelta(seconds=20), "'0:00:20'"),
        (timedelta(hours=1, minutes=2, seconds=3), "'1:02:3'"),
        (timedelta(hours=23, minutes=59, seconds=59), "'23:59:59'"),
        (timedelta(days=1, hours=3, seconds=4), "'1.03:00:4'"),
    ],
)
def test_a_time_span_is_quoted_hours_unpadded_minutes_two_digits_seconds_unpadded(
    span: timedelta, text: str
) -> None:
    assert literal(TimeSpan(span)) == text


def test_a_time_span_with_a_fraction_of_a_second_is_refused() -> None:
    with pytest.raises(ValueError, match="whole seconds"):
        literal(TimeSpan(timedelta(seconds=1.5)))


def test_a_duration_is_an_edm_duration_literal() -> None:
    assert literal(Duration(timedelta(days=1, hours=2, minutes=3, seconds=4.5))) == "duration'P1DT2H3M4.5S'"
    assert literal(Duration(timedelta(0))) == "duration'PT0S'"


def test_a_negative_duration_has_a_leading_minus() -> None:
    assert literal(Duration(-timedelta(minutes=1))) == "duration'-PT1M'"


def test_a_bare_timedelta_is_refused_because_it_is_ambiguous() -> None:
    with pytest.raises(TypeError, match="TimeSpan"):
        literal(timedelta(seconds=20))


def test_wrappers_refuse_what_is_not_a_timedelta() -> None:
    with pytest.raises(TypeError):
        TimeSpan(20)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Duration("PT1M")  # type: ignore[arg-type]


def test_an_enum_member_is_type_qualified() -> None:
    assert literal(EnumMember("Pbx.Severity", "All")) == "Pbx.Severity'All'"


@pytest.mark.parametrize(
    ("enum_type", "member"), [("Severity", "All"), ("Pbx.Severity", "All'"), ("Pbx.X", "")]
)
def test_an_enum_member_that_could_break_the_literal_is_refused(enum_type: str, member: str) -> None:
    with pytest.raises(ValueError):
        EnumMember(enum_type, member)


def test_wrappers_are_frozen() -> None:
    span = TimeSpan(timedelta(0))
    with pytest.raises(AttributeError):
        span.value = timedelta(1)  # type: ignore[misc]


def test_an_unknown_python_type_is_refused() -> None:
    with pytest.raises(TypeError, match="bytes"):
        literal(b"100")


# --- edm_type ------------------------------------------------------------------------------------


def test_edm_string_refuses_an_int_so_leading_zeros_are_not_lost() -> None:
    assert literal("0336", "Edm.String") == "'0336'"
    with pytest.raises(TypeError, match="leading zero"):
        literal(336, "Edm.String")


def test_edm_string_takes_a_time_span() -> None:
    assert literal(TimeSpan(timedelta(seconds=20)), "Edm.String") == "'0:00:20'"


def test_edm_integers_are_range_checked() -> None:
    assert literal(2**31 - 1, "Edm.Int32") == "2147483647"
    with pytest.raises(ValueError, match="out of range"):
        literal(2**31, "Edm.Int32")
    with pytest.raises(ValueError, match="out of range"):
        literal(-1, "Edm.Byte")


def test_edm_integers_take_digit_text_but_not_anything_else() -> None:
    assert literal("42", "Edm.Int32") == "42"
    with pytest.raises(TypeError):
        literal("42 or 1 eq 1", "Edm.Int32")
    with pytest.raises(TypeError):
        literal(True, "Edm.Int32")


def test_edm_boolean_takes_bools_and_their_text() -> None:
    assert literal(True, "Edm.Boolean") == "true"
    assert literal("FALSE", "Edm.Boolean") == "false"
    with pytest.raises(TypeError):
        literal(1, "Edm.Boolean")


def test_edm_decimal_writes_floats_and_text_without_exponent() -> None:
    assert literal(1e-7, "Edm.Decimal") == "0.0000001"
    assert literal("2.50", "Edm.Decimal") == "2.50"
    with pytest.raises(ValueError):
        literal("2,5", "Edm.Decimal")


def test_edm_double_takes_numbers_and_number_text() -> None:
    assert literal(3, "Edm.Double") == "3"
    assert literal("2.5", "Edm.Double") == "2.5"
    with pytest.raises(ValueError):
        literal("1_000", "Edm.Double")
    with pytest.raises(ValueError):
        literal("nan", "Edm.Double")


def test_edm_guid_validates_and_normalises_text() -> None:
    assert (
        literal("5C1D2F3E-0000-4000-8000-00000000ABCD", "Edm.Guid") == "5c1d2f3e-0000-4000-8000-00000000abcd"
    )
    with pytest.raises(ValueError, match="GUID"):
        literal("5c1d' or 1 eq 1", "Edm.Guid")


def test_edm_date_refuses_a_datetime_whose_day_depends_on_the_zone() -> None:
    assert literal("2025-03-01", "Edm.Date") == "2025-03-01"
    with pytest.raises(TypeError):
        literal(datetime(2025, 3, 1, tzinfo=timezone.utc), "Edm.Date")


def test_edm_datetimeoffset_parses_text_and_normalises_to_utc() -> None:
    assert literal("2025-03-14T00:00:00+01:00", "Edm.DateTimeOffset") == "2025-03-13T23:00:00.000Z"
    with pytest.raises(ValueError, match="no time zone"):
        literal("2025-03-14T00:00:00", "Edm.DateTimeOffset")
    with pytest.raises(TypeError):
        literal(date(2025, 3, 14), "Edm.DateTimeOffset")


def test_edm_duration_takes_a_timedelta_or_iso_text() -> None:
    assert literal(timedelta(seconds=76.46), "Edm.Duration") == "duration'PT1M16.46S'"
    assert literal("P1D", "Edm.Duration") == "duration'P1D'"
    with pytest.raises(ValueError):
        literal("1 day", "Edm.Duration")


def test_an_enum_edm_type_makes_an_enum_literal_from_a_name() -> None:
    assert literal("All", "Pbx.Severity") == "Pbx.Severity'All'"
    assert literal(Severity.ALL, "Pbx.Severity") == "Pbx.Severity'All'"
    with pytest.raises(TypeError, match=r"Pbx\.Severity"):
        literal(EnumMember("Pbx.Other", "All"), "Pbx.Severity")


def test_an_unknown_edm_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown edm_type"):
        literal("x", "Edm.Strng")


def test_typed_carries_its_edm_type_into_places_without_one() -> None:
    assert literal(Typed("42", "Edm.Int64")) == "42"
    with pytest.raises(ValueError):
        literal(Typed(2**63, "Edm.Int64"))


def test_edm_types_lists_the_common_primitive_types() -> None:
    assert {"Edm.String", "Edm.Int32", "Edm.DateTimeOffset", "Edm.Duration", "Edm.Guid"} <= EDM_TYPES
