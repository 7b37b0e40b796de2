"""key_path(), function_path(), action_path(): literals in URL paths, percent-encoded."""

from datetime import datetime, timedelta, timezone
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from py3cx.odata import EnumMember, TimeSpan, Typed, action_path, encode_path_literal, function_path, key_path

ZAGREB = ZoneInfo("Europe/Zagreb")
MARCH_14 = datetime(2025, 3, 14, tzinfo=ZAGREB)
MARCH_15 = datetime(2025, 3, 15, tzinfo=ZAGREB)


def test_a_key_path_with_an_integer_key() -> None:
    assert key_path("Users", 42) == "Users(42)"


def test_a_key_path_with_an_alternate_key_keeps_the_leading_zero() -> None:
    assert key_path("Users", Number="100") == "Users(Number='100')"
    assert key_path("Queues", Number="0336") == "Queues(Number='0336')"


def test_string_keys_are_quoted_escaped_and_percent_encoded() -> None:
    assert key_path("Users", Number="O'B 1/2") == "Users(Number='O''B%201%2F2')"


def test_several_named_keys_keep_their_order() -> None:
    assert key_path("DNProperties", Dn="100", Name="X") == "DNProperties(Dn='100',Name='X')"


def test_a_key_path_needs_exactly_one_kind_of_key() -> None:
    with pytest.raises(ValueError):
        key_path("Users")
    with pytest.raises(ValueError):
        key_path("Users", 1, Number="100")


@pytest.mark.parametrize("entity_set", ["", "Users Groups", "Users?x=1", "Users#", "../Users"])
def test_an_entity_set_that_is_not_a_name_is_refused(entity_set: str) -> None:
    with pytest.raises(ValueError):
        key_path(entity_set, 1)


def test_a_key_name_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(ValueError):
        key_path("Users", **{"Number='1'),Users(Id": "2"})


def test_the_call_log_function_path_like_the_web_ui() -> None:
    path = function_path(
        "ReportCallLogData",
        "Pbx.GetCallLogData",
        periodFrom=MARCH_14,
        periodTo=MARCH_15,
        sourceType=0,
        sourceFilter="",
        destinationType=0,
        destinationFilter="",
        callsType=0,
        callTimeFilterType=0,
        callTimeFilterFrom=TimeSpan(timedelta(0)),
        callTimeFilterTo=TimeSpan(timedelta(0)),
        hidePcalls=True,
    )
    assert path == (
        "ReportCallLogData/Pbx.GetCallLogData(periodFrom=2025-03-13T23:00:00.000Z,"
        "periodTo=2025-03-14T23:00:00.000Z,sourceType=0,sourceFilter='',destinationType=0,"
        "destinationFilter='',callsType=0,callTimeFilterType=0,callTimeFilterFrom='0:00:0',"
        "callTimeFilterTo='0:00:0',hidePcalls=true)"
    )


def test_several_queues_are_one_space_separated_string() -> None:
    path = function_path(
        "ReportAbandonedQueueCalls",
        "Pbx.GetAbandonedQueueCallsData",
        periodFrom=MARCH_14,
        periodTo=MARCH_15,
        queueDns="0336 0337",
        waitInterval=TimeSpan(timedelta(seconds=20)),
    )
    assert "queueDns='0336%200337',waitInterval='0:00:20')" in path


def test_arguments_keep_the_order_given() -> None:
    path = function_path("X", "Pbx.F", b=1, a=2, c=3)
    assert path == "X/Pbx.F(b=1,a=2,c=3)"


def test_a_function_without_arguments_has_empty_parentheses() -> None:
    assert function_path("Defs", "Pbx.GetSystemParameters") == "Defs/Pbx.GetSystemParameters()"
    assert function_path(None, "Pbx.GetSystemParameters") == "Pbx.GetSystemParameters()"


def test_a_function_bound_to_an_entity() -> None:
    path = function_path(key_path("Users", 7), "Pbx.GetPhoneRegistrars", mac="00:15:65:aa")
    assert path == "Users(7)/Pbx.GetPhoneRegistrars(mac='00:15:65:aa')"


def test_enum_and_typed_arguments() -> None:
    path = function_path(
        "EventLogs", "Pbx.GetEvents", severity=EnumMember("Pbx.Severity", "All"), n=Typed("5", "Edm.Int32")
    )
    assert path == "EventLogs/Pbx.GetEvents(severity=Pbx.Severity'All',n=5)"


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("a/b", "'a%2Fb'"),
        ("a?b", "'a%3Fb'"),
        ("a#b", "'a%23b'"),
        ("100%", "'100%25'"),
        ("a b", "'a%20b'"),
        ("a,b)", "'a%2Cb%29'"),
        ("x=y&z", "'x%3Dy%26z'"),
        ("a+b;c", "'a%2Bb%3Bc'"),
        ("Čakovec", "'%C4%8Cakovec'"),
        ("\x00\n", "'%00%0A'"),
        ("it's", "'it''s'"),
    ],
)
def test_argument_characters_that_could_break_the_path_are_percent_encoded(text: str, encoded: str) -> None:
    assert function_path("X", "Pbx.F", s=text) == f"X/Pbx.F(s={encoded})"
    assert unquote(encoded) == "'" + text.replace("'", "''") + "'"


def test_dates_numbers_and_quotes_stay_readable() -> None:
    moment = datetime(2025, 3, 13, 23, tzinfo=timezone.utc)
    assert encode_path_literal("2025-03-13T23:00:00.000Z") == "2025-03-13T23:00:00.000Z"
    assert function_path("X", "Pbx.F", d=moment, n=-1.5) == "X/Pbx.F(d=2025-03-13T23:00:00.000Z,n=-1.5)"


def test_a_naive_datetime_argument_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        function_path("X", "Pbx.F", periodFrom=datetime(2025, 3, 14))


@pytest.mark.parametrize("name", ["Pbx.F()", "Pbx F", "Pbx.F/../G", ""])
def test_a_function_name_that_is_not_a_qualified_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        function_path("X", name)


def test_an_argument_name_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(ValueError):
        function_path("X", "Pbx.F", **{"a=1,b": 2})


def test_action_paths() -> None:
    assert action_path("Users", "Pbx.BatchDelete") == "Users/Pbx.BatchDelete"
    assert action_path(key_path("ActiveCalls", 7), "Pbx.DropCall") == "ActiveCalls(7)/Pbx.DropCall"
    with pytest.raises(ValueError):
        action_path("Users", "Pbx.BatchDelete?x=1")
