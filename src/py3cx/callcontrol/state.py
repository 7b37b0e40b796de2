"""The call-state cache: what every visible DN looks like now, kept current by the event stream.

Pure: no I/O. Every change goes through a method that returns the event describing it (or None
when nothing changed, which is how duplicate upserts are dropped), and `resync()` turns a fresh
`GET /callcontrol` into the events that were missed while the WebSocket was down.

The stream mutates the cache on its event loop; readers may sit on other threads (a sync script,
the wallboard), so changes and reads take a lock, and readers get copies: what a reader changes
never reaches the cache (the cache keeps its own copy of what it stores, too).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel

from py3cx.callcontrol.events import (
    CallControlEvent,
    DeviceRemoved,
    DeviceUpserted,
    ParticipantRemoved,
    ParticipantUpserted,
)
from py3cx.callcontrol.models import CallParticipant, DNDevice, DNInfo

__all__ = ["CallState", "DNState"]

_Model = TypeVar("_Model", bound=BaseModel)


def _copy(model: _Model) -> _Model:
    """A deep copy, so that neither the cache nor its reader can change the other's object."""
    return model.model_copy(deep=True)


@dataclass
class DNState:
    """One DN in the cache: its type, devices by id and participants by id."""

    dn: str
    type: str | None = None
    devices: dict[str, DNDevice] = field(default_factory=dict)
    participants: dict[int, CallParticipant] = field(default_factory=dict)

    def to_info(self) -> DNInfo:
        return DNInfo(
            dn=self.dn,
            type=self.type,
            devices=[_copy(self.devices[k]) for k in sorted(self.devices)],
            participants=[_copy(self.participants[k]) for k in sorted(self.participants)],
        )


