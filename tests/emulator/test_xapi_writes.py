"""Creating, changing and deleting through XAPI, with the PBX's provisioning traps (BEHAVIOUR.md §4, §5)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from .emulator_harness import Pbx


def _new_user(pbx: Pbx, **fields: Any) -> dict[str, Any]:
    body = {
        "Number": "150",
        "FirstName": "Ana",
        "LastName": "Novak",
        "EmailAddress": "ana@example.com",
        **fields,
    }
    response = pbx.xapi("POST", "Users", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_post_creates_a_user_with_an_assigned_id_and_answers_201(pbx: Pbx) -> None:
    highest = max(u["Id"] for u in pbx.value("Users"))
    response = pbx.xapi(
        "POST", "Users", json={"Id": 0, "Number": "150", "FirstName": "Ana", "LastName": "Novak"}
    )
    assert response.status_code == 201
    created = response.json()
    assert created["Id"] > highest
    assert created["@odata.context"].endswith("#Users/$entity")
    assert response.headers["location"].endswith(f"/xapi/v1/Users({created['Id']})")
    assert pbx.get("Users(Number='150')").json()["LastName"] == "Novak"


def test_creating_a_user_with_a_number_in_use_fails_with_already_in_use(pbx: Pbx) -> None:
    response = pbx.xapi("POST", "Users", json={"Number": "100", "FirstName": "Dup"})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "",
            "message": "Number:\nWARNINGS.XAPI.ALREADY_IN_USE",
            "details": [{"code": "", "message": "WARNINGS.XAPI.ALREADY_IN_USE", "target": "Number"}],
        }
    }


def test_a_user_cannot_take_a_queues_number(pbx: Pbx) -> None:
    response = pbx.xapi("POST", "Users", json={"Number": "0336", "FirstName": "Q"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["target"] == "Number"


@pytest.mark.parametrize(
    ("body", "word"),
    [({"Number": "151", "Shoe": 1}, "Shoe"), ({"Number": "151", "Enabled": "yes"}, "Enabled"), ({}, "")],
)
def test_bad_create_bodies_are_400(pbx: Pbx, body: dict[str, Any], word: str) -> None:
    response = pbx.xapi("POST", "Users", json=body) if body else pbx.xapi("POST", "Users", content=b"[1]")
    assert response.status_code == 400
    assert word in response.json()["error"]["message"]


def test_patch_changes_fields_and_answers_204(pbx: Pbx) -> None:
    user = _new_user(pbx)
    response = pbx.xapi(
        "PATCH", f"Users({user['Id']})", json={"LastName": "Babić", "Mobile": "+385911234567"}
    )
    assert response.status_code == 204
    assert response.content == b""
    after = pbx.get(f"Users({user['Id']})").json()
    assert (after["LastName"], after["Mobile"], after["FirstName"]) == ("Babić", "+385911234567", "Ana")


def test_patch_that_changes_a_users_number_is_refused(pbx: Pbx) -> None:
    user = _new_user(pbx)
    response = pbx.xapi("PATCH", f"Users({user['Id']})", json={"Number": "152"})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["target"] == "Number"
    assert pbx.get(f"Users({user['Id']})").json()["Number"] == "150"
    assert pbx.xapi("PATCH", f"Users({user['Id']})", json={"Number": "150"}).status_code == 204


def test_patch_of_queue_agents_replaces_the_whole_list(pbx: Pbx) -> None:
    queue = pbx.value("Queues?$filter=" + quote("Number eq '0337'") + "&$expand=Agents")[0]
    assert len(queue["Agents"]) > 1
    newcomer = {"Number": "129", "Name": "Late Joiner", "SkillGroup": "1"}
    assert pbx.xapi("PATCH", f"Queues({queue['Id']})", json={"Agents": [newcomer]}).status_code == 204
    agents = pbx.value(f"Queues({queue['Id']})/Agents")
    assert [a["Number"] for a in agents] == ["129"]


def test_patch_of_an_unknown_entity_is_404(pbx: Pbx) -> None:
    assert pbx.xapi("PATCH", "Users(99999)", json={"LastName": "X"}).status_code == 404


def test_delete_answers_204_and_the_user_is_gone(pbx: Pbx) -> None:
    user = _new_user(pbx)
    assert pbx.xapi("DELETE", f"Users({user['Id']})").status_code == 204
    assert pbx.get(f"Users({user['Id']})").status_code == 404
    assert pbx.xapi("DELETE", f"Users({user['Id']})").status_code == 404


def test_delete_honours_if_match(pbx: Pbx) -> None:
    user = _new_user(pbx)
    etag = pbx.get(f"Users({user['Id']})").headers["etag"]
    pbx.xapi("PATCH", f"Users({user['Id']})", json={"LastName": "Changed"})
    stale = pbx.xapi("DELETE", f"Users({user['Id']})", headers={"If-Match": etag})
    assert stale.status_code == 412
    fresh = pbx.get(f"Users({user['Id']})").headers["etag"]
    assert pbx.xapi("DELETE", f"Users({user['Id']})", headers={"If-Match": fresh}).status_code == 204


def test_batch_delete_removes_users_and_reports_ids_it_could_not_find(pbx: Pbx) -> None:
    first, second = _new_user(pbx), _new_user(pbx, Number="151")
    response = pbx.xapi("POST", "Users/Pbx.BatchDelete", json={"ids": [first["Id"], second["Id"], 987654]})
    assert response.status_code == 200
    assert response.json()["value"] == [{"Error": "WARNINGS.XAPI.NOT_FOUND", "ExtensionNumber": "987654"}]
    assert pbx.get(f"Users({first['Id']})").status_code == 404
    assert pbx.get(f"Users({second['Id']})").status_code == 404


def test_drop_call_ends_an_active_call(pbx: Pbx) -> None:
    calls = pbx.value("ActiveCalls")
    victim = calls[0]["Id"]
    assert pbx.xapi("POST", f"ActiveCalls({victim})/Pbx.DropCall").status_code == 204
    assert victim not in {c["Id"] for c in pbx.value("ActiveCalls")}
    assert pbx.xapi("POST", f"ActiveCalls({victim})/Pbx.DropCall").status_code == 404


def test_methods_the_spec_does_not_list_are_refused(pbx: Pbx) -> None:
    assert pbx.xapi("POST", "CallHistoryView", json={}).status_code == 405
    assert pbx.xapi("DELETE", "ActiveCalls").status_code == 405


def test_literal_with_quotes_percent_hash_ampersand_plus_and_non_ascii_finds_exactly_that_user(
    pbx: Pbx,
) -> None:
    tricky = "O'Brien & Söhne #1 +50% ünïcødé"
    target = _new_user(pbx, Number="160", LastName=tricky)
    _new_user(pbx, Number="161", LastName="O'Brien & Söhne #1 +50%")  # a prefix of it, must not match
    literal = "'" + tricky.replace("'", "''") + "'"
    query = "$filter=" + quote(f"LastName eq {literal}", safe="")
    rows = pbx.value(f"Users?{query}")
    assert [r["Id"] for r in rows] == [target["Id"]]


def test_a_raw_plus_in_a_filter_literal_is_a_space_and_percent_2b_a_plus(pbx: Pbx) -> None:
    target = _new_user(pbx, Number="162", Mobile="+385991112223")
    spaced = _new_user(pbx, Number="163", Mobile=" 385991112223")
    assert [r["Id"] for r in pbx.value("Users?$filter=Mobile%20eq%20'%2B385991112223'")] == [target["Id"]]
    assert [r["Id"] for r in pbx.value("Users?$filter=Mobile%20eq%20'+385991112223'")] == [spaced["Id"]]


def test_nulls_inside_complex_values_are_left_out_too(pbx: Pbx) -> None:
    ivr = pbx.value("Receptionists?$filter=" + quote("Number eq '802'"))[0]
    forwards = [{"Id": 9, "Input": "5", "ForwardType": "Extension", "ForwardDN": "101", "CustomData": None}]
    assert pbx.xapi("PATCH", f"Receptionists({ivr['Id']})", json={"Forwards": forwards}).status_code == 204
    expected = [{"Id": 9, "Input": "5", "ForwardType": "Extension", "ForwardDN": "101"}]
    assert pbx.get(f"Receptionists({ivr['Id']})?$expand=Forwards").json()["Forwards"] == expected
    assert pbx.value(f"Receptionists({ivr['Id']})/Forwards") == expected
