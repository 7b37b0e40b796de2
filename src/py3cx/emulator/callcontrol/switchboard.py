"""The emulated PBX's live calls: DNs, calls, participants, and the Call Control events they make.

No I/O and no timers: every method changes the calls at once and tells the listeners (WebSocket
connections, the call-record writer). `simulator.py` decides *when* things happen.

How calls behave (BEHAVIOUR.md §6 and the official examples; details the spec leaves open are
marked as guesses in `docs/callcontrol.md`):
- a call from a DN gives that DN a `Dialing` participant; the destination DN gets `Ringing`;
  answering makes both `Connected`; dropping either side ends a two-party call;
- a call to a queue waits as a participant of the queue DN and is offered to one free agent
  at a time; when the agent answers, the queue participant goes away (the call was answered);
  a caller who hangs up while waiting is an abandoned queue call;
- a route point keeps `direct_control` of its participants: `routeto` rings a destination while
  the route point participant stays, until the destination answers;
- `divert` moves a ringing participant elsewhere; `transferto` hands a connected call's other
  party to a new destination.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "DN",
    "Call",
    "CallObserver",
    "Device",
    "EventListener",
    "Participant",
    "Refused",
    "Switchboard",
]

UPSERT, REMOVE, DTMF, PLAYBACK_FINISHED = 0, 1, 2, 3


class Refused(Exception):
    """The PBX refuses a Call Control request; `reason` goes to `CallControlResult.reasontext`."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class Device:
    dn: str
    device_id: str
    user_agent: str

    def to_wire(self) -> dict[str, Any]:
        return {"dn": self.dn, "device_id": self.device_id, "user_agent": self.user_agent}


@dataclass
class DN:
    """A number on the PBX: `Wextension`, `Wqueue`, `Wroutepoint`, `Wivr`..."""

    number: str
    type: str
    name: str = ""
    devices: list[Device] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)  # queues only
    max_callers: int = 10  # queues only: callers beyond this get a busy signal
    monitored: list[str] = field(default_factory=list)  # route points only


@dataclass
class Participant:
    id: int
    dn: str
    callid: int
    legid: int
    status: str
    party_dn: str | None = None
    party_caller_id: str | None = None
    party_caller_name: str | None = None
    party_dn_type: str | None = None
    party_did: str | None = None
    device_id: str | None = None
    direct_control: bool = False
    originated_by_dn: str | None = None
    originated_by_type: str | None = None
    referred_by_dn: str | None = None
    referred_by_type: str | None = None
    on_behalf_of_dn: str | None = None
    on_behalf_of_type: str | None = None
    attached_data: dict[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    _wire: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def entity(self) -> str:
        return f"/callcontrol/{self.dn}/participants/{self.id}"

    def to_wire(self) -> dict[str, Any]:
        """The participant as `GET /callcontrol/{dn}/participants/{id}` returns it (nulls left out).

        Cached while the status (the only field that changes) stays: under load `GET /callcontrol`
        asks for every participant many times a second.
        """
        if self._wire is not None and self._wire["status"] == self.status:
            return self._wire
        wire: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "dn": self.dn,
            "party_caller_name": self.party_caller_name,
            "party_dn": self.party_dn,
            "party_caller_id": self.party_caller_id,
            "party_did": self.party_did,
            "device_id": self.device_id,
            "party_dn_type": self.party_dn_type,
            "direct_control": self.direct_control,
            "originated_by_dn": self.originated_by_dn,
            "originated_by_type": self.originated_by_type,
            "referred_by_dn": self.referred_by_dn,
            "referred_by_type": self.referred_by_type,
            "on_behalf_of_dn": self.on_behalf_of_dn,
            "on_behalf_of_type": self.on_behalf_of_type,
            "callid": self.callid,
            "legid": self.legid,
        }
        self._wire = {k: v for k, v in wire.items() if v is not None}
        return self._wire


