"""HTTP error answers become one exception class per status, with the OData error and a hint."""

from __future__ import annotations

import asyncio
import json

import httpx2
import pytest

import py3cx
from py3cx._base_client import error_from_response, is_function_path
from py3cx._exceptions import hint_for
from py3cx.emulator import create_app

from .emulated import owner_of, small_config, unique_pbx_url

ALREADY_IN_USE = json.dumps(
    {
        "error": {
            "code": "",
            "message": "Number:\nWARNINGS.XAPI.ALREADY_IN_USE",
            "details": [{"code": "", "message": "WARNINGS.XAPI.ALREADY_IN_USE", "target": "Number"}],
        }
    }
).encode()

CALL_LOG = "/xapi/v1/ReportCallLogData/Pbx.GetCallLogData(periodFrom=2025-03-13T23:00:00.000Z)"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, py3cx.BadRequestError),
        (401, py3cx.AuthenticationError),
        (403, py3cx.PermissionDeniedError),
        (404, py3cx.NotFoundError),
        (409, py3cx.ConflictError),
        (429, py3cx.RateLimitError),
        (500, py3cx.InternalServerError),
        (501, py3cx.InternalServerError),
        (502, py3cx.InternalServerError),
        (503, py3cx.ServiceUnavailableError),
        (504, py3cx.GatewayTimeoutError),
        (418, py3cx.APIStatusError),
    ],
)
def test_each_status_has_its_class(status: int, cls: type[py3cx.APIStatusError]) -> None:
    error = error_from_response(status, "Reason", b"", "GET", "/xapi/v1/Users")
    assert type(error) is cls
    assert error.status_code == status
    assert error.method == "GET"
    assert error.path == "/xapi/v1/Users"


def test_odata_error_body_is_parsed() -> None:
    error = error_from_response(400, "Bad Request", ALREADY_IN_USE, "POST", "/xapi/v1/Users")
    assert error.odata_error is not None
    assert error.odata_error.message == "Number:\nWARNINGS.XAPI.ALREADY_IN_USE"
    assert error.odata_error.keys == ("WARNINGS.XAPI.ALREADY_IN_USE",)
    assert error.odata_error.target == "Number"
    assert error.odata_error.details[0]["target"] == "Number"
    assert error.hint == "that number is taken"


def test_str_reads_status_reason_path_message_and_hint() -> None:
    error = error_from_response(400, "Bad Request", ALREADY_IN_USE, "POST", "/xapi/v1/Users")
    assert str(error) == (
        "400 Bad Request on /xapi/v1/Users: Number: WARNINGS.XAPI.ALREADY_IN_USE (that number is taken)"
    )


def test_403_on_call_history_names_system_owner() -> None:
    error = error_from_response(403, "Forbidden", b"", "GET", "/xapi/v1/CallHistoryView")
    assert isinstance(error, py3cx.PermissionDeniedError)
    assert error.hint == (
        "this API client has the System Admin role; call history needs System Owner "
        "(Admin > Integrations > API)."
    )


def test_403_on_other_owner_only_sets_names_what_needs_owner() -> None:
    assert "recordings needs System Owner" in (hint_for(403, "/xapi/v1/Recordings") or "")
    assert "role" in (hint_for(403, "/xapi/v1/Users") or "")


def test_404_on_a_function_says_argument_missing_or_malformed() -> None:
    error = error_from_response(404, "Not Found", b"", "GET", CALL_LOG)
    assert error.hint == "a function was called with a missing or malformed argument, or the path is wrong"


def test_404_on_a_plain_path_is_about_the_path() -> None:
    hint = hint_for(404, "/xapi/v1/Users(999)")
    assert hint is not None and "function" not in hint


def test_500_on_a_function_says_wrong_type_or_date_format() -> None:
    assert hint_for(500, CALL_LOG, function=True) == "an argument has the wrong type or date format"
    assert hint_for(500, "/xapi/v1/Users") is None


