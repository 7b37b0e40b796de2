"""The directory a PBX keeps in step by itself: DNs in one number space, ``Peers``, departments,
first free numbers, and the seeded IVRs, trunks, parkings and contacts."""

from __future__ import annotations

from typing import Any

import pytest

from .emulator_harness import Pbx, make_pbx


def _group(pbx: Pbx, name: str) -> dict[str, Any]:
    rows = pbx.value(f"Groups?$filter=Name eq '{name}'")
    assert len(rows) == 1, rows
    return rows[0]


def _member_numbers(pbx: Pbx, name: str) -> set[str]:
    group = pbx.get(f"Groups({_group(pbx, name)['Id']})?$expand=Members").json()
    return {m["Number"] for m in group["Members"]}


def _user(pbx: Pbx, number: str) -> dict[str, Any]:
    body: dict[str, Any] = pbx.get(f"Users(Number='{number}')?$expand=Groups").json()
    return body


# -- first free numbers ---------------------------------------------------------------------------
def test_first_available_extension_skips_numbers_any_dn_set_uses(pbx: Pbx) -> None:
    first = pbx.get("Users/Pbx.GetFirstAvailableExtensionNumber()").json()["Number"]
    # a ring group takes that number: it is no longer free for a user either
    created = pbx.xapi("POST", "RingGroups", json={"Number": first, "Name": "Night shift"})
    assert created.status_code == 201, created.text
    after = pbx.get("Users/Pbx.GetFirstAvailableExtensionNumber()").json()["Number"]
    assert after == str(int(first) + 1)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Queues/Pbx.GetFirstAvailableQueueNumber()", "804"),  # 800, 801 ring groups; 802, 803 IVRs
        ("RingGroups/Pbx.GetFirstAvailableRingGroupNumber()", "804"),
        ("Receptionists/Pbx.GetFirstAvailableReceptionistNumber()", "804"),
        ("Trunks/Pbx.GetFirstAvailableTrunkNumber()", "10003"),
        ("Users/Pbx.GetFirstAvailableHotdeskingNumber()", "130"),
    ],
)
def test_every_first_available_number_function_answers_the_spec_shape(
    shared_pbx: Pbx, path: str, expected: str
) -> None:
    body = shared_pbx.get(path).json()
    assert body["Number"] == expected
    assert body["@odata.context"].endswith("#Pbx.FirstAvailableNumber")


def test_a_queue_created_with_the_offered_number_moves_the_offer_on(pbx: Pbx) -> None:
    offered = pbx.get("Queues/Pbx.GetFirstAvailableQueueNumber()").json()["Number"]
    assert pbx.xapi("POST", "Queues", json={"Number": offered, "Name": "Overflow"}).status_code == 201
    assert pbx.get("Queues/Pbx.GetFirstAvailableQueueNumber()").json()["Number"] == str(int(offered) + 1)