class CallState:
    """The cache of DNs, devices and participants that `client.callcontrol.state` exposes.

    Example:
        >>> state = CallState()
        >>> state.upsert_participant("100", CallParticipant(id=1, status="Ringing")).added
        True
        >>> [p.id for p in state.participants("100")]
        [1]
    """

    def __init__(self) -> None:
        self._dns: dict[str, DNState] = {}
        self._lock = threading.RLock()
        self.version = 0
        self.updated_at: float | None = None

    # -- reading ------------------------------------------------------------------------------

    def dns(self) -> list[str]:
        """The DNs in the cache, sorted."""
        with self._lock:
            return sorted(self._dns)

    def dn_type(self, dn: str) -> str | None:
        """The type of a DN (`Wextension`, `Wqueue`, `Wroutepoint`...), None if unknown."""
        with self._lock:
            entry = self._dns.get(dn)
            return entry.type if entry else None

    def participant(self, dn: str, participant_id: int) -> CallParticipant | None:
        """A copy of one cached participant, or None."""
        with self._lock:
            entry = self._dns.get(dn)
            found = entry.participants.get(participant_id) if entry else None
            return _copy(found) if found is not None else None

    def participants(self, dn: str | None = None) -> list[CallParticipant]:
        """Copies of the participants of one DN, or of every DN (ordered by DN then id)."""
        with self._lock:
            if dn is None:
                entries = [self._dns[k] for k in sorted(self._dns)]
            else:
                entries = [self._dns[dn]] if dn in self._dns else []
            return [_copy(e.participants[k]) for e in entries for k in sorted(e.participants)]

    def devices(self, dn: str) -> list[DNDevice]:
        """Copies of the devices cached for a DN."""
        with self._lock:
            entry = self._dns.get(dn)
            return [_copy(entry.devices[k]) for k in sorted(entry.devices)] if entry else []

    def calls(self) -> dict[int, list[CallParticipant]]:
        """Participants grouped by `callid` (participants without one are left out)."""
        grouped: dict[int, list[CallParticipant]] = {}
        for participant in self.participants():
            if participant.callid is not None:
                grouped.setdefault(participant.callid, []).append(participant)
        return grouped

    def snapshot(self) -> list[DNInfo]:
        """The whole cache as `DNInfo` objects sorted by DN: comparable with `GET /callcontrol`."""
        with self._lock:
            return [self._dns[k].to_info() for k in sorted(self._dns)]

    def sizes(self) -> dict[str, int]:
        """How many participants each DN has now."""
        with self._lock:
            return {dn: len(entry.participants) for dn, entry in self._dns.items()}

    def __len__(self) -> int:
        with self._lock:
            return sum(len(e.participants) for e in self._dns.values())

    # -- changing -----------------------------------------------------------------------------

    def _touch(self) -> None:
        self.version += 1
        self.updated_at = time.monotonic()

    def _entry(self, dn: str) -> DNState:
        entry = self._dns.get(dn)
        if entry is None:
            entry = self._dns[dn] = DNState(dn)
        return entry

    def upsert_participant(
        self, dn: str, participant: CallParticipant, *, sequence: int | None = None, resync: bool = False
    ) -> ParticipantUpserted | None:
        """Store a participant's fetched state; None when it equals the cached one (a duplicate).

        Raises ValueError when the participant has no id.
        """
        if participant.id is None:
            raise ValueError("a participant without an id cannot be cached")
        with self._lock:
            entry = self._entry(dn)
            previous = entry.participants.get(participant.id)
            if previous == participant:
                return None
            entry.participants[participant.id] = _copy(participant)
            self._touch()
        return ParticipantUpserted(dn, participant, previous, sequence=sequence, resync=resync)

    def remove_participant(
        self, dn: str, participant_id: int, *, sequence: int | None = None, resync: bool = False
    ) -> ParticipantRemoved:
        """Forget a participant; the event carries its last cached state (None if never cached)."""
        with self._lock:
            entry = self._dns.get(dn)
            last = entry.participants.pop(participant_id, None) if entry else None
            if last is not None:
                self._touch()
        return ParticipantRemoved(dn, participant_id, last, sequence=sequence, resync=resync)

    def upsert_device(
        self, dn: str, device: DNDevice, *, sequence: int | None = None, resync: bool = False
    ) -> DeviceUpserted | None:
        """Store a device; None when unchanged. Raises ValueError when it has no `device_id`."""
        if device.device_id is None:
            raise ValueError("a device without a device_id cannot be cached")
        with self._lock:
            entry = self._entry(dn)
            previous = entry.devices.get(device.device_id)
            if previous == device:
                return None
            entry.devices[device.device_id] = _copy(device)
            self._touch()
        return DeviceUpserted(dn, device, previous, sequence=sequence, resync=resync)

    def remove_device(
        self, dn: str, device_id: str, *, sequence: int | None = None, resync: bool = False
    ) -> DeviceRemoved | None:
        """Forget a device; None when it was not cached."""
        with self._lock:
            entry = self._dns.get(dn)
            last = entry.devices.pop(device_id, None) if entry else None
            if last is None:
                return None
            self._touch()
        return DeviceRemoved(dn, device_id, last, sequence=sequence, resync=resync)

    def resync(self, snapshot: Sequence[DNInfo]) -> list[CallControlEvent]:
        """Make the cache equal a full `GET /callcontrol` and return what changed, as events.

        Participants that appeared or changed give `ParticipantUpserted(resync=True)`, those that
        vanished `ParticipantRemoved(resync=True)`; DNs no longer visible lose everything.
        Example: `state.resync([DNInfo(dn="100", type="Wextension")])`
        """
        events: list[CallControlEvent] = []
        with self._lock:
            seen: set[str] = set()
            for info in snapshot:
                if info.dn is None:
                    continue
                seen.add(info.dn)
                events.extend(self._resync_dn(info))
            for dn in [d for d in self._dns if d not in seen]:
                events.extend(self._drop_dn(dn))
        return events

    def resync_dn(self, info: DNInfo) -> list[CallControlEvent]:
        """Make one DN equal its fresh `GET /callcontrol/{dn}`; returns the differences."""
        with self._lock:
            return self._resync_dn(info)

    def forget_dn(self, dn: str) -> list[CallControlEvent]:
        """Drop a DN that is no longer visible; returns the removals."""
        with self._lock:
            return self._drop_dn(dn)

    def _resync_dn(self, info: DNInfo) -> list[CallControlEvent]:
        assert info.dn is not None
        events: list[CallControlEvent] = []
        entry = self._entry(info.dn)
        if info.type is not None and entry.type != info.type:
            entry.type = info.type
            self._touch()
        fresh_devices = {d.device_id: d for d in info.devices if d.device_id is not None}
        for device_id in [k for k in entry.devices if k not in fresh_devices]:
            removed = self.remove_device(info.dn, device_id, resync=True)
            if removed:
                events.append(removed)
        for device in fresh_devices.values():
            upserted = self.upsert_device(info.dn, device, resync=True)
            if upserted:
                events.append(upserted)
        fresh = {p.id: p for p in info.participants if p.id is not None}
        for participant_id in sorted(k for k in entry.participants if k not in fresh):
            events.append(self.remove_participant(info.dn, participant_id, resync=True))
        for participant_id in sorted(fresh):
            changed = self.upsert_participant(info.dn, fresh[participant_id], resync=True)
            if changed:
                events.append(changed)
        return events

    def _drop_dn(self, dn: str) -> list[CallControlEvent]:
        entry = self._dns.pop(dn, None)
        if entry is None:
            return []
        self._touch()
        events: list[CallControlEvent] = [
            ParticipantRemoved(dn, pid, entry.participants[pid], resync=True)
            for pid in sorted(entry.participants)
        ]
        events.extend(DeviceRemoved(dn, did, dev, resync=True) for did, dev in sorted(entry.devices.items()))
        return events

    def load(self, snapshot: Iterable[DNInfo]) -> None:
        """Replace the cache with a snapshot, without producing events."""
        self.resync(list(snapshot))
