"""Functions (GET, arguments inlined in the path) and actions (POST, JSON body), BEHAVIOUR.md §2–§4."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import pytest

from py3cx.emulator import FunctionContext, registry, xapi_function

from .emulator_harness import Pbx, make_pbx

CALL_LOG = "ReportCallLogData/Pbx.GetCallLogData"
GOOD_ARGS = {
    "periodFrom": "2025-03-01T00:00:00Z",
    "periodTo": "2025-03-13T23:00:00.000%2B01:00",
    "sourceType": "0",
    "sourceFilter": "'O''Brien 100%25'",
    "destinationType": "0",
    "destinationFilter": "''",
    "callsType": "0",
    "callTimeFilterType": "0",
    "callTimeFilterFrom": "'0:00:0'",
    "callTimeFilterTo": "'0:00:0'",
    "hidePcalls": "true",
}


def _path(**overrides: str | None) -> str:
    args = {**GOOD_ARGS, **overrides}
    inline = ",".join(f"{k}={v}" for k, v in args.items() if v is not None)
    return f"{CALL_LOG}({inline})"


@pytest.fixture
def echo_call_log() -> Iterator[list[FunctionContext]]:
    """Stand in a handler for GetCallLogData that records what it was given and echoes it as rows."""
    seen: list[FunctionContext] = []
    previous = registry.lookup("ReportCallLogData", "Pbx.GetCallLogData")

    @xapi_function("ReportCallLogData", "Pbx.GetCallLogData")
    def echo(ctx: FunctionContext) -> list[dict[str, Any]]:
        seen.append(ctx)
        return [
            {"CdrId": name, "SourceDn": repr(value), "CallId": i}
            for i, (name, value) in enumerate(ctx.args.items())
        ]

    yield seen
    registry.restore("ReportCallLogData", "Pbx.GetCallLogData", previous)


def test_function_arguments_reach_the_handler_typed(
    shared_pbx: Pbx, echo_call_log: list[FunctionContext]
) -> None:
    response = shared_pbx.get(_path())
    assert response.status_code == 200, response.text
    args = echo_call_log[-1].args
    assert args["periodFrom"] == datetime(2025, 3, 1, tzinfo=timezone.utc)
    assert args["periodTo"] == datetime(2025, 3, 13, 22, 0, tzinfo=timezone.utc)
    assert args["sourceFilter"] == "O'Brien 100%"
    assert args["destinationFilter"] == ""
    assert args["sourceType"] == 0 and args["hidePcalls"] is True
    assert args["callTimeFilterFrom"] == "0:00:0"
    assert echo_call_log[-1].identity.principal == "client:owner"


def test_collections_returned_by_a_handler_get_query_options(
    shared_pbx: Pbx, echo_call_log: list[FunctionContext]
) -> None:
    body = shared_pbx.get(
        _path()
        + "?$count=true&$filter="
        + quote("startswith(CdrId,'period')")
        + "&$orderby=CdrId%20desc&$top=1"
    ).json()
    assert body["@odata.count"] == 2
    assert [r["CdrId"] for r in body["value"]] == ["periodTo"]
    assert body["@odata.context"].endswith("#Collection(Pbx.CallLogData)")
    assert "@odata.nextLink" not in body


@pytest.mark.parametrize("missing", ["periodFrom", "hidePcalls", "callTimeFilterTo"])
def test_leaving_out_any_function_argument_is_a_404(
    shared_pbx: Pbx, echo_call_log: list[FunctionContext], missing: str
) -> None:
    response = shared_pbx.get(_path(**{missing: None}))
    assert response.status_code == 404
    assert missing in response.json()["error"]["message"]
    assert echo_call_log == [], "the handler never runs"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("periodFrom", "2025-02-30T00:00:00Z"),  # no such day
        ("periodFrom", "'2025-03-01T00:00:00Z'"),  # date-times are not quoted
        ("periodFrom", "2025-03-01"),  # a date is not a date-time
        ("sourceType", "zero"),
        ("sourceType", "99999999999"),
        ("sourceFilter", "Brien"),  # strings must be quoted
        ("hidePcalls", "1"),
    ],
)
def test_a_malformed_function_argument_is_a_500(
    shared_pbx: Pbx, echo_call_log: list[FunctionContext], name: str, value: str
) -> None:
    response = shared_pbx.get(_path(**{name: value}))
    assert response.status_code == 500
    assert name in response.json()["error"]["message"]
    assert echo_call_log == []


def test_an_unknown_argument_is_a_404(shared_pbx: Pbx, echo_call_log: list[FunctionContext]) -> None:
    assert shared_pbx.get(_path(colour="'red'")).status_code == 404


@pytest.mark.parametrize(
    "path", ["Users/Pbx.NoSuchFunction()", "Defs/Pbx.GetSystemParameterz()", "Pbx.GetSystemParameters()"]
)
def test_an_unknown_function_is_a_404(shared_pbx: Pbx, path: str) -> None:
    assert shared_pbx.get(path).status_code == 404


def test_a_spec_function_without_a_handler_answers_what_its_schema_describes(shared_pbx: Pbx) -> None:
    previous = registry.unregister("ReportCallLogData", "Pbx.GetCallLogData")
    try:
        response = shared_pbx.get(_path())
        assert response.status_code == 200
        rows = response.json()["value"]
        # Pbx.CallLogData is no stored entity: two rows made from its schema, typed as it says
        assert len(rows) == 2
        assert all(isinstance(row["CdrId"], str) and isinstance(row["Answered"], bool) for row in rows)
    finally:
        registry.restore("ReportCallLogData", "Pbx.GetCallLogData", previous)


def test_functions_answer_get_only_and_actions_post_only(shared_pbx: Pbx) -> None:
    assert shared_pbx.xapi("POST", "Defs/Pbx.GetSystemParameters()").status_code == 405
    assert shared_pbx.get("Users/Pbx.BatchDelete").status_code == 405


def test_action_with_a_body_that_is_not_json_is_a_400(shared_pbx: Pbx) -> None:
    response = shared_pbx.xapi("POST", "Users/Pbx.BatchDelete", content=b"{nope")
    assert response.status_code == 400


def test_first_available_extension_number_is_the_spec_shape_and_free(shared_pbx: Pbx) -> None:
    taken = {u["Number"] for u in shared_pbx.value("Users")}
    body = shared_pbx.get("Users/Pbx.GetFirstAvailableExtensionNumber()").json()
    assert body["Number"] not in taken
    assert len(body["Number"]) == 3
    assert "value" not in body


def test_swagger_yaml_is_the_official_file_of_the_emulated_version(shared_pbx: Pbx) -> None:
    from py3cx.emulator.spec import spec_path

    response = shared_pbx.get("swagger.yaml")
    assert response.status_code == 200
    assert response.content == spec_path("20.0.10").read_bytes()
    assert b"Users(Number={Number})" in response.content


def test_a_20_0_4_pbx_has_get_by_number_functions_and_no_alternate_keys() -> None:
    pbx = make_pbx(spec_version="20.0.4")
    try:
        assert pbx.get("swagger.yaml").content.count(b"Pbx.GetByNumber") > 0
        assert pbx.get("Users(Number='100')").status_code == 404
        user = pbx.get("Users/Pbx.GetByNumber(number='100')")
        assert user.status_code == 200
        assert user.json()["Number"] == "100"
        assert pbx.get("Defs/Pbx.GetSystemParameters()").json()["Version"].startswith("20.0.4.")
    finally:
        pbx.close()


def test_get_by_number_does_not_exist_on_20_0_10(shared_pbx: Pbx) -> None:
    assert shared_pbx.get("Users/Pbx.GetByNumber(number='100')").status_code == 404


def test_a_failing_handler_answers_an_odata_500_not_a_traceback(shared_pbx: Pbx) -> None:
    previous = registry.lookup("ReportCallLogData", "Pbx.GetCallLogData")

    @xapi_function("ReportCallLogData", "Pbx.GetCallLogData")
    def broken(ctx: FunctionContext) -> list[dict[str, Any]]:
        raise RuntimeError("secret internals")

    try:
        response = shared_pbx.get(_path())
        assert response.status_code == 500
        assert response.json() == {"error": {"code": "", "message": "An error has occurred."}}
    finally:
        registry.restore("ReportCallLogData", "Pbx.GetCallLogData", previous)


def test_a_handler_may_return_a_file_as_bytes(shared_pbx: Pbx) -> None:
    previous = registry.lookup("CallHistoryView", "Pbx.DownloadCallHistory")

    @xapi_function("CallHistoryView", "Pbx.DownloadCallHistory")
    def download(ctx: FunctionContext) -> bytes:
        return b"SegmentId,CallTime\r\n1,PT1S\r\n"

    try:
        response = shared_pbx.get("CallHistoryView/Pbx.DownloadCallHistory()")
        assert response.status_code == 200
        assert response.content == b"SegmentId,CallTime\r\n1,PT1S\r\n"
        assert response.headers["content-type"] == "application/octet-stream"
    finally:
        registry.restore("CallHistoryView", "Pbx.DownloadCallHistory", previous)
