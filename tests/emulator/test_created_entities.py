"""What a create gives back: ids from a sequence, first free numbers, templates that post back."""

from __future__ import annotations

import re
from typing import Any

import pytest

from py3cx.emulator.spec import load_spec_index, spec_path

from .emulator_harness import Pbx


def _int_key_sets_with_create_and_delete() -> list[str]:
    spec = load_spec_index("20.0.10")
    names = []
    for name, entity_set in spec.entity_sets.items():
        props = spec.properties(entity_set.entity_type)
        key = [p.name for p in entity_set.key]
        if {"create", "delete"} <= entity_set.operations and len(key) == 1 and props[key[0]].kind == "int":
            names.append(name)
    return names


INT_KEY_SETS = _int_key_sets_with_create_and_delete()
# a number in each DN set's own range that the seed leaves free
_FREE_NUMBERS = {"Parkings": "SP40", "Trunks": "10040"}


def _create(pbx: Pbx, entity_set: str, body: dict[str, Any]) -> dict[str, Any]:
    response = pbx.xapi("POST", entity_set, json=body)
    assert response.status_code == 201, f"{entity_set}: {response.text}"
    created: dict[str, Any] = response.json()
    return created


def _body_with_number(pbx: Pbx, entity_set: str) -> dict[str, Any]:
    """A body a PBX takes: sets numbered from the DN number space get a free number."""
    props = pbx.state.tables[entity_set].props
    if "Number" not in props:
        return {}
    return {"Number": _FREE_NUMBERS.get(entity_set, "7940")}


# -- ids come from a sequence ------------------------------------------------------------------------
def test_the_walk_covers_the_sets_that_create_and_delete_by_integer_id() -> None:
    assert {"Users", "Queues", "Contacts", "Groups", "Trunks", "Blocklist"} <= set(INT_KEY_SETS)
    assert len(INT_KEY_SETS) == 17  # every such set of the 20.0.10 spec


@pytest.mark.parametrize("entity_set", INT_KEY_SETS)
def test_an_id_is_never_given_again_after_a_delete(pbx: Pbx, entity_set: str) -> None:
    body = _body_with_number(pbx, entity_set)
    first = _create(pbx, entity_set, body)
    assert pbx.xapi("DELETE", f"{entity_set}({first['Id']})").status_code == 204
    second = _create(pbx, entity_set, body)
    # the deleted entity was the newest: a MAX(Id)+1 or rowid scheme would hand its id out again
    assert second["Id"] > first["Id"]


def test_dn_ids_share_one_sequence_that_skips_deleted_dns(pbx: Pbx) -> None:
    user = _create(pbx, "Users", {"Number": "7941"})
    assert pbx.xapi("DELETE", f"Users({user['Id']})").status_code == 204
    queue = _create(pbx, "Queues", {"Number": "7942"})
    assert queue["Id"] > user["Id"]
    assert pbx.get(f"Users({user['Id']})").status_code == 404


def test_a_batch_deleted_users_id_is_not_given_again(pbx: Pbx) -> None:
    user = _create(pbx, "Users", {"Number": "7943"})
    answer = pbx.xapi("POST", "Users/Pbx.BatchDelete", json={"ids": [user["Id"]]})
    assert answer.status_code == 200
    assert _create(pbx, "Users", {"Number": "7943"})["Id"] > user["Id"]


# -- a create without a number gets the first free one ----------------------------------------------
_FIRST_FREE_FUNCTIONS = {
    "Users": "Users/Pbx.GetFirstAvailableExtensionNumber()",
    "Queues": "Queues/Pbx.GetFirstAvailableQueueNumber()",
    "RingGroups": "RingGroups/Pbx.GetFirstAvailableRingGroupNumber()",
    "Receptionists": "Receptionists/Pbx.GetFirstAvailableReceptionistNumber()",
    "Trunks": "Trunks/Pbx.GetFirstAvailableTrunkNumber()",
}


