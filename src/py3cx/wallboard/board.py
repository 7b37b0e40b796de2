"""What the wallboard shows, computed from the call-state cache and the events (pure, no I/O).

- per queue: callers waiting, calls being talked (answered through the queue, still going),
  since when the longest-waiting caller waits, and today's answered and abandoned calls;
- per extension: idle, ringing, dialing or talking, with whom and since when;
- the live calls.

A queue call counts as answered once an extension connects on its behalf; as abandoned when the
call ends without that. Counts reset at local midnight. The Call Control API has no history, so
the board starts from the PBX's own data (`seed`, see `startup.py`): today's counts from the
report, and the real start of the calls in progress; events take it on from there. A call that
starts and ends while the stream is down is only seen if it is still going when it comes back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from py3cx.callcontrol.active import active_calls
from py3cx.callcontrol.events import CallControlEvent, ParticipantRemoved, ParticipantUpserted
from py3cx.callcontrol.models import CallParticipant
from py3cx.callcontrol.state import CallState
from py3cx.wallboard.startup import StartingPoint

__all__ = ["Board"]

_LEG_STATUS = {"Connected": "talking", "Ringing": "ringing", "Dialing": "dialing"}
_BUSIEST_FIRST = ("talking", "dialing", "ringing")


@dataclass
class _QueueCall:
    queue: str
    answered: bool = False


@dataclass
class _Counts:
    answered: int = 0
    abandoned: int = 0


@dataclass
class Board:
    """The wallboard's model. Feed it every event with `apply`; `snapshot()` is what the page draws.

    Example:
        board = Board(client.callcontrol.state)
        async for event in client.callcontrol.events():
            board.apply(event)
    """

    state: CallState
    clock: Callable[[], float] = time.time
    today: Callable[[], date] = date.today
    connected: bool = False
    version: int = 0
    _since: dict[tuple[str, int], float] = field(default_factory=dict)
    _call_since: dict[int, float] = field(default_factory=dict)
    _queue_calls: dict[int, _QueueCall] = field(default_factory=dict)
    _counts: dict[str, _Counts] = field(default_factory=dict)
    _day: date | None = None
    _established: dict[int, float] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def seed(self, start: StartingPoint) -> None:
        """Start from the PBX's data: today's counts, queue names, when calls in progress began.

        Example: `board.seed(StartingPoint(date.today(), counts={"0336": (12, 3)}))`
        """
        self._day = start.day
        self._counts = {queue: _Counts(*pair) for queue, pair in start.counts.items()}
        self._established = dict(start.established)
        self.names = dict(start.names)

    def _roll_day(self) -> None:
        day = self.today()
        if day != self._day:
            self._day = day
            self._counts.clear()

    def _is(self, dn: str | None, kind: str) -> bool:
        return dn is not None and self.state.dn_type(dn) == kind

    def apply(self, event: CallControlEvent) -> None:
        """Take one event into account (the cache has already been updated by the stream)."""
        self._roll_day()
        self.version += 1
        if isinstance(event, ParticipantUpserted):
            self._upserted(event)
        elif isinstance(event, ParticipantRemoved):
            self._removed(event)

    def _upserted(self, event: ParticipantUpserted) -> None:
        dn, leg = event.dn, event.participant
        key = (dn, leg.id or 0)
        if event.previous is None or event.previous.status != leg.status or key not in self._since:
            self._since[key] = self._leg_since(event)  # a leg's time counts from its last change
        callid = leg.callid
        if callid is None:
            return
        self._call_since.setdefault(callid, self._established.get(callid, self.clock()))
        if self._is(dn, "Wqueue"):
            self._queue_calls.setdefault(callid, _QueueCall(dn))
        elif self._is(leg.on_behalf_of_dn, "Wqueue"):
            self._queue_calls.setdefault(callid, _QueueCall(str(leg.on_behalf_of_dn)))
        tracked = self._queue_calls.get(callid)
        if tracked and not tracked.answered and leg.status == "Connected" and self._is(dn, "Wextension"):
            tracked.answered = True
            self._counts.setdefault(tracked.queue, _Counts()).answered += 1

    def _leg_since(self, event: ParticipantUpserted) -> float:
        # a leg found by a resync of a call that was going at start-up began by the call's start
        # at the earliest; when exactly, Call Control does not say: the call's start is the guess
        started = self._established.get(event.participant.callid or -1)
        if event.resync and event.previous is None and started is not None:
            return started
        return self.clock()

    def _removed(self, event: ParticipantRemoved) -> None:
        self._since.pop((event.dn, event.participant_id), None)
        callid = event.last_known.callid if event.last_known else None
        if callid is None or callid in self.state.calls():
            return
        self._call_since.pop(callid, None)
        self._established.pop(callid, None)
        if callid not in self._queue_calls:
            return
        tracked = self._queue_calls.pop(callid)  # the last leg of the call is gone: it ended
        if not tracked.answered:
            self._counts.setdefault(tracked.queue, _Counts()).abandoned += 1

    # -- what the page draws ------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The page's data: queues, extensions, live calls and totals (times are epoch seconds)."""
        self._roll_day()
        now = self.clock()
        legs = self.state.participants()
        by_dn: dict[str, list[CallParticipant]] = {}
        for leg in legs:
            by_dn.setdefault(leg.dn or "", []).append(leg)
        queue_of_call = {callid: q.queue for callid, q in self._queue_calls.items()}
        queues = []
        for dn in self.state.dns():
            if self.state.dn_type(dn) != "Wqueue":
                continue
            waiting = by_dn.get(dn, [])
            talking = [
                p
                for p in legs
                if p.status == "Connected"
                and self._is(p.dn, "Wextension")
                and queue_of_call.get(p.callid or -1) == dn
            ]
            since = [self._since.get((dn, p.id or 0), now) for p in waiting]
            counts = self._counts.get(dn, _Counts())
            queues.append(
                {
                    "dn": dn,
                    "name": self.names.get(dn),
                    "waiting": len(waiting),
                    "talking": len(talking),
                    "longest_wait_since": min(since) if since else None,
                    "answered": counts.answered,
                    "abandoned": counts.abandoned,
                }
            )
        extensions = []
        for dn in self.state.dns():
            if self.state.dn_type(dn) != "Wextension":
                continue
            mine = sorted(
                by_dn.get(dn, []),
                key=lambda p: _BUSIEST_FIRST.index(_LEG_STATUS.get(p.status or "", "ringing")),
            )
            top = mine[0] if mine else None
            extensions.append(
                {
                    "dn": dn,
                    "status": _LEG_STATUS.get(top.status or "", "busy") if top else "idle",
                    "party": (top.party_caller_name or top.party_caller_id) if top else None,
                    "since": self._since.get((dn, top.id or 0), now) if top else None,
                    "calls": len(mine),
                }
            )
        calls = active_calls(self.state, dict(self._call_since), self.names)
        return {
            "connected": self.connected,
            "now": now,
            "version": self.version,
            "queues": queues,
            "extensions": extensions,
            "calls": calls,
            "totals": {
                "waiting": sum(q["waiting"] for q in queues),
                "talking": sum(1 for e in extensions if e["status"] == "talking"),
                "answered": sum(c.answered for c in self._counts.values()),
                "abandoned": sum(c.abandoned for c in self._counts.values()),
            },
        }
