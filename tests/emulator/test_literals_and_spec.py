"""Pure parts of the emulator: path and literal parsing, wire conversions, the spec index."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from py3cx._durations import format_iso_duration, parse_duration
from py3cx.emulator.literals import LiteralError, PathSyntaxError, parse_literal, split_path
from py3cx.emulator.query import parse_query_options, split_query_string
from py3cx.emulator.spec import load_spec_index
from py3cx.emulator.store import datetime_to_storage, duration_to_wire, storage_to_wire_datetime


def test_split_path_keeps_quoted_commas_slashes_and_parentheses_inside_literals() -> None:
    segments = split_path("Reports/Pbx.Get(a='x, y/(z)',b=2025-03-01T00:00:00Z,c='it''s')")
    assert [s.name for s in segments] == ["Reports", "Pbx.Get"]
    assert segments[1].args == [("a", "'x, y/(z)'"), ("b", "2025-03-01T00:00:00Z"), ("c", "'it''s'")]


def test_split_path_tells_positional_keys_from_named_ones() -> None:
    assert split_path("Users(42)")[0].positional
    assert not split_path("Users(Number='100')")[0].positional
    assert split_path("Defs/Pbx.GetSystemParameters()")[1].args == []
    assert split_path("Users")[0].args is None


@pytest.mark.parametrize("path", ["Users('x", "Users(1", "Users)1(", "Users//Groups"])
def test_split_path_rejects_malformed_paths(path: str) -> None:
    with pytest.raises(PathSyntaxError):
        split_path(path)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("42", "int", 42),
        ("-7", "int", -7),
        ("true", "bool", True),
        ("'O''Brien'", "str", "O'Brien"),
        ("''", "str", ""),
        ("'0:00:0'", "str", "0:00:0"),
        ("2025-03-13T23:00:00.000Z", "datetime", datetime(2025, 3, 13, 23, tzinfo=timezone.utc)),
        ("2025-03-14T00:00:00+01:00", "datetime", datetime(2025, 3, 13, 23, tzinfo=timezone.utc)),
        ("2025-03-13T23:00:00.1234567Z", "datetime", datetime(2025, 3, 13, 23, 0, 0, 123456, timezone.utc)),
        ("duration'PT1M2S'", "duration", timedelta(minutes=1, seconds=2)),
    ],
)
def test_literals_are_typed_by_their_spec_kind(text: str, kind: str, value: object) -> None:
    assert parse_literal(text, kind) == value


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("'42'", "int"),
        ("2147483648", "int"),
        ("True", "bool"),
        ("O'Brien", "str"),
        ("'O'Brien'", "str"),
        ("2025-03-13", "datetime"),
        ("2025-03-13T25:00:00Z", "datetime"),
        ("2025-03-13T23:00:00", "datetime"),
        ("null", "int"),
        ("not-a-guid", "uuid"),
    ],
)
def test_malformed_literals_raise(text: str, kind: str) -> None:
    with pytest.raises(LiteralError):
        parse_literal(text, kind)


def test_null_is_accepted_only_where_nullable() -> None:
    assert parse_literal("null", "str", nullable=True) is None


def test_query_string_is_split_like_asp_net_core_plus_is_a_space_and_percent_escapes_decode() -> None:
    pairs = split_query_string(b"$filter=Name+eq%20'a%2Bb+c%26d%23e%C3%BC'&$top=5")
    assert pairs == [("$filter", "Name eq 'a+b c&d#eü'"), ("$top", "5")]
    opts = parse_query_options(b"$orderby=A%20desc,B,C%20asc&$select=A,B&$count=true&x=1")
    assert opts.orderby == [("A", True), ("B", False), ("C", False)]
    assert (opts.select, opts.count, opts.extra) == (["A", "B"], True, {"x": "1"})


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "PT0S"),
        (62, "PT1M2S"),
        (76.46, "PT1M16.46S"),
        (93780, "P1DT2H3M"),
        (86400, "P1D"),
        (-5, "-PT5S"),
        (3600.5, "PT1H0.5S"),
    ],
)
def test_durations_are_written_the_way_dotnet_writes_them(seconds: float, text: str) -> None:
    assert duration_to_wire(seconds) == text
    assert parse_literal(f"duration'{text}'", "duration").total_seconds() == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["PT0.1234567S", "-PT1M16.4600009S", "P2DT0.0000005S", "PT59.9999999S"])
def test_the_emulator_reads_and_writes_durations_exactly_as_the_client_does(text: str) -> None:
    # one implementation (py3cx._durations): digits past the microsecond are cut, never rounded
    value = parse_duration(text)
    assert parse_literal(f"duration'{text}'", "duration") == value
    assert duration_to_wire(value.total_seconds()) == format_iso_duration(value)


def test_storage_date_times_sort_as_instants_and_come_back_as_utc_with_z() -> None:
    early = datetime(2025, 3, 13, 23, 59, 59, 999000, tzinfo=timezone(timedelta(hours=2)))
    late = datetime(2025, 3, 13, 22, 0, 0, tzinfo=timezone.utc)
    assert datetime_to_storage(early) < datetime_to_storage(late)
    assert storage_to_wire_datetime(datetime_to_storage(early)) == "2025-03-13T21:59:59.999Z"
    assert storage_to_wire_datetime(datetime_to_storage(late)) == "2025-03-13T22:00:00Z"


def test_spec_index_knows_keys_alternate_keys_navigation_and_function_parameters() -> None:
    index = load_spec_index("20.0.10")
    users = index.entity_sets["Users"]
    assert [p.name for p in users.key] == ["Id"]
    assert [[p.name for p in k] for k in users.alternate_keys] == [["Number"]]
    assert index.properties("Pbx.Queue")["Agents"].navigation
    assert "Queues({Id})/Agents" in index.navigation_paths
    call_log = index.operation("ReportCallLogData", "Pbx.GetCallLogData")
    assert call_log is not None and call_log.returns_collection
    assert [(p.name, p.kind) for p in call_log.params][:3] == [
        ("periodFrom", "datetime"),
        ("periodTo", "datetime"),
        ("sourceType", "int"),
    ]
    assert index.operation("ActiveCalls({Id})", "Pbx.DropCall") is not None
    assert len(index.operations) == 324
    assert "Defs" in index.singletons and "SystemStatus" in index.singletons
    old = load_spec_index("20.0.4")
    assert old.entity_sets["Users"].alternate_keys == []
    assert old.operation("Users", "Pbx.GetByNumber") is not None