@pytest.mark.parametrize("entity_set", sorted(_FIRST_FREE_FUNCTIONS))
def test_an_empty_create_gets_the_number_the_first_available_function_gives(pbx: Pbx, entity_set: str) -> None:
    free = pbx.get(_FIRST_FREE_FUNCTIONS[entity_set])
    assert free.status_code == 200, free.text
    created = _create(pbx, entity_set, {})
    assert created["Number"] == free.json()["Number"]
    # the number is now taken: the function moves on, and a second empty create gets the next one
    after = pbx.get(_FIRST_FREE_FUNCTIONS[entity_set]).json()["Number"]
    assert after != created["Number"]
    assert _create(pbx, entity_set, {})["Number"] == after


def test_a_user_created_with_only_a_name_gets_the_first_free_extension(pbx: Pbx) -> None:
    free = pbx.get(_FIRST_FREE_FUNCTIONS["Users"]).json()["Number"]
    created = _create(pbx, "Users", {"FirstName": "Ana", "LastName": "Silva"})
    assert (created["Number"], created["FirstName"]) == (free, "Ana")
    assert pbx.get(f"Users({created['Id']})").json()["Number"] == free


@pytest.mark.parametrize(("entity_set", "pattern"), [("Fax", r"[1-9]\d{2}"), ("Parkings", r"SP\d+")])
def test_dns_without_a_first_available_function_get_a_free_number_of_their_kind(
    pbx: Pbx, entity_set: str, pattern: str
) -> None:
    taken = {row["Number"] for row in pbx.value(entity_set, params={"$select": "Number"})}
    created = _create(pbx, entity_set, {})
    assert re.fullmatch(pattern, created["Number"]), created["Number"]
    assert created["Number"] not in taken


# -- Init… templates post back ------------------------------------------------------------------------
_FILLER = re.compile(r"^(item|[A-Z][A-Za-z]+) \d+$")  # "item 1", "AuthID 1", "Name 1"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _init_paths(pbx: Pbx) -> list[tuple[str, str]]:
    templates = [row["Id"] for row in pbx.value("TrunkTemplates", params={"$select": "Id"})]
    assert len(templates) >= 3, "a PBX ships generic trunk templates"
    return [
        ("Fax", "Fax/Pbx.InitFax()"),
        ("Trunks", "Trunks/Pbx.InitMasterBridge()"),
        ("Trunks", "Trunks/Pbx.InitSlaveBridge()"),
        *[("Trunks", f"Trunks/Pbx.InitTrunk(template='{t}')") for t in templates],
    ]


def test_every_init_function_of_the_spec_is_covered() -> None:
    spec_text = spec_path("20.0.10").read_text(encoding="utf-8")
    names = set(re.findall(r"Pbx\.(Init[A-Za-z]+)\(", spec_text))
    assert names == {"InitFax", "InitTrunk", "InitMasterBridge", "InitSlaveBridge"}


def test_an_init_template_is_complete_and_posts_back_as_a_new_entity(pbx: Pbx) -> None:
    for entity_set, path in _init_paths(pbx):
        template = pbx.get(path)
        assert template.status_code == 200, f"{path}: {template.text}"
        body = template.json()
        body.pop("@odata.context", None)
        assert not [s for s in _strings(body) if _FILLER.match(s)], f"{path} has filler: {body}"
        free = body["Number"]
        created = _create(pbx, entity_set, body)
        assert created["Number"] == free and created["Id"] > 0
        if entity_set == "Trunks":
            assert created["Gateway"]["Type"] in ("Provider", "BridgeMaster", "BridgeSlave")
            if "InitTrunk" in path:
                assert path.endswith(f"'{created['Gateway']['TemplateFilename']}')")
        # the next template has the next free number: the one just used is taken
        assert pbx.get(path).json()["Number"] != free


def test_init_trunk_with_an_unknown_template_is_a_404_naming_it(pbx: Pbx) -> None:
    answer = pbx.get("Trunks/Pbx.InitTrunk(template='NoSuchProvider.pv.xml')")
    assert answer.status_code == 404
    assert answer.json()["error"]["details"][0]["target"] == "template"
