"""Nested query options inside $expand (OData v4 §5.1.2), as the PBX's OData stack answers them:
Users?$expand=Groups($expand=Rights,GroupRights;$select=…), $filter/$orderby/$top/$skip/$count
inside an expand, several levels deep; and through py3cx's client, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import quote

import pytest

import py3cx
from py3cx.emulator import EmulatorConfig, RunningEmulator, running_emulator

from .emulator_harness import Pbx


def _q(text: str) -> str:
    return quote(text, safe="=$,;()'")


def test_groups_expand_their_rights_two_levels_deep_with_select(shared_pbx: Pbx) -> None:
    users = shared_pbx.value(
        "Users?$top=3&$select=Id&$expand=" + _q("Groups($expand=Rights,GroupRights;$select=Name)")
    )
    for user in users:
        for group in user["Groups"]:
            assert set(group) == {"Name", "Rights", "GroupRights"}
            assert group["Rights"]["RoleName"] and isinstance(group["Rights"]["CanIntercom"], bool)


def test_navigation_properties_of_expanded_items_stay_out_unless_expanded(shared_pbx: Pbx) -> None:
    users = shared_pbx.value("Users?$top=3&$select=Id&$expand=Groups")
    assert all("Rights" not in g and "GroupRights" not in g for u in users for g in u["Groups"])
    deep = shared_pbx.value(
        "Users?$top=1&$select=Id&$expand=" + _q("Groups($expand=Rights($select=RoleName))")
    )
    assert [g["Rights"] for g in deep[0]["Groups"]] == [{"RoleName": "users"}] * len(deep[0]["Groups"])


def test_filter_orderby_top_skip_and_count_apply_inside_an_expand(shared_pbx: Pbx) -> None:
    queue = shared_pbx.value("Queues?$filter=Number eq '0336'&$expand=Agents".replace(" ", "%20"))[0]
    numbers = sorted(a["Number"] for a in queue["Agents"])
    nested = _q("Agents($orderby=Number desc;$skip=1;$top=2;$count=true;$select=Number)")
    [answer] = shared_pbx.value("Queues?$filter=Number%20eq%20'0336'&$select=Id&$expand=" + nested)
    assert answer["Agents"] == [{"Number": n} for n in sorted(numbers, reverse=True)[1:3]]
    assert answer["Agents@odata.count"] == len(numbers)
    first = numbers[0]
    only = _q(f"Agents($filter=Number eq '{first}')")
    [filtered] = shared_pbx.value("Queues?$filter=Number%20eq%20'0336'&$select=Id&$expand=" + only)
    assert [a["Number"] for a in filtered["Agents"]] == [first]


@pytest.mark.parametrize(
    ("expand", "message"),
    [
        ("Groups($expand=Nope)", "'Nope' on type 'Pbx.UserGroup' is not a navigation property"),
        ("Groups($select=Nope)", "Could not find a property named 'Nope' on type 'Pbx.UserGroup'"),
        ("Groups($top=x)", "Invalid value 'x' for $top"),
        ("Groups($filter=Name eq)", "Name eq"),
        ("Groups($format=json)", "not supported in $expand"),
        ("Groups/Rights", "nest it: Groups($expand="),
        ("Groups($top=1", "is not valid"),
    ],
)
def test_a_bad_nested_option_is_a_400_naming_it(shared_pbx: Pbx, expand: str, message: str) -> None:
    answer = shared_pbx.get("Users?$top=1&$expand=" + _q(expand))
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]["message"]


def test_a_navigation_path_hides_the_items_navigation_properties_unless_expanded(shared_pbx: Pbx) -> None:
    user = shared_pbx.value("Users?$top=1&$select=Id")[0]
    plain = shared_pbx.value(f"Users({user['Id']})/Groups")
    assert plain and all("Rights" not in g for g in plain)
    rich = shared_pbx.value(f"Users({user['Id']})/Groups?$expand=" + _q("Rights($select=RoleName)"))
    assert all(g["Rights"] == {"RoleName": "users"} for g in rich)


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=4, calls=10)) as running:
        yield running


_NESTED = "Groups($expand=Rights,GroupRights;$select=Name,GroupId)"


def test_the_client_sends_nested_expand_options_sync(emulator: RunningEmulator) -> None:
    owner = emulator.config.clients[0]
    with py3cx.Client(emulator.url, owner.client_id, owner.secret) as client:
        users = client.get("Users", top=2, select="Id", expand=_NESTED)["value"]
    assert users and all(
        set(g) == {"Name", "GroupId", "Rights", "GroupRights"} for u in users for g in u["Groups"]
    )


def test_the_client_sends_nested_expand_options_async(emulator: RunningEmulator) -> None:
    owner = emulator.config.clients[0]

    async def fetch() -> list[dict[str, object]]:
        async with py3cx.AsyncClient(emulator.url, owner.client_id, owner.secret) as client:
            return list((await client.get("Users", top=2, select="Id", expand=_NESTED))["value"])

    users = asyncio.run(fetch())
    assert users and all("Rights" in g for u in users for g in u["Groups"])  # type: ignore[union-attr]