def test_a_number_used_by_an_ivr_is_already_in_use_for_a_user(pbx: Pbx) -> None:
    response = pbx.xapi("POST", "Users", json={"Number": "802", "FirstName": "Ivy"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Number:\nWARNINGS.XAPI.ALREADY_IN_USE"


def test_changing_a_dns_number_is_refused_on_a_20_0_4_pbx_too() -> None:
    pbx = make_pbx(spec_version="20.0.4")
    try:
        queue = pbx.value("Queues?$filter=Number eq '0336'")[0]
        response = pbx.xapi("PATCH", f"Queues({queue['Id']})", json={"Number": "0399"})
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["target"] == "Number"
    finally:
        pbx.close()


# -- Peers ----------------------------------------------------------------------------------------
def test_peers_lists_every_dn_with_its_number_and_type(shared_pbx: Pbx) -> None:
    peers = {p["Number"]: p for p in shared_pbx.value("Peers")}
    assert {n: peers[n]["Type"] for n in ("100", "0336", "800", "802", "10000", "SP0", "888")} == {
        "100": "Extension",
        "0336": "Queue",
        "800": "RingGroup",
        "802": "IVR",
        "10000": "ExternalLine",
        "SP0": "Parking",
        "888": "Fax",
    }
    users = shared_pbx.value("Users?$select=Id,Number,DisplayName")
    assert all(peers[u["Number"]]["Name"] == u["DisplayName"] for u in users)
    assert all(peers[u["Number"]]["Id"] == u["Id"] for u in users)
    assert len({p["Id"] for p in peers.values()}) == len(peers)  # DN ids come from one sequence


def test_peers_by_number_and_by_function_name_the_same_dn(shared_pbx: Pbx) -> None:
    peer = shared_pbx.get("Peers(Number='0337')").json()
    assert (peer["Type"], peer["Name"]) == ("Queue", "Support Queue")
    response = shared_pbx.xapi(
        "POST",
        "Peers/Pbx.RetreivePeersByNumbers",
        json={"peersRequest": {"DnNumbers": ["0337", "802", "999"]}},
    )
    assert [p["Number"] for p in response.json()["value"]] == ["0337", "802"]


def test_a_new_user_is_a_peer_at_once_and_gone_once_deleted(pbx: Pbx) -> None:
    created = pbx.xapi(
        "POST", "Users", json={"Number": "150", "FirstName": "Ana", "LastName": "Novak"}
    ).json()
    peer = pbx.get("Peers(Number='150')").json()
    assert (peer["Id"], peer["Type"], peer["Name"]) == (created["Id"], "Extension", "Ana Novak")
    assert pbx.xapi("DELETE", f"Users({created['Id']})").status_code == 204
    assert pbx.get("Peers(Number='150')").status_code == 404


def test_peers_has_no_key_path_only_the_number(shared_pbx: Pbx) -> None:
    assert shared_pbx.get("Peers(1)").status_code == 404
    assert shared_pbx.xapi("DELETE", "Peers(Number='100')").status_code == 405


def test_a_20_0_4_pbx_finds_a_peer_with_get_peer_by_number() -> None:
    pbx = make_pbx(spec_version="20.0.4")
    try:
        assert pbx.get("Peers/Pbx.GetPeerByNumber(number='0336')").json()["Type"] == "Queue"
        assert pbx.get("Peers/Pbx.GetPeerByNumber(number='4711')").status_code == 404
    finally:
        pbx.close()


# -- departments ----------------------------------------------------------------------------------
def test_moving_a_user_to_another_department_updates_both_member_lists(pbx: Pbx) -> None:
    user = _user(pbx, "101")
    old = next(g["Name"] for g in user["Groups"] if g["Name"] != "DEFAULT")
    new = next(name for name in ("Sales", "Support", "Accounts") if name != old)
    target = _group(pbx, new)
    response = pbx.xapi("PATCH", f"Users({user['Id']})", json={"Groups": [{"GroupId": target["Id"]}]})
    assert response.status_code == 204, response.text
    assert "101" in _member_numbers(pbx, new)
    assert "101" not in _member_numbers(pbx, old)
    membership = _user(pbx, "101")["Groups"]
    assert [(g["GroupId"], g["Name"], g["Number"]) for g in membership] == [
        (target["Id"], new, target["Number"])
    ]


def test_a_user_created_without_departments_joins_the_default_one(pbx: Pbx) -> None:
    pbx.xapi("POST", "Users", json={"Number": "151", "FirstName": "Iva"})
    assert [g["Name"] for g in _user(pbx, "151")["Groups"]] == ["DEFAULT"]
    assert "151" in _member_numbers(pbx, "DEFAULT")


def test_a_department_that_does_not_exist_is_refused(pbx: Pbx) -> None:
    user = _user(pbx, "102")
    response = pbx.xapi("PATCH", f"Users({user['Id']})", json={"Groups": [{"GroupId": 999}]})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0] == {
        "code": "",
        "message": "WARNINGS.XAPI.NOT_FOUND",
        "target": "GroupId",
    }
    assert _user(pbx, "102")["Groups"] == user["Groups"]


def test_a_deleted_user_leaves_departments_queues_and_ring_groups(pbx: Pbx) -> None:
    queue = pbx.get("Queues(Number='0336')?$expand=Agents").json()
    agent = queue["Agents"][0]["Number"]
    user = _user(pbx, agent)
    department = next(g["Name"] for g in user["Groups"] if g["Name"] != "DEFAULT")
    assert pbx.xapi("DELETE", f"Users({user['Id']})").status_code == 204
    agents = pbx.get("Queues(Number='0336')?$expand=Agents,Managers").json()
    assert agent not in {a["Number"] for a in agents["Agents"] + agents["Managers"]}
    assert agent not in _member_numbers(pbx, department)
    ring = pbx.get("RingGroups(Number='800')?$expand=Members").json()
    assert agent not in {m["Number"] for m in ring["Members"]}


def test_a_deleted_department_leaves_its_users_groups(pbx: Pbx) -> None:
    sales = _group(pbx, "Sales")
    assert pbx.xapi("DELETE", f"Groups({sales['Id']})").status_code == 204
    users = pbx.value("Users?$expand=Groups")
    assert all(g["GroupId"] != sales["Id"] for u in users for g in u["Groups"])


# -- seeded DNs and lists -------------------------------------------------------------------------
def test_the_main_ivr_routes_digits_to_queues_and_the_reception(shared_pbx: Pbx) -> None:
    ivr = shared_pbx.get("Receptionists(Number='802')?$expand=Forwards").json()
    assert ivr["Name"] == "Main menu"
    routes = {f["Input"]: (f["ForwardType"], f["ForwardDN"]) for f in ivr["Forwards"]}
    assert routes == {"1": ("Queue", "0336"), "2": ("Queue", "0337"), "0": ("RingGroup", "800")}
    assert ivr["TimeoutForwardDN"] == "800"


def test_the_provider_trunk_of_the_call_history_is_online_with_its_dids(shared_pbx: Pbx) -> None:
    trunks = {t["Number"]: t for t in shared_pbx.value("Trunks")}
    assert set(trunks) == {"10000", "10001", "10002"}
    assert trunks["10000"]["IsOnline"] is True and trunks["10001"]["IsOnline"] is False
    assert "+442079460000" in trunks["10000"]["DidNumbers"]
    external = shared_pbx.value("CallHistoryView?$filter=SrcDn eq '10000'&$top=1")
    assert external, "the history has calls through trunk 10000"


def test_parkings_and_contacts_are_seeded_and_contacts_are_searchable(shared_pbx: Pbx) -> None:
    assert [p["Number"] for p in shared_pbx.value("Parkings")] == ["SP0", "SP1"]
    found = shared_pbx.value("Contacts?$filter=LastName eq 'O''Neill'")
    assert [c["FirstName"] for c in found] == ["Tom"]
    assert found[0]["Email"].endswith(".example")


def test_sets_whose_type_has_no_key_list_rows_without_a_made_up_key(shared_pbx: Pbx) -> None:
    countries = shared_pbx.value("Countries")
    assert {c["CountryCode"] for c in countries} >= {"GB", "HR", "US"}
    assert all(
        set(c)
        <= {
            "Continent",
            "CountryCode",
            "CountryCodes",
            "DownloadUrl",
            "ErpCode",
            "ExitCode",
            "Name",
            "ParentErpCode",
            "StunServer",
            "VoicemailNo",
            "WebMeetingZone",
        }
        for c in countries
    )
    services = shared_pbx.value("Services?$filter=Status eq 'Running'&$select=Name")
    assert {"Name": "3CXPhoneSystem"} in services
    last = shared_pbx.value("LastCdrAndChatMessageTimestamp")
    newest = shared_pbx.value("CallHistoryView?$orderby=SegmentStartTime desc&$top=1")[0]
    assert last[0]["LastCdrStartedAt"] == newest["SegmentStartTime"]


# -- queue agents and ring group members ----------------------------------------------------------
def test_queue_agents_are_completed_from_the_users_they_name(pbx: Pbx) -> None:
    queue = pbx.get("Queues(Number='0338')").json()
    agents = [{"Number": "101", "SkillGroup": "2"}, {"Number": "101"}]
    assert pbx.xapi("PATCH", f"Queues({queue['Id']})", json={"Agents": agents}).status_code == 204
    user = pbx.get("Users(Number='101')").json()
    stored = pbx.value(f"Queues({queue['Id']})/Agents")
    assert stored == [{"Id": user["Id"], "Name": user["DisplayName"], "Number": "101", "SkillGroup": "2"}]


def test_an_agent_who_is_no_user_is_refused_and_nothing_changes(pbx: Pbx) -> None:
    queue = pbx.get("Queues(Number='0338')?$expand=Agents").json()
    response = pbx.xapi("PATCH", f"Queues({queue['Id']})", json={"Agents": [{"Number": "4711"}]})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Number:\nWARNINGS.XAPI.NOT_FOUND"
    assert pbx.get("Queues(Number='0338')?$expand=Agents").json()["Agents"] == queue["Agents"]


def test_a_dn_created_without_a_number_is_numbered_and_listed_in_peers(pbx: Pbx) -> None:
    response = pbx.xapi("POST", "RingGroups", json={"Name": "No number"})
    assert response.status_code == 201, response.text
    number = response.json()["Number"]
    peers = pbx.value("Peers", params={"$filter": f"Number eq '{number}'"})
    assert [(p["Name"], p["Type"]) for p in peers] == [("No number", "RingGroup")]

