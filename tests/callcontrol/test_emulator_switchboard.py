"""The emulator's switchboard: calls move through ringing, connected and ended the way a PBX moves
them, and each change produces the Call Control events a route point would see."""

from __future__ import annotations

from typing import Any

import pytest

from py3cx.emulator.callcontrol.switchboard import DN, Call, Device, Refused, Switchboard


class Recorder:
    def __init__(self, visible: set[str]) -> None:
        self.visible = frozenset(visible)
        self.events: list[tuple[int, str, Any]] = []

    def deliver(self, event_type: int, entity: str, attached_data: Any) -> None:
        self.events.append((event_type, entity, attached_data))


class Ended:
    def __init__(self) -> None:
        self.calls: list[Call] = []

    def call_changed(self, call: Call) -> None:
        pass

    def call_ended(self, call: Call) -> None:
        self.calls.append(call)


def pbx() -> Switchboard:
    return Switchboard(
        [
            DN("100", "Wextension", "Ann", [Device("100", "sip:100@127.0.0.1:5060", "Yealink T54W")]),
            DN("101", "Wextension", "Bob"),
            DN("102", "Wextension", "Cy"),
            DN("800", "Wqueue", "Sales", agents=["101", "102"]),
            DN("850", "Wroutepoint", "IVR", monitored=["100", "101", "800"]),
        ]
    )


def statuses(sb: Switchboard) -> dict[str, list[str]]:
    return {dn: [p.status for p in sb.participants_of(dn)] for dn in sb.dns if sb.participants_of(dn)}


def test_an_internal_call_rings_then_connects_then_ends_with_upserts_and_removes() -> None:
    sb = pbx()
    seen = Recorder({"100", "101"})
    sb.listeners.add(seen)
    caller = sb.place_call("100", "101")
    assert caller is not None and caller.device_id == "sip:100@127.0.0.1:5060"
    assert statuses(sb) == {"100": ["Dialing"], "101": ["Ringing"]}
    callee = sb.participants_of("101")[0]
    assert (callee.party_caller_id, callee.party_caller_name, callee.callid) == ("100", "Ann", caller.callid)
    sb.answer(callee.id)
    assert statuses(sb) == {"100": ["Connected"], "101": ["Connected"]}
    sb.drop(callee.id)
    assert statuses(sb) == {}
    kinds = [(t, e.rsplit("/", 3)[1]) for t, e, _ in seen.events]
    assert kinds == [(0, "100"), (0, "101"), (0, "101"), (0, "100"), (1, "101"), (1, "100")]


def test_events_reach_only_listeners_that_can_see_the_dn() -> None:
    sb = pbx()
    route_point = Recorder(sb.visible_dns("850"))
    sb.listeners.add(route_point)
    sb.place_call("102", "+4930123456")
    assert route_point.events == []
    assert sb.visible_dns("850") == {"850", "100", "101", "800"}
    assert sb.visible_dns("100") == {"100"}
    assert sb.visible_dns("999") == frozenset()


def test_a_queue_call_waits_at_the_queue_then_the_answering_agent_takes_it() -> None:
    sb = pbx()
    ended = Ended()
    sb.observers.append(ended)
    sb.place_call("+4930123456", "800")
    assert statuses(sb) == {"800": ["Ringing"], "101": ["Ringing"]}
    agent = sb.participants_of("101")[0]
    assert agent.on_behalf_of_dn == "800" and agent.party_caller_id == "+4930123456"
    sb.answer(agent.id)
    assert statuses(sb) == {"101": ["Connected"]}
    sb.drop(agent.id)
    assert len(ended.calls) == 1 and not ended.calls[0].abandoned and ended.calls[0].answered_by == "101"


def test_a_caller_who_hangs_up_in_the_queue_is_an_abandoned_call() -> None:
    sb = pbx()
    sb.place_call("100", "101")  # keeps 101 busy
    assert sb.participants_of("800") == []
    sb.place_call("+4930123456", "800")
    waiting = sb.participants_of("800")[0]
    assert statuses(sb)["102"] == ["Ringing"]
    ended = sb.end_call(waiting.callid)
    assert ended.abandoned and ended.queue == "800"
    assert "800" not in statuses(sb) and "102" not in statuses(sb)