def test_504_says_use_a_shorter_range() -> None:
    hint = hint_for(504, "/xapi/v1/CallHistoryView")
    assert hint == "the query ran too long: use a shorter date range"


def test_401_hint_mentions_revoked_client_and_shared_client_id() -> None:
    hint = hint_for(401, "/xapi/v1/Users") or ""
    assert "revoked" in hint and "same client id" in hint


def test_missing_function_argument_message_gets_its_hint() -> None:
    body = json.dumps({"error": {"code": "", "message": "The queueDnStr field is required."}}).encode()
    error = error_from_response(400, "Bad Request", body, "GET", CALL_LOG)
    assert error.hint == "a required function argument is missing"
    assert "queueDnStr" in str(error)


def test_a_body_that_is_not_json_becomes_the_message() -> None:
    error = error_from_response(502, "Bad Gateway", b"<html>upstream down</html>", "GET", "/xapi/v1/Users")
    assert error.odata_error is None
    assert "upstream down" in str(error)


def test_empty_body_still_gives_a_readable_message() -> None:
    error = error_from_response(404, "Not Found", b"", "DELETE", "/xapi/v1/Users(5)")
    assert str(error).startswith("404 Not Found on /xapi/v1/Users(5)")


def test_function_paths_are_recognised() -> None:
    assert is_function_path(CALL_LOG)
    assert is_function_path("Users/Pbx.BatchDelete")
    assert is_function_path("/xapi/v1/Defs/Pbx.GetSystemParameters()")
    assert not is_function_path("/xapi/v1/Users(Number='100')")
    assert not is_function_path("/xapi/v1/Pbxs")


def test_a_proxy_html_page_becomes_a_one_line_message() -> None:
    page = (
        b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
        b"<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>"
    )
    err = error_from_response(504, "Gateway Time-out", page, "GET", "/xapi/v1/CallHistoryView")
    assert err.message == "504 Gateway Time-out"
    assert "<" not in str(err)
    assert "shorter date range" in str(err)


# -- a $filter the PBX cannot read: the answer names the place, the hint says how to quote ----------


def _emulated_pbx() -> tuple[str, str, str, httpx2.ASGITransport]:
    cfg = small_config(calls=10)
    owner = owner_of(cfg)
    return unique_pbx_url(), owner.client_id, owner.secret, httpx2.ASGITransport(create_app(cfg))


def _assert_quoting_advice(error: py3cx.BadRequestError) -> None:
    assert "Syntax error at position 12 in 'LastName eq O'Brien'" in str(error)
    assert error.hint is not None
    assert "'O''Brien'" in error.hint and "py3cx.F" in error.hint
    assert "Token(" not in str(error)


def test_an_unquoted_string_in_filter_gets_a_hint_on_quoting_sync() -> None:
    url, client_id, secret, transport = _emulated_pbx()
    with (
        py3cx.Client(url, client_id, secret, transport=transport) as pbx,
        pytest.raises(py3cx.BadRequestError) as caught,
    ):
        pbx.get("Users", filter="LastName eq O'Brien")
    _assert_quoting_advice(caught.value)


def test_an_unquoted_string_in_filter_gets_a_hint_on_quoting_async() -> None:
    url, client_id, secret, transport = _emulated_pbx()

    async def ask() -> py3cx.BadRequestError:
        async with py3cx.AsyncClient(url, client_id, secret, transport=transport) as pbx:
            with pytest.raises(py3cx.BadRequestError) as caught:
                await pbx.get("Users", filter="LastName eq O'Brien")
            return caught.value

    _assert_quoting_advice(asyncio.run(ask()))


def test_other_400s_do_not_get_the_quoting_hint() -> None:
    body = json.dumps({"error": {"code": "", "message": "The request body is empty."}}).encode()
    assert error_from_response(400, "Bad Request", body, "POST", "/xapi/v1/Users").hint is None
