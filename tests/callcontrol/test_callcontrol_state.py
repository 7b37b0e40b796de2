"""The call-state cache: duplicate upserts are dropped, and a resync yields exactly what was missed."""

from __future__ import annotations

from py3cx.callcontrol.events import DeviceRemoved, ParticipantRemoved, ParticipantUpserted
from py3cx.callcontrol.models import CallParticipant, DNDevice, DNInfo
from py3cx.callcontrol.state import CallState


def ringing(pid: int, dn: str = "100", callid: int = 1) -> CallParticipant:
    return CallParticipant(id=pid, dn=dn, status="Ringing", callid=callid)


def test_the_same_upsert_twice_is_reported_once() -> None:
    state = CallState()
    first = state.upsert_participant("100", ringing(1))
    again = state.upsert_participant("100", ringing(1))
    assert isinstance(first, ParticipantUpserted) and first.added
    assert again is None
    assert state.version == 1


def test_a_changed_participant_is_reported_with_its_previous_state() -> None:
    state = CallState()
    state.upsert_participant("100", ringing(1))
    changed = state.upsert_participant("100", ringing(1).model_copy(update={"status": "Connected"}))
    assert changed is not None and not changed.added
    assert changed.previous is not None and changed.previous.status == "Ringing"
    assert state.participant("100", 1) == changed.participant


def test_removal_carries_the_last_known_state_and_empties_the_cache() -> None:
    state = CallState()
    state.upsert_participant("100", ringing(1))
    removed = state.remove_participant("100", 1)
    assert removed.last_known == ringing(1)
    assert state.participants() == []
    assert state.remove_participant("100", 1).last_known is None


def test_resync_reports_calls_that_started_changed_or_ended_while_disconnected() -> None:
    state = CallState()
    state.resync(
        [
            DNInfo(dn="100", type="Wextension", participants=[ringing(1), ringing(2, callid=2)]),
            DNInfo(dn="101", type="Wextension", participants=[ringing(3, "101", 3)]),
        ]
    )
    events = state.resync(
        [
            DNInfo(
                dn="100",
                type="Wextension",
                participants=[ringing(1).model_copy(update={"status": "Connected"}), ringing(4, callid=4)],
            ),
            DNInfo(dn="101", type="Wextension", participants=[ringing(3, "101", 3)]),
        ]
    )
    removed = [e.participant_id for e in events if isinstance(e, ParticipantRemoved)]
    upserted = [e.participant.id for e in events if isinstance(e, ParticipantUpserted)]
    assert (removed, upserted, len(events)) == ([2], [1, 4], 3)
    assert all(isinstance(e, ParticipantRemoved | ParticipantUpserted) and e.resync for e in events)
    assert [(p.dn, p.id) for p in state.participants()] == [("100", 1), ("100", 4), ("101", 3)]


def test_a_dn_that_disappears_from_the_snapshot_loses_its_participants_and_devices() -> None:
    state = CallState()
    device = DNDevice(dn="101", device_id="sip:101@pbx", user_agent="Yealink")
    state.resync([DNInfo(dn="101", type="Wextension", devices=[device], participants=[ringing(3, "101")])])
    events = state.resync([])
    assert {type(e) for e in events} == {ParticipantRemoved, DeviceRemoved}
    assert state.dns() == [] and state.snapshot() == []


def test_snapshot_equals_the_rest_shape_it_was_loaded_from() -> None:
    infos = [
        DNInfo(
            dn="100",
            type="Wextension",
            devices=[DNDevice(dn="100", device_id="sip:100@pbx")],
            participants=[],
        ),
        DNInfo(dn="800", type="Wroutepoint", participants=[ringing(7, "800"), ringing(5, "800")]),
    ]
    state = CallState()
    state.load(infos)
    assert state.snapshot()[1].participants == [ringing(5, "800"), ringing(7, "800")]
    assert state.snapshot()[0] == infos[0]
    assert state.dn_type("800") == "Wroutepoint"


def test_calls_groups_participants_by_callid() -> None:
    state = CallState()
    state.upsert_participant("100", ringing(1, "100", callid=9))
    state.upsert_participant("101", ringing(2, "101", callid=9))
    state.upsert_participant("102", ringing(3, "102", callid=10))
    assert {k: [p.id for p in v] for k, v in state.calls().items()} == {9: [1, 2], 10: [3]}