def test_a_waiting_queue_call_is_offered_when_an_agent_becomes_free() -> None:
    sb = pbx()
    first = sb.place_call("100", "101")
    sb.place_call("+491", "102")
    sb.place_call("+4930123456", "800")
    assert statuses(sb)["800"] == ["Ringing"] and len(statuses(sb)["101"]) == 1
    assert first is not None
    sb.end_call(first.callid)
    assert sb.participants_of("101")[0].on_behalf_of_dn == "800"


def test_route_point_keeps_the_call_until_the_routed_destination_answers() -> None:
    sb = pbx()
    sb.place_call("+4930123456", "850")
    at_route_point = sb.participants_of("850")[0]
    assert at_route_point.direct_control and at_route_point.status == "Ringing"
    sb.route_to(at_route_point.id, "100")
    assert statuses(sb) == {"850": ["Ringing"], "100": ["Ringing"]}
    sb.answer(sb.participants_of("100")[0].id)
    assert statuses(sb) == {"100": ["Connected"]}


def test_divert_moves_a_ringing_call_and_transfer_hands_over_a_connected_one() -> None:
    sb = pbx()
    sb.place_call("+4930123456", "100")
    ringing = sb.participants_of("100")[0]
    sb.divert(ringing.id, "101")
    diverted = sb.participants_of("101")[0]
    assert diverted.referred_by_dn == "100" and "100" not in statuses(sb)
    sb.answer(diverted.id)
    sb.transfer_to(diverted.id, "102")
    assert statuses(sb) == {"102": ["Ringing"]}
    sb.answer(sb.participants_of("102")[0].id)
    assert statuses(sb) == {"102": ["Connected"]}
    assert sb.calls[diverted.callid].transfers == 1


def test_actions_that_make_no_sense_are_refused_with_a_reason() -> None:
    sb = pbx()
    caller = sb.place_call("100", "101")
    assert caller is not None
    with pytest.raises(Refused, match="cannot answer"):
        sb.answer(caller.id)
    with pytest.raises(Refused, match="connected"):
        sb.transfer_to(caller.id, "102")
    with pytest.raises(Refused, match="direct control"):
        sb.route_to(caller.id, "102")
    with pytest.raises(Refused) as missing:
        sb.drop(999999)
    assert missing.value.status == 404
    with pytest.raises(Refused, match="on this PBX"):
        sb.place_call("+1", "+2")


def test_dtmf_and_playback_finished_reach_the_participants_dn() -> None:
    sb = pbx()
    seen = Recorder({"850"})
    sb.listeners.add(seen)
    sb.place_call("+4930123456", "850")
    leg = sb.participants_of("850")[0]
    sb.send_dtmf(leg.id, "12#")
    sb.playback_finished(leg.id)
    assert seen.events[-2:] == [(2, leg.entity, {"dtmf_input": "12#"}), (3, leg.entity, None)]


def test_wire_participants_leave_nulls_out() -> None:
    sb = pbx()
    caller = sb.place_call("101", "100")
    assert caller is not None
    wire = caller.to_wire()
    assert None not in wire.values()
    assert wire["status"] == "Dialing" and wire["party_dn"] == "100" and wire["party_dn_type"] == "Wextension"
    info = sb.dn_info("100")
    assert info["type"] == "Wextension" and info["participants"][0]["status"] == "Ringing"


def test_a_full_queue_turns_callers_away_at_once() -> None:
    sb = Switchboard([DN("100", "Wextension"), DN("800", "Wqueue", agents=["100"], max_callers=2)])
    ended = Ended()
    sb.observers.append(ended)
    for number in ("+1", "+2", "+3"):
        sb.place_call(number, "800")
    assert len(sb.participants_of("800")) == 2
    assert [c.caller.number for c in ended.calls] == ["+3"] and ended.calls[0].abandoned
