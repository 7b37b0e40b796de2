"""The Call Control wire models and the event parser: pure functions, no server."""

from __future__ import annotations

import json

import pytest

from py3cx.callcontrol.events import (
    DTMFReceived,
    EventParseError,
    EventType,
    ParticipantRemoved,
    UnknownEvent,
    event_to_dict,
    parse_entity,
    parse_message,
)
from py3cx.callcontrol.models import CallControlResult, CallParticipant, DNInfo, FinalStatus


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (1, FinalStatus.SUCCESS),
        (0, FinalStatus.REJECTED),
        (-1, FinalStatus.FAILED),
        ("Success", FinalStatus.SUCCESS),
        ("success", FinalStatus.SUCCESS),
        ("Failed", FinalStatus.FAILED),
        ("-1", FinalStatus.FAILED),
    ],
)
def test_finalstatus_is_accepted_as_an_int_or_a_string(wire: object, expected: FinalStatus) -> None:
    result = CallControlResult.model_validate({"finalstatus": wire, "reasontext": "x"})
    assert result.finalstatus is expected
    assert result.succeeded is (expected is FinalStatus.SUCCESS)


def test_an_unknown_finalstatus_is_kept_as_text_and_is_not_a_success() -> None:
    result = CallControlResult.model_validate({"finalstatus": "Pending"})
    assert result.finalstatus == "Pending"
    assert not result.succeeded
    assert CallControlResult.model_validate({"finalstatus": 7}).finalstatus == "7"


def test_result_parses_the_participant_and_keeps_unknown_fields() -> None:
    result = CallControlResult.model_validate(
        {"finalstatus": "Success", "result": {"id": 12, "status": "Dialing", "callid": 3, "new_field": 1}}
    )
    assert result.result == CallParticipant(id=12, status="Dialing", callid=3, new_field=1)
    assert result.result is not None and result.result.model_extra == {"new_field": 1}


def test_dninfo_treats_null_lists_as_empty_and_to_wire_leaves_nulls_out() -> None:
    info = DNInfo.model_validate({"dn": "100", "type": "Wextension", "devices": None, "participants": None})
    assert info.devices == [] and info.participants == []
    assert CallParticipant(id=1, status="Ringing").to_wire() == {"id": 1, "status": "Ringing"}


def test_entity_paths_split_into_dn_kind_and_id() -> None:
    entity = parse_entity("/callcontrol/150/participants/8107")
    assert entity is not None
    assert (entity.dn, entity.kind, entity.participant_id) == ("150", "participants", 8107)
    device = parse_entity("/callcontrol/100/devices/sip%3A100%40127.0.0.1%3A5060")
    assert device is not None and device.id == "sip:100@127.0.0.1:5060"
    dn_only = parse_entity("/callcontrol/800")
    assert dn_only is not None and (dn_only.dn, dn_only.kind, dn_only.id) == ("800", None, None)
    assert parse_entity("/xapi/v1/Users") is None
    assert parse_entity("/callcontrol/ws") is None


def test_an_envelope_parses_with_its_sequence_type_and_entity() -> None:
    wire = {"sequence": 18, "event": {"event_type": 0, "entity": "/callcontrol/150/participants/8107"}}
    event = parse_message(json.dumps(wire))
    assert (event.sequence, event.event_type, event.entity) == (18, EventType.UPSERT, wire["event"]["entity"])
    assert event.attached_data is None
    assert event.target is not None and event.target.participant_id == 8107


def test_bytes_messages_and_string_event_types_are_accepted() -> None:
    event = parse_message(
        b'{"sequence": 2, "event": {"event_type": "1", "entity": "/callcontrol/1/participants/2"}}'
    )
    assert event.event_type == EventType.REMOVE


@pytest.mark.parametrize(
    "message",
    ["not json", "[1, 2]", '{"sequence": 1}', '{"event": {"event_type": "x", "entity": "/callcontrol/1"}}'],
)
def test_garbage_messages_raise_event_parse_error(message: str) -> None:
    with pytest.raises(EventParseError):
        parse_message(message)


def test_event_to_dict_gives_json_ready_dicts_with_kind_first() -> None:
    removed = ParticipantRemoved("100", 5, CallParticipant(id=5, status="Connected"), sequence=9)
    as_dict = event_to_dict(removed)
    assert next(iter(as_dict)) == "kind"
    assert as_dict == {
        "kind": "participant.removed",
        "dn": "100",
        "participant_id": 5,
        "last_known": {"id": 5, "status": "Connected"},
        "sequence": 9,
        "resync": False,
    }
    json.dumps(as_dict)
    assert event_to_dict(DTMFReceived("100", 5, "12#"))["digits"] == "12#"
    unknown = UnknownEvent(4, "/callcontrol/1", {"RequestID": "a"}, 3, {"sequence": 3})
    assert event_to_dict(unknown)["raw"] == {"sequence": 3}
