"""Reading XAPI collections: query options, shapes, dates and keys (BEHAVIOUR.md §2, §3, §5)."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import quote

import pytest

from .emulator_harness import Pbx, instant


def _all(pbx: Pbx, path: str, page: int = 500) -> list[dict[str, Any]]:
    """Every row of a collection, paged with $top/$skip like a client must (there is no nextLink)."""
    rows: list[dict[str, Any]] = []
    sep = "&" if "?" in path else "?"
    while True:
        chunk = pbx.value(f"{path}{sep}$top={page}&$skip={len(rows)}")
        rows += chunk
        if len(chunk) < page:
            return rows


def test_collection_shape_has_context_and_value_and_no_next_link(shared_pbx: Pbx) -> None:
    body = shared_pbx.get("CallHistoryView").json()
    assert body["@odata.context"].endswith("/xapi/v1/$metadata#CallHistoryView")
    assert len(body["value"]) > 300, "the whole set comes back in one answer"
    assert "@odata.nextLink" not in body
    assert "@odata.count" not in body


def test_count_appears_only_with_count_true_and_counts_the_filtered_set(shared_pbx: Pbx) -> None:
    everyone = _all(shared_pbx, "Users")
    body = shared_pbx.get("Users?$count=true&$top=2&$filter=Enabled%20eq%20true").json()
    assert body["@odata.count"] == sum(1 for u in everyone if u.get("Enabled"))
    assert len(body["value"]) == 2
    assert "@odata.count" not in shared_pbx.get("Users?$count=false&$top=2").json()


def test_null_properties_are_left_out(shared_pbx: Pbx) -> None:
    users = _all(shared_pbx, "Users")
    assert all(None not in u.values() for u in users)
    assert any("Mobile" not in u for u in users), "some users have no mobile number, so no Mobile key"
    assert any("Mobile" in u for u in users)
    segments = _all(shared_pbx, "CallHistoryView")
    assert all(None not in s.values() for s in segments)


def test_date_times_are_utc_with_z_and_durations_are_iso_8601(shared_pbx: Pbx) -> None:
    segment = shared_pbx.value("CallHistoryView?$top=50")
    for row in segment:
        assert row["SegmentStartTime"].endswith("Z")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z", row["SegmentEndTime"])
        assert re.fullmatch(r"PT(\d+H)?(\d+M)?(\d+(\.\d+)?S)?", row["CallTime"]), row["CallTime"]
        start, end = instant(row["SegmentStartTime"]), instant(row["SegmentEndTime"])
        assert end >= start


def test_call_history_segments_have_all_27_fields_when_nothing_is_null(shared_pbx: Pbx) -> None:
    spec = shared_pbx.state.spec
    fields = set(spec.properties("Pbx.CallHistoryView"))
    assert len(fields) == 27
    seen: set[str] = set()
    for row in _all(shared_pbx, "CallHistoryView"):
        assert set(row) <= fields
        seen |= set(row)
    assert seen == fields


def test_select_returns_only_the_named_properties(shared_pbx: Pbx) -> None:
    body = shared_pbx.get("Users?$select=Number,LastName&$top=5").json()
    assert body["@odata.context"].endswith("#Users(Number,LastName)")
    assert all(set(u) == {"Number", "LastName"} for u in body["value"])


def test_select_of_an_unknown_property_is_a_400(shared_pbx: Pbx) -> None:
    response = shared_pbx.get("Users?$select=Number,Nope")
    assert response.status_code == 400
    assert "Nope" in response.json()["error"]["message"]


def test_orderby_takes_a_comma_list_with_directions(shared_pbx: Pbx) -> None:
    rows = shared_pbx.value("Users?$orderby=LastName%20desc,Number%20asc&$select=LastName,Number")
    expected = sorted(_all(shared_pbx, "Users"), key=lambda r: r["Number"])
    expected = sorted(expected, key=lambda r: r["LastName"], reverse=True)
    assert [r["Number"] for r in rows] == [r["Number"] for r in expected]


def test_a_plus_in_orderby_is_a_space_as_asp_net_core_decodes_query_values(shared_pbx: Pbx) -> None:
    with_plus = shared_pbx.value("Users?$orderby=Number+desc&$select=Number")
    assert with_plus == shared_pbx.value("Users?$orderby=Number%20desc&$select=Number")
    assert [r["Number"] for r in with_plus] == sorted((r["Number"] for r in with_plus), reverse=True)


def test_a_filter_written_with_plus_for_spaces_finds_the_user(shared_pbx: Pbx) -> None:
    # what two published Python SDKs send: every space of $filter as '+'
    rows = shared_pbx.value("Users?$filter=LastName+eq+'O''Brien'+and+FirstName+eq+'Sean'")
    assert [(r["FirstName"], r["LastName"]) for r in rows] == [("Sean", "O'Brien")]


def test_a_literal_plus_in_a_query_value_is_sent_as_percent_2b(shared_pbx: Pbx) -> None:
    someone = next(u for u in _all(shared_pbx, "Users") if u.get("Mobile"))
    assert someone["Mobile"].startswith("+")
    encoded = shared_pbx.value(f"Users?$filter=Mobile%20eq%20'{someone['Mobile'].replace('+', '%2B')}'")
    assert [r["Id"] for r in encoded] == [someone["Id"]]
    # a raw '+' is a space, so the same number written with '+' matches nobody
    assert shared_pbx.value(f"Users?$filter=Mobile%20eq%20'{someone['Mobile']}'") == []


def test_top_and_skip_page_through_a_stable_order(shared_pbx: Pbx) -> None:
    everything = shared_pbx.value("CallHistoryView?$orderby=SegmentStartTime%20asc&$select=SegmentId")
    page = shared_pbx.value(
        "CallHistoryView?$orderby=SegmentStartTime%20asc&$select=SegmentId&$skip=10&$top=7"
    )
    assert page == everything[10:17]


@pytest.mark.parametrize("query", ["$top=-1", "$skip=x", "$count=yes", "$frobnicate=1", "$top=1&$top=2"])
def test_bad_query_options_are_400_with_an_odata_error(shared_pbx: Pbx, query: str) -> None:
    response = shared_pbx.get(f"Users?{query}")
    assert response.status_code == 400
    assert set(response.json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("LastName eq O'Brien", "Syntax error at position 12 in 'LastName eq O'Brien'."),
        (
            "LastName eq 'Smith",
            "There is an unterminated string literal at position 18 in 'LastName eq 'Smith'.",
        ),
        ("LastName eq 'a' and", "Syntax error at position 16 in 'LastName eq 'a' and'."),
        ("(LastName eq 'a'", "Expression expected at position 16 in '(LastName eq 'a''."),
        (
            'LastName eq "a"',
            "Syntax error: character '\"' is not valid at position 12 in 'LastName eq \"a\"'.",
        ),
        ("Number eq '100')", "Syntax error at position 15 in 'Number eq '100')'."),
    ],
)
def test_a_malformed_filter_names_the_position_and_the_text_like_odata_lib(
    shared_pbx: Pbx, text: str, message: str
) -> None:
    response = shared_pbx.get("Users?$filter=" + quote(text, safe=""))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "The query specified in the URI is not valid. " + message
    assert "Token(" not in response.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Number desc asc", "Syntax error at position 12 in 'Number desc asc'."),
        ("Number,,LastName", "Expression expected at position 7 in 'Number,,LastName'."),
        ("Number descending", "Syntax error at position 7 in 'Number descending'."),
    ],
)
def test_a_malformed_orderby_names_the_position_and_the_text(
    shared_pbx: Pbx, text: str, message: str
) -> None:
    response = shared_pbx.get("Users?$orderby=" + quote(text, safe=""))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The query specified in the URI is not valid. " + message


def test_filter_with_functions_and_boolean_operators(shared_pbx: Pbx) -> None:
    users = _all(shared_pbx, "Users")
    rows = shared_pbx.value(
        "Users?$filter=" + quote("startswith(Number,'10') and (contains(LastName,'a') or Mobile eq null)")
    )
    expected = [
        u["Number"]
        for u in users
        if u["Number"].startswith("10") and ("a" in u["LastName"] or "Mobile" not in u)
    ]
    assert sorted(r["Number"] for r in rows) == sorted(expected)


def test_contains_treats_percent_and_underscore_literally(shared_pbx: Pbx) -> None:
    assert shared_pbx.value("Users?$filter=" + quote("contains(LastName,'%')")) == []
    assert shared_pbx.value("Users?$filter=" + quote("contains(EmailAddress,'_')")) == []


def test_filter_on_an_unknown_property_is_a_400(shared_pbx: Pbx) -> None:
    response = shared_pbx.get("Users?$filter=" + quote("Shoe eq 'x'"))
    assert response.status_code == 400
    assert "Shoe" in response.json()["error"]["message"]


def test_date_function_filters_call_history_by_day(shared_pbx: Pbx) -> None:
    segments = _all(shared_pbx, "CallHistoryView")
    days = sorted({s["SegmentStartTime"][:10] for s in segments})
    low, high = days[len(days) // 4], days[len(days) // 2]
    query = f"date(SegmentStartTime) ge {low} and date(SegmentStartTime) le {high}"
    rows = _all(shared_pbx, "CallHistoryView?$filter=" + quote(query))
    expected = {s["SegmentId"] for s in segments if low <= s["SegmentStartTime"][:10] <= high}
    assert {r["SegmentId"] for r in rows} == expected
    assert expected, "the window is not empty"


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "gt"])
def test_date_function_supports_every_comparison(shared_pbx: Pbx, op: str) -> None:
    segments = _all(shared_pbx, "CallHistoryView")
    day = sorted({s["SegmentStartTime"][:10] for s in segments})[5]
    rows = _all(shared_pbx, "CallHistoryView?$filter=" + quote(f"date(SegmentStartTime) {op} {day}"))
    compare = {
        "eq": lambda d: d == day,
        "ne": lambda d: d != day,
        "lt": lambda d: d < day,
        "gt": lambda d: d > day,
    }[op]
    assert {r["SegmentId"] for r in rows} == {
        s["SegmentId"] for s in segments if compare(s["SegmentStartTime"][:10])
    }


def test_datetimeoffset_literals_compare_as_instants_whatever_their_offset(shared_pbx: Pbx) -> None:
    segments = _all(shared_pbx, "CallHistoryView")
    pivot = sorted(instant(s["SegmentStartTime"]) for s in segments)[len(segments) // 3]
    literal = pivot.astimezone(timezone.utc).replace(microsecond=0)
    local = literal.astimezone(datetime.now().astimezone().tzinfo).isoformat()  # e.g. +01:00
    for text in (literal.strftime("%Y-%m-%dT%H:%M:%SZ"), local, literal.strftime("%Y-%m-%dT%H:%M:%S.000Z")):
        rows = _all(shared_pbx, "CallHistoryView?$filter=" + quote(f"SegmentStartTime lt {text}"))
        assert {r["SegmentId"] for r in rows} == {
            s["SegmentId"] for s in segments if instant(s["SegmentStartTime"]) < literal
        }


def test_duration_literals_compare_with_call_time(shared_pbx: Pbx) -> None:
    segments = _all(shared_pbx, "CallHistoryView")
    rows = _all(shared_pbx, "CallHistoryView?$filter=" + quote("CallTime gt duration'PT5M'"))
    from py3cx._durations import parse_duration

    assert {r["SegmentId"] for r in rows} == {
        s["SegmentId"] for s in segments if parse_duration(s["CallTime"]).total_seconds() > 300
    }


def test_search_matches_names_numbers_and_emails_case_insensitively(shared_pbx: Pbx) -> None:
    rows = shared_pbx.value("Users?$search=" + quote("o'brien"))
    assert [r["LastName"] for r in rows] == ["O'Brien"]


def test_expand_agents_of_queues_and_nested_select(shared_pbx: Pbx) -> None:
    plain = shared_pbx.value("Queues")
    assert all("Agents" not in q for q in plain), "navigation properties only come when expanded"
    queues = shared_pbx.value("Queues?$expand=Agents")
    assert {q["Number"] for q in queues} >= {"0336", "0337"}
    for queue in queues:
        assert queue["Agents"] and all(re.fullmatch(r"\d{3}", a["Number"]) for a in queue["Agents"])
    slim = shared_pbx.value("Queues?$expand=Agents($select=Number)")
    assert all(set(a) == {"Number"} for q in slim for a in q["Agents"])


def test_expand_of_a_plain_property_is_a_400(shared_pbx: Pbx) -> None:
    assert shared_pbx.get("Queues?$expand=Name").status_code == 400


def test_navigation_path_lists_a_queues_agents_with_query_options(shared_pbx: Pbx) -> None:
    queue = shared_pbx.value("Queues?$filter=" + quote("Number eq '0336'") + "&$expand=Agents")[0]
    body = shared_pbx.get(f"Queues({queue['Id']})/Agents?$count=true&$orderby=Number%20desc").json()
    assert body["@odata.count"] == len(queue["Agents"])
    assert [a["Number"] for a in body["value"]] == sorted(
        (a["Number"] for a in queue["Agents"]), reverse=True
    )


def test_key_and_alternate_key_reach_the_same_user(shared_pbx: Pbx) -> None:
    user = shared_pbx.value("Users?$filter=" + quote("LastName eq 'O''Brien'"))[0]
    by_id = shared_pbx.get(f"Users({user['Id']})").json()
    by_number = shared_pbx.get(f"Users(Number='{user['Number']}')").json()
    assert by_id["@odata.context"].endswith("#Users/$entity")
    assert {k: v for k, v in by_id.items() if k != "@odata.context"} == user
    assert by_number == by_id


def test_queue_numbers_keep_their_leading_zero_in_alternate_keys(shared_pbx: Pbx) -> None:
    assert shared_pbx.get("Queues(Number='0336')").json()["Number"] == "0336"
    assert shared_pbx.get("Queues(Number='336')").status_code == 404


@pytest.mark.parametrize("path", ["Users(999999)", "Users(Number='999')", "Queues(424242)"])
def test_unknown_key_is_404_not_found(shared_pbx: Pbx, path: str) -> None:
    response = shared_pbx.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["details"][0]["message"] == "WARNINGS.XAPI.NOT_FOUND"


@pytest.mark.parametrize("path", ["Userz", "Users(1)/Nope", "Users(Color='red')", "Users(abc)"])
def test_unknown_paths_are_404(shared_pbx: Pbx, path: str) -> None:
    assert shared_pbx.get(path).status_code == 404


def test_singletons_defs_and_system_status_carry_the_build(shared_pbx: Pbx) -> None:
    build = shared_pbx.state.config.build
    status = shared_pbx.get("SystemStatus").json()
    assert status["@odata.context"].endswith("#SystemStatus")
    assert status["Version"] == build
    assert shared_pbx.get("SystemStatus?$select=Version").json() == {
        "@odata.context": status["@odata.context"],
        "Version": build,
    }
    assert shared_pbx.get("Defs").status_code == 200
    assert shared_pbx.get("Defs/Pbx.GetSystemParameters()").json()["Version"] == build


def test_active_calls_are_live_and_report_the_server_clock(shared_pbx: Pbx) -> None:
    body = shared_pbx.get("ActiveCalls?$count=true&$orderby=EstablishedAt%20asc").json()
    assert 1 <= body["@odata.count"] == len(body["value"])
    established = [instant(c["EstablishedAt"]) for c in body["value"]]
    assert established == sorted(established)
    server_now = instant(body["value"][0]["ServerNow"])
    assert abs((server_now - datetime.now(timezone.utc)).total_seconds()) < 60


def test_event_logs_are_listed_with_typed_levels(shared_pbx: Pbx) -> None:
    logs = shared_pbx.value("EventLogs?$filter=" + quote("Type eq 'Error'"))
    assert logs and all(log["Type"] == "Error" for log in logs)


def test_call_history_spans_the_90_days_before_the_anchor(shared_pbx: Pbx) -> None:
    anchor = shared_pbx.state.anchor
    starts = [instant(s["SegmentStartTime"]) for s in _all(shared_pbx, "CallHistoryView")]
    assert max(starts) < anchor
    assert (anchor - min(starts)).days <= 90
    assert (anchor - min(starts)).days >= 80
    assert date(2025, 3, 19) in {s.date() for s in starts}


def test_sets_without_key_paths_in_the_spec_cannot_be_read_by_key(shared_pbx: Pbx) -> None:
    call = shared_pbx.value("ActiveCalls?$top=1")[0]
    assert shared_pbx.get(f"ActiveCalls({call['Id']})").status_code == 404
    segment = shared_pbx.value("CallHistoryView?$top=1")[0]
    assert shared_pbx.get(f"CallHistoryView({segment['SegmentId']})").status_code == 404
