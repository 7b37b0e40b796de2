"""The 3CX Call Control API: REST, audio streams, and an event stream that never loses a call.

    with py3cx.Client(url, "800", secret) as client:        # the client id is a route point DN
        client.callcontrol.make_call("100", "+4930123456")
        with client.callcontrol.events() as events:
            for event in events:
                print(event.kind, client.callcontrol.state.participants())

See `docs/callcontrol.md`. The protocol is BEHAVIOUR.md §6.
"""

from __future__ import annotations

from py3cx.callcontrol.api import AsyncCallControl, CallControl
from py3cx.callcontrol.errors import CallControlError
from py3cx.callcontrol.events import (
    CallControlEvent,
    DeviceRemoved,
    DeviceUpserted,
    DTMFReceived,
    EventType,
    ParticipantRemoved,
    ParticipantUpserted,
    PlaybackFinished,
    UnknownEvent,
    event_to_dict,
)
from py3cx.callcontrol.models import (
    CallControlResult,
    CallParticipant,
    DNDevice,
    DNInfo,
    FinalStatus,
    ParticipantAction,
)
from py3cx.callcontrol.state import CallState
from py3cx.callcontrol.stream import EventStream, StreamOptions, StreamStats
from py3cx.callcontrol.sync_stream import SyncEventStream

__all__ = [
    "AsyncCallControl",
    "CallControl",
    "CallControlError",
    "CallControlEvent",
    "CallControlResult",
    "CallParticipant",
    "CallState",
    "DNDevice",
    "DNInfo",
    "DTMFReceived",
    "DeviceRemoved",
    "DeviceUpserted",
    "EventStream",
    "EventType",
    "FinalStatus",
    "ParticipantAction",
    "ParticipantRemoved",
    "ParticipantUpserted",
    "PlaybackFinished",
    "StreamOptions",
    "StreamStats",
    "SyncEventStream",
    "UnknownEvent",
    "event_to_dict",
]
