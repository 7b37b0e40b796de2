"""Call Control events: the WebSocket envelope, entity paths and the typed events py3cx yields.

Pure: no I/O. The PBX pushes `{"sequence": 18, "event": {"event_type": 0, "entity":
"/callcontrol/150/participants/8107", "attached_data": null}}`. An upsert (0) only names the
entity: its state has to be fetched, which the event stream does before yielding a
`ParticipantUpserted`. Unknown event types and entity kinds are passed through as `UnknownEvent`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Union
from urllib.parse import unquote

from py3cx.callcontrol.models import CallParticipant, DNDevice

__all__ = [
    "CallControlEvent",
    "DTMFReceived",
    "DeviceRemoved",
    "DeviceUpserted",
    "EntityPath",
    "EventParseError",
    "EventType",
    "ParticipantRemoved",
    "ParticipantUpserted",
    "PlaybackFinished",
    "UnknownEvent",
    "WireEvent",
    "event_to_dict",
    "parse_entity",
    "parse_message",
]


class EventType(IntEnum):
    """`event.event_type` on the wire. Other values occur and must be tolerated."""

    UPSERT = 0
    REMOVE = 1
    DTMF = 2
    PLAYBACK_FINISHED = 3
    REPLY = 4


class EventParseError(ValueError):
    """A WebSocket message that is not a Call Control event envelope."""


@dataclass(frozen=True)
class EntityPath:
    """`/callcontrol/{dn}[/{kind}/{id}]` split into its parts (`kind` is `participants`, `devices`...).

    Example: `parse_entity("/callcontrol/150/participants/8107").participant_id == 8107`
    """

    path: str
    dn: str
    kind: str | None = None
    id: str | None = None

    @property
    def participant_id(self) -> int | None:
        """The participant id when this is a participant path with a numeric id."""
        if self.kind == "participants" and self.id is not None and self.id.lstrip("-").isdigit():
            return int(self.id)
        return None


def parse_entity(path: str) -> EntityPath | None:
    """Split an entity path; None when it is not under `/callcontrol/{dn}`.

    Device ids are SIP URIs and arrive percent-encoded; they are decoded here.
    Example: `parse_entity("/callcontrol/100/devices/sip%3A100%40pbx").id == "sip:100@pbx"`
    """
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if len(parts) < 2 or parts[0] != "callcontrol" or parts[1] == "ws":
        return None
    dn = unquote(parts[1])
    if len(parts) == 2:
        return EntityPath(path=path, dn=dn)
    kind = parts[2]
    ident = unquote("/".join(parts[3:])) if len(parts) > 3 else None
    return EntityPath(path=path, dn=dn, kind=kind, id=ident)


@dataclass(frozen=True)
class WireEvent:
    """One envelope as it came off the socket."""

    sequence: int | None
    event_type: int
    entity: str
    attached_data: Any
    raw: dict[str, Any]
    target: EntityPath | None = None  # the entity path split up (None when it is not under /callcontrol)


def parse_message(message: str | bytes | dict[str, Any]) -> WireEvent:
    """Parse one WebSocket message into a `WireEvent`.

    Raises EventParseError when the message is not JSON or has no `event`.
    Example: `parse_message('{"sequence":1,"event":{"event_type":1,"entity":"/callcontrol/1"}}')`
    """
    if isinstance(message, dict):
        data: Any = message
    else:
        try:
            data = json.loads(message)
        except (ValueError, UnicodeDecodeError) as exc:
            raise EventParseError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise EventParseError("the message is not a JSON object")
    event = data.get("event")
    if not isinstance(event, dict):
        raise EventParseError("the message has no 'event' object")
    raw_type: Any = event.get("event_type")
    try:
        event_type = int(raw_type)
    except (TypeError, ValueError) as exc:
        raise EventParseError(f"event_type {raw_type!r} is not an integer") from exc
    raw_sequence = data.get("sequence")
    sequence = raw_sequence if isinstance(raw_sequence, int) and not isinstance(raw_sequence, bool) else None
    entity = event.get("entity")
    entity = entity if isinstance(entity, str) else ""
    return WireEvent(
        sequence=sequence,
        event_type=event_type,
        entity=entity,
        attached_data=event.get("attached_data"),
        raw=data,
        target=parse_entity(entity),
    )


# The typed events. `resync` is True when the event was derived from comparing a fresh
# `GET /callcontrol` with the cache (after a (re)connect), not from a WebSocket message.


@dataclass(frozen=True)
class ParticipantUpserted:
    """A participant appeared (`previous` is None) or changed; `participant` is its fetched state."""

    dn: str
    participant: CallParticipant
    previous: CallParticipant | None = None
    sequence: int | None = None
    resync: bool = False
    kind: str = field(default="participant.upserted", init=False)

    @property
    def added(self) -> bool:
        return self.previous is None


@dataclass(frozen=True)
class ParticipantRemoved:
    """A participant is gone. `last_known` is its last cached state (None if it was never fetched)."""

    dn: str
    participant_id: int
    last_known: CallParticipant | None = None
    sequence: int | None = None
    resync: bool = False
    kind: str = field(default="participant.removed", init=False)


@dataclass(frozen=True)
class DeviceUpserted:
    """A device registered on a DN, or changed."""

    dn: str
    device: DNDevice
    previous: DNDevice | None = None
    sequence: int | None = None
    resync: bool = False
    kind: str = field(default="device.upserted", init=False)


@dataclass(frozen=True)
class DeviceRemoved:
    """A device left a DN."""

    dn: str
    device_id: str
    last_known: DNDevice | None = None
    sequence: int | None = None
    resync: bool = False
    kind: str = field(default="device.removed", init=False)


@dataclass(frozen=True)
class DTMFReceived:
    """Digits a participant pressed (`attached_data.dtmf_input`)."""

    dn: str
    participant_id: int | None
    digits: str
    sequence: int | None = None
    kind: str = field(default="dtmf", init=False)


@dataclass(frozen=True)
class PlaybackFinished:
    """A prompt played to a participant has finished."""

    dn: str
    participant_id: int | None
    attached_data: Any = None
    sequence: int | None = None
    kind: str = field(default="playback.finished", init=False)


@dataclass(frozen=True)
class UnknownEvent:
    """An event py3cx does not model (a new `event_type`, a reply, an unknown entity kind)."""

    event_type: int
    entity: str
    attached_data: Any = None
    sequence: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    kind: str = field(default="unknown", init=False)


CallControlEvent = Union[  # noqa: UP007 - a runtime alias, kept readable on Python 3.10
    ParticipantUpserted,
    ParticipantRemoved,
    DeviceUpserted,
    DeviceRemoved,
    DTMFReceived,
    PlaybackFinished,
    UnknownEvent,
]


def dtmf_digits(attached_data: Any) -> str:
    """The digits of a DTMF event's `attached_data` (`{"dtmf_input": "12#"}`), or ''."""
    if isinstance(attached_data, dict):
        for key in ("dtmf_input", "DtmfInput", "dtmf"):
            value = attached_data.get(key)
            if value is not None:
                return str(value)
    if isinstance(attached_data, str):
        return attached_data
    return ""


def event_to_dict(event: CallControlEvent) -> dict[str, Any]:
    """A JSON-ready dict of any event, with `kind` first (for JSON lines and webhooks).

    Example: `event_to_dict(DTMFReceived("100", 5, "1"))["kind"] == "dtmf"`
    """
    out: dict[str, Any] = {"kind": event.kind}
    for name, value in vars(event).items():
        if name in ("kind", "raw") or value is None:
            continue
        out[name] = value.to_wire() if hasattr(value, "to_wire") else value
    if isinstance(event, UnknownEvent):
        out["raw"] = event.raw
    return out