@dataclass
class Party:
    """One end of a call: a DN of this PBX or an external number (`dn` is None)."""

    number: str
    dn_type: str
    name: str = ""
    dn: str | None = None


@dataclass
class Call:
    callid: int
    caller: Party
    callee: Party
    started_at: float
    participants: dict[int, Participant] = field(default_factory=dict)
    answered_at: float | None = None
    ended_at: float | None = None
    answered_by: str | None = None
    queue: str | None = None
    queue_entered_at: float | None = None
    transfers: int = 0
    legs: int = 0
    history: list[Participant] = field(default_factory=list)  # every participant the call ever had

    @property
    def status(self) -> str:
        if self.ended_at is not None:
            return "Ended"
        return "Talking" if self.answered_at is not None else "Routing"

    @property
    def abandoned(self) -> bool:
        """True for a queue call that ended without being answered."""
        return self.queue is not None and self.answered_at is None and self.ended_at is not None


class EventListener(Protocol):
    """A WebSocket connection, as the switchboard sees it: a set of DNs and a mailbox."""

    visible: frozenset[str]

    def deliver(self, event_type: int, entity: str, attached_data: Any) -> None: ...


class CallObserver(Protocol):
    """Gets every call when it starts, changes and ends (the XAPI call tables follow these)."""

    def call_changed(self, call: Call) -> None: ...

    def call_ended(self, call: Call) -> None: ...


