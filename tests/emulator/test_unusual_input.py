"""Input a careless or hostile client sends: the emulator refuses it the way a PBX does, never with a crash.

Each case here is one the schemathesis run of the official spec found (tests/contract).
"""

from __future__ import annotations

from urllib.parse import unquote

from .emulator_harness import Pbx


def test_a_lone_surrogate_in_a_json_string_is_a_400_not_a_crash(pbx: Pbx) -> None:
    body = b'{"Id": "template-\\ud801", "Url": "x"}'
    response = pbx.xapi("POST", "TrunkTemplates", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The request body is not valid JSON."


def test_an_integer_beyond_int64_is_a_400_naming_the_property(pbx: Pbx) -> None:
    response = pbx.xapi("POST", "Holidays", json={"Name": "Carnival", "DayEnd": -(10**22)})
    assert response.status_code == 400
    assert "DayEnd" in response.json()["error"]["message"]


def test_a_duration_of_billions_of_days_is_a_400(pbx: Pbx) -> None:
    response = pbx.xapi("POST", "Holidays", json={"Name": "Forever", "TimeOfStartDate": "P16148440707D"})
    assert response.status_code == 400
    assert "TimeOfStartDate" in response.json()["error"]["message"]


def test_a_key_with_a_newline_reaches_the_entity_set(shared_pbx: Pbx) -> None:
    response = shared_pbx.get("Users(Number='1%0A00')")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Number:\nWARNINGS.XAPI.NOT_FOUND"


def test_a_created_entity_with_a_non_ascii_key_has_a_percent_encoded_location(pbx: Pbx) -> None:
    response = pbx.xapi("POST", "TrunkTemplates", json={"Id": "Provider Ü\U000f055e"})
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.isascii()
    assert unquote(location).endswith("/xapi/v1/TrunkTemplates('Provider Ü\U000f055e')")


def test_a_date_in_the_first_millennium_comes_back_as_it_went_in(pbx: Pbx) -> None:
    group = pbx.value("Groups?$top=1")[0]
    assert (
        pbx.xapi(
            "PATCH", f"Groups({group['Id']})", json={"LastLoginTime": "0031-02-24T22:57:56-04:28"}
        ).status_code
        == 204
    )
    assert pbx.get(f"Groups({group['Id']})").json()["LastLoginTime"] == "0031-02-25T03:25:56Z"


def test_an_instant_before_year_one_in_utc_is_refused(pbx: Pbx) -> None:
    group = pbx.value("Groups?$top=1")[0]
    body = {"LastLoginTime": "0001-01-01T00:30:00+05:00"}
    assert pbx.xapi("PATCH", f"Groups({group['Id']})", json=body).status_code == 400
    path = "ActivityLog/Pbx.GetLogs(startDate=0001-01-01T00:30:00+05:00,endDate=2025-01-01T00:00:00Z,"
    response = pbx.get(path + "extension='',call='',severity='All')")
    assert response.status_code == 500  # a malformed function argument, as a PBX answers it
    assert "startDate" in response.json()["error"]["message"]


def test_a_filter_past_the_last_day_is_a_400(shared_pbx: Pbx) -> None:
    response = shared_pbx.get("CallHistoryView?$filter=date(SegmentStartTime) gt 9999-12-31")
    assert response.status_code == 400