class Switchboard:
    """The live calls of the emulated PBX.

    Example:
        >>> sb = Switchboard([DN("100", "Wextension"), DN("101", "Wextension")])
        >>> caller = sb.place_call("100", "101")
        >>> sb.answer(sb.participants_of("101")[0].id)
        >>> caller.status
        'Connected'
    """

    def __init__(
        self, dns: Iterable[DN], *, clock: Callable[[], float] = time.time, history: int = 5000
    ) -> None:
        self.dns: dict[str, DN] = {d.number: d for d in dns}
        self.calls: dict[int, Call] = {}
        self.participants: dict[int, Participant] = {}
        self._by_dn: dict[str, dict[int, Participant]] = {}  # the busy simulator asks "who is on DN x?" a lot
        self._waiting: dict[int, Call] = {}  # queue calls not answered yet
        self._queues_of_agent: dict[str, list[str]] = {}
        for dn in self.dns.values():
            for agent in dn.agents:
                self._queues_of_agent.setdefault(agent, []).append(dn.number)
        self.ended: deque[Call] = deque(maxlen=history)
        self.listeners: set[EventListener] = set()
        self.observers: list[CallObserver] = []
        self.events_emitted = 0
        self._clock = clock
        self._next_participant = itertools.count(1001)
        self._next_call = itertools.count(5001)

    def number_calls_from(self, first: int) -> None:
        """Give new calls ids from ``first`` on (at least 5001): the call log keeps using a live
        call's id as its ``CallId``, so ids must not repeat the seeded history's."""
        self._next_call = itertools.count(max(first, 5001))

    # -- reading ------------------------------------------------------------------------------

    def dn_info(self, number: str) -> dict[str, Any]:
        """`DNInfo` of one DN as the REST API returns it."""
        dn = self.dns[number]
        return {
            "dn": dn.number,
            "type": dn.type,
            "devices": [d.to_wire() for d in dn.devices],
            "participants": [p.to_wire() for p in self.participants_of(number)],
        }

    def participants_of(self, number: str) -> list[Participant]:
        legs = self._by_dn.get(number)
        return [legs[k] for k in sorted(legs)] if legs else []

    def visible_dns(self, route_point: str) -> frozenset[str]:
        """What an API client bound to `route_point` may see: the DN itself and its monitored DNs."""
        dn = self.dns.get(route_point)
        if dn is None:
            return frozenset()
        return frozenset([dn.number, *(m for m in dn.monitored if m in self.dns)])

    def is_free(self, number: str) -> bool:
        return not self._by_dn.get(number)

    # -- events -------------------------------------------------------------------------------

    def _emit(self, dn: str, event_type: int, entity: str, attached_data: Any = None) -> None:
        self.events_emitted += 1
        for listener in list(self.listeners):
            if dn in listener.visible:
                listener.deliver(event_type, entity, attached_data)

    def _changed(self, participant: Participant) -> None:
        self._emit(participant.dn, UPSERT, participant.entity)

    def _notify(self, call: Call) -> None:
        for observer in self.observers:
            observer.call_changed(call)

    # -- building calls -----------------------------------------------------------------------

    def _party(self, number: str) -> Party:
        dn = self.dns.get(number)
        if dn is None:
            return Party(number, "Wexternalline", "", None)
        return Party(number, dn.type, dn.name, dn.number)

    def _add(self, call: Call, dn: str, status: str, peer: Party, **extra: Any) -> Participant:
        call.legs += 1
        device = self.dns[dn].devices[0].device_id if self.dns[dn].devices else None
        participant = Participant(
            id=next(self._next_participant),
            dn=dn,
            callid=call.callid,
            legid=call.legs,
            status=status,
            party_dn=peer.dn or peer.number,
            party_caller_id=peer.number,
            party_caller_name=peer.name or None,
            party_dn_type=peer.dn_type,
            device_id=extra.pop("device_id", None) or device,
            created_at=self._clock(),
            **extra,
        )
        call.participants[participant.id] = participant
        call.history.append(participant)
        self.participants[participant.id] = participant
        self._by_dn.setdefault(dn, {})[participant.id] = participant
        self._changed(participant)
        return participant

    def _remove(self, participant: Participant) -> None:
        call = self.calls.get(participant.callid)
        if call is not None:
            call.participants.pop(participant.id, None)
        self._by_dn.get(participant.dn, {}).pop(participant.id, None)
        if self.participants.pop(participant.id, None) is not None:
            self._emit(participant.dn, REMOVE, participant.entity)

    def _set_status(self, participant: Participant, status: str) -> None:
        if participant.status != status:
            participant.status = status
            self._changed(participant)

    def _find(self, participant_id: int, dn: str | None = None) -> Participant:
        participant = self.participants.get(participant_id)
        if participant is None or (dn is not None and participant.dn != dn):
            raise Refused("participant not found", status=404)
        return participant

    def place_call(
        self, source: str, destination: str, *, device_id: str | None = None
    ) -> Participant | None:
        """Start a call from a DN or an external number; returns the source DN's participant.

        Raises Refused when neither end is a DN of this PBX or the destination is empty.
        """
        return self.start_call(source, destination, device_id=device_id)[1]

    def start_call(
        self, source: str, destination: str, *, device_id: str | None = None
    ) -> tuple[Call, Participant | None]:
        """`place_call` that also returns the new call. Raises Refused."""
        if not destination:
            raise Refused("destination is empty")
        if source not in self.dns and destination not in self.dns:
            raise Refused("neither end of the call is on this PBX")
        devices = {d.device_id for d in self.dns[source].devices} if source in self.dns else set()
        if device_id is not None and device_id not in devices:
            raise Refused("unknown device", status=404)
        call = Call(next(self._next_call), self._party(source), self._party(destination), self._clock())
        self.calls[call.callid] = call
        source_leg = None
        if source in self.dns:
            source_leg = self._add(
                call,
                source,
                "Dialing",
                call.callee,
                device_id=device_id,
                originated_by_dn=source,
                originated_by_type=self.dns[source].type,
                direct_control=self.dns[source].type == "Wroutepoint",
            )
        ringing = self._ring(call, destination, call.caller)
        self._notify(call)
        if ringing is None and call.queue is not None:
            self.end_call(call.callid)  # a full queue turns the caller away at once
        return call, source_leg

    def _ring(self, call: Call, destination: str, peer: Party, **extra: Any) -> Participant | None:
        dn = self.dns.get(destination)
        if dn is None:
            return None  # the far end is outside the PBX: it answers when the simulator says so
        if dn.type == "Wqueue":
            call.queue = dn.number
            if len(self._by_dn.get(dn.number, {})) >= dn.max_callers:
                return None  # the queue is full: the caller hears busy (see start_call)
            self._waiting[call.callid] = call
            call.queue_entered_at = self._clock()
            leg = self._add(call, dn.number, "Ringing", peer, **extra)
            self.offer_to_agent(call)
            return leg
        return self._add(call, dn.number, "Ringing", peer, direct_control=dn.type == "Wroutepoint", **extra)

    def offer_to_agent(self, call: Call) -> Participant | None:
        """Ring the first free agent of the call's queue (none when all are busy or one rings)."""
        if call.queue is None or call.answered_at is not None or call.ended_at is not None:
            return None
        if any(p.on_behalf_of_dn == call.queue for p in call.participants.values()):
            return None
        for agent in self.dns[call.queue].agents:
            if agent in self.dns and self.is_free(agent):
                return self._add(
                    call,
                    agent,
                    "Ringing",
                    call.caller,
                    on_behalf_of_dn=call.queue,
                    on_behalf_of_type="Wqueue",
                )
        return None

    def offer_waiting_calls(self, freed: Iterable[str] | None = None) -> None:
        """Offer waiting queue calls to free agents, oldest first (only queues of `freed` agents)."""
        queues = None
        if freed is not None:
            queues = {q for dn in freed for q in self._queues_of_agent.get(dn, ())}
            if not queues:
                return
        has_free: dict[str, bool] = {}
        for call in list(self._waiting.values()):  # dicts keep insertion order: oldest first
            queue = call.queue or ""
            if queues is not None and queue not in queues:
                continue
            if queue not in has_free:
                has_free[queue] = any(self.is_free(a) for a in self.dns[queue].agents if a in self.dns)
            if has_free[queue] and self.offer_to_agent(call) is not None:
                has_free.pop(queue)  # that agent is taken now: look again for the next caller

    # -- what phones and apps do -------------------------------------------------------------

    def answer(self, participant_id: int, dn: str | None = None) -> Participant:
        """Answer a ringing participant: the call is connected. Raises Refused if not ringing."""
        leg = self._find(participant_id, dn)
        if leg.status != "Ringing":
            raise Refused(f"cannot answer a participant that is {leg.status}")
        call = self.calls[leg.callid]
        call.answered_at = call.answered_at or self._clock()
        self._waiting.pop(call.callid, None)
        call.answered_by = leg.dn
        self._set_status(leg, "Connected")
        for other in list(call.participants.values()):
            if other.id == leg.id:
                continue
            kind = self._type(other.dn)
            if kind in ("Wqueue", "Wroutepoint") and (
                other.status == "Ringing" or leg.on_behalf_of_dn == other.dn
            ):
                self._remove(other)  # the queue or route point hands the call over
            elif other.on_behalf_of_dn is not None and other.status == "Ringing":
                self._remove(other)  # another agent was ringing for the same call
            elif other.status in ("Dialing", "Ringing"):
                self._set_status(other, "Connected")
        self._notify(call)
        return leg

    def answer_far_end(self, callid: int) -> None:
        """The external party of an outbound call picks up."""
        call = self.calls.get(callid)
        if call is None or call.answered_at is not None:
            return
        call.answered_at = self._clock()
        call.answered_by = call.callee.number
        self._waiting.pop(call.callid, None)
        for leg in list(call.participants.values()):
            self._set_status(leg, "Connected")
        self._notify(call)

    def drop(self, participant_id: int, dn: str | None = None) -> Participant:
        """Hang up one participant. A call left with fewer than two parties ends."""
        leg = self._find(participant_id, dn)
        call = self.calls[leg.callid]
        self._remove(leg)
        if call.queue is not None and call.answered_at is None and leg.on_behalf_of_dn == call.queue:
            self.offer_to_agent(call)  # an agent declined: the queue goes on
            return leg
        external_parties = int(call.caller.dn is None) + int(call.callee.dn is None)
        if (
            len(call.participants) + external_parties < 2
            or leg.status == "Dialing"
            or call.answered_at is None
        ):
            self.end_call(call.callid)
        else:
            self._notify(call)
        return leg

    def end_call(self, callid: int) -> Call:
        """Hang up every leg of a call (the caller or the far end hung up). Raises Refused if unknown."""
        call = self.calls.pop(callid, None)
        if call is None:
            raise Refused("call not found", status=404)
        for leg in sorted(call.participants.values(), key=lambda p: p.id):
            self._remove(leg)
        call.ended_at = self._clock()
        self.ended.append(call)
        self._waiting.pop(call.callid, None)
        for observer in self.observers:
            observer.call_ended(call)
        self.offer_waiting_calls({leg.dn for leg in call.history})
        return call

    def divert(self, participant_id: int, destination: str, dn: str | None = None) -> Participant:
        """Send a ringing participant's call to another destination instead."""
        leg = self._find(participant_id, dn)
        if leg.status != "Ringing":
            raise Refused("only a ringing call can be diverted")
        call = self.calls[leg.callid]
        self._remove(leg)
        new = self._ring(
            call, destination, call.caller, referred_by_dn=leg.dn, referred_by_type=self._type(leg.dn)
        )
        if new is None:
            self.answer_far_end(call.callid)
        self._notify(call)
        return leg

    def route_to(self, participant_id: int, destination: str, dn: str | None = None) -> Participant:
        """Ring a destination for a route point's call; the route point keeps it until answered."""
        leg = self._find(participant_id, dn)
        if not leg.direct_control:
            raise Refused("routeto needs a participant under direct control (a route point's call)")
        call = self.calls[leg.callid]
        self._ring(
            call, destination, call.caller, on_behalf_of_dn=leg.dn, on_behalf_of_type=self._type(leg.dn)
        )
        self._notify(call)
        return leg

    def transfer_to(self, participant_id: int, destination: str, dn: str | None = None) -> Participant:
        """Blind-transfer a connected call: this participant leaves, the other party rings `destination`."""
        leg = self._find(participant_id, dn)
        if leg.status != "Connected":
            raise Refused("only a connected call can be transferred")
        if destination not in self.dns:
            raise Refused("the destination is not a DN of this PBX")
        call = self.calls[leg.callid]
        call.transfers += 1
        self._remove(leg)
        peer = call.caller if leg.dn != call.caller.dn else call.callee
        for other in call.participants.values():
            self._set_status(other, "Dialing")
        self._add(
            call, destination, "Ringing", peer, referred_by_dn=leg.dn, referred_by_type=self._type(leg.dn)
        )
        self._notify(call)
        return leg

    def attach_data(self, participant_id: int, data: Any, dn: str | None = None) -> Participant:
        """Attach data to a participant (an upsert follows)."""
        leg = self._find(participant_id, dn)
        if isinstance(data, dict):
            leg.attached_data.update(data)
        self._changed(leg)
        return leg

    def send_dtmf(self, participant_id: int, digits: str) -> Participant:
        """A participant pressed keys: a DTMF event for its DN."""
        leg = self._find(participant_id)
        self._emit(leg.dn, DTMF, leg.entity, {"dtmf_input": digits})
        return leg

    def playback_finished(self, participant_id: int) -> None:
        """A prompt streamed to a participant has been played out."""
        leg = self.participants.get(participant_id)
        if leg is not None:
            self._emit(leg.dn, PLAYBACK_FINISHED, leg.entity)

    def _type(self, number: str) -> str | None:
        dn = self.dns.get(number)
        return dn.type if dn else None
