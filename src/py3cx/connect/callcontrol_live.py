"""Live call events from the Call Control event stream, for a PBX registered with a route point.

``follow_callcontrol`` keeps the PBX's Call Control WebSocket open (issue 5's ``EventStream``: it
reconnects with a fresh token and reloads ``GET /callcontrol`` after every drop) and turns what it
sees into events, within a second of the call:

- ``call.ringing`` when a call first shows a participant on a DN the route point sees;
- ``call.answered`` when a participant of the call is first ``Connected``;
- ``call.ended`` when the call has had no participant left for ``END_GRACE`` seconds (a transfer
  removes one leg before the next appears), with what the stream saw: numbers, direction, the
  answering extension, the queue, ringing and talking seconds, ``"source": "callcontrol"``.

Keys are the PBX's call id (``callid``), which the call log names ``CallId`` (docs/emulator.md,
Fidelity): the record sync, coming later, finds the ``call.ended`` and sends what the log adds
(record count, recordings, exact durations) as ``call.updated``, with ``call.missed``,
``queue.abandoned`` and ``recording.ready``. Each of these events exists at most once per call
(``events.once_key``), so a restarted follower, the ActiveCalls poll and the record sync never
repeat one. A call that begins and ends while the socket is down, or on DNs the route point does
not monitor, gets its ``call.ended`` from the record sync alone.

The follower's health is the ``callcontrol`` stream of ``sync_state`` (``3cx connect status``):
a success every ``HEARTBEAT`` seconds while connected, an error when the PBX refuses the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from py3cx._client import AsyncClient
from py3cx._exceptions import Py3cxError
from py3cx.callcontrol.events import CallControlEvent, ParticipantRemoved, ParticipantUpserted
from py3cx.callcontrol.models import CallParticipant
from py3cx.callcontrol.stream import StreamOptions
from py3cx.connect import schema
from py3cx.connect.db import Database
from py3cx.connect.events import SCHEMA_VERSION, live_call_ended, write_events
from py3cx.connect.records import to_e164
from py3cx.connect.registry import Pbx
from py3cx.connect.sync import PassResult, _end_pass, _utc
from py3cx.connect.tokens import DatabaseTokenStore
from py3cx.connect.vault import Vault

__all__ = [
    "END_GRACE",
    "HEARTBEAT",
    "CallFollower",
    "follow_callcontrol",
    "route_point_client",
    "stop_follower",
]

log = logging.getLogger("py3cx.connect")

END_GRACE = 0.5
HEARTBEAT = 30.0
RETRY_AFTER = 30.0
STREAM = "callcontrol"
_EXTENSION_TYPES = ("Wextension",)
_QUEUE_TYPES = ("Wqueue",)


def route_point_client(db: Database, vault: Vault, pbx: Pbx) -> AsyncClient:
    """An AsyncClient of the PBX's route point (its token kept in the database like the others).
    Raises ValueError when the PBX has no route point."""
    settings = pbx.settings
    if not settings.route_point_id or not pbx.route_point_secret:
        raise ValueError(f"PBX {pbx.name!r} has no route point")
    return AsyncClient(
        settings.url,
        settings.route_point_id,
        pbx.route_point_secret,
        verify=settings.verify_tls,
        ca_bundle=settings.ca_bundle,
        token_store=DatabaseTokenStore(db, vault, settings.url, settings.route_point_id),
    )


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None


@dataclass
class _Call:
    call_id: str
    first_seen: datetime
    caller: str | None = None
    caller_name: str | None = None
    callee: str | None = None
    answered_at: datetime | None = None
    agent: str | None = None
    queue: str | None = None
    legs: dict[tuple[str, int], CallParticipant] = field(default_factory=dict)
    ending: asyncio.TimerHandle | None = None


class CallFollower:
    """Turns one PBX's Call Control events into call events in the database (``handle``).

    ``dn_type`` answers a DN's type (``Wextension``, ``Wqueue``...) from the stream's cache.
    Example: ``follower = CallFollower(db, pbx, stream.state.dn_type)``
    """

    def __init__(self, db: Database, pbx: Pbx, dn_type: Any, *, end_grace: float = END_GRACE) -> None:
        self.db = db
        self.pbx = pbx
        self.dn_type = dn_type
        self.end_grace = end_grace
        self.calls: dict[str, _Call] = {}
        self.written = 0
        self.seen = 0
        self._pending: set[asyncio.Task[None]] = set()

    # -- events in ------------------------------------------------------------------------------

    async def handle(self, event: CallControlEvent) -> None:
        """Apply one stream event; writes the call events it causes."""
        if isinstance(event, ParticipantUpserted):
            await self._upserted(event.dn, event.participant)
        elif isinstance(event, ParticipantRemoved):
            self._removed(event.dn, event.participant_id, event.last_known)

    async def _upserted(self, dn: str, leg: CallParticipant) -> None:
        if leg.callid is None or leg.id is None:
            return
        self.seen += 1
        call_id = str(leg.callid)
        now = datetime.now(timezone.utc)
        items: list[tuple[str, str, dict[str, Any], datetime]] = []
        call = self.calls.get(call_id)
        if call is None:
            call = self.calls[call_id] = _Call(call_id, now)
            self._parties(call, dn, leg)
            call.first_seen, call.answered_at = await asyncio.to_thread(self._known_times, call_id, now)
            items.append(("call.ringing", call_id, self._data(call), call.first_seen))
        if call.ending is not None:
            call.ending.cancel()
            call.ending = None
        call.legs[(dn, leg.id)] = leg
        kind = self.dn_type(dn)
        if kind in _QUEUE_TYPES and call.queue is None:
            call.queue = dn
        if leg.status == "Connected":
            if call.agent is None and kind in _EXTENSION_TYPES:
                call.agent = dn
            if call.answered_at is None:
                call.answered_at = now
                items.append(("call.answered", call_id, self._data(call), now))
        if items:
            await self._write(items)

    def _removed(self, dn: str, participant_id: int, last_known: CallParticipant | None) -> None:
        call = None
        if last_known is not None and last_known.callid is not None:
            call = self.calls.get(str(last_known.callid))
        if call is None:
            call = next((c for c in self.calls.values() if (dn, participant_id) in c.legs), None)
        if call is None:
            return
        self.seen += 1
        call.legs.pop((dn, participant_id), None)
        if not call.legs and call.ending is None:
            loop = asyncio.get_running_loop()
            call.ending = loop.call_later(self.end_grace, self._end_soon, call.call_id)

    def _end_soon(self, call_id: str) -> None:
        task = asyncio.ensure_future(self._end(call_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _end(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None or call.legs:
            return
        del self.calls[call_id]
        ended = datetime.now(timezone.utc)
        row = self._call_row(call, ended)
        written = await asyncio.to_thread(self._write_ended, row, ended)
        self.written += written

    async def flush(self) -> None:
        """End now the calls waiting out their grace (on stop), and wait for pending writes."""
        for call in list(self.calls.values()):
            if call.ending is not None:
                call.ending.cancel()
                call.ending = None
                await self._end(call.call_id)
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    # -- what a call looks like -------------------------------------------------------------------

    def _parties(self, call: _Call, dn: str, leg: CallParticipant) -> None:
        # the DN that dials is the caller; otherwise the party calling in is, and the DN is called
        other = leg.party_caller_id or leg.party_dn
        if leg.status == "Dialing":
            call.caller, call.callee = dn, other
        else:
            call.caller, call.caller_name, call.callee = other, leg.party_caller_name or None, dn

    def _direction(self, call: _Call) -> str:
        region = self.pbx.settings.country
        if call.caller and to_e164(call.caller, region):
            return "inbound"
        if call.callee and to_e164(call.callee, region):
            return "outbound"
        return "internal"

    def _data(self, call: _Call) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "pbx": self.pbx.name,
            "call_id": call.call_id,
            "live_id": call.call_id,
            "caller": call.caller,
            "callee": call.callee,
            "status": "Talking" if call.answered_at else "Ringing",
            "started_at": _iso(call.first_seen),
            "answered_at": _iso(call.answered_at),
            "source": "callcontrol",
        }

    def _call_row(self, call: _Call, ended: datetime) -> dict[str, Any]:
        region = self.pbx.settings.country
        answered = call.answered_at
        return {
            "call_id": call.call_id,
            "start_time": call.first_seen,
            "end_time": ended,
            "direction": self._direction(call),
            "status": "answered" if answered else ("abandoned" if call.queue else "missed"),
            "from_number": call.caller,
            "from_e164": to_e164(call.caller, region),
            "from_name": call.caller_name,
            "to_number": call.callee,
            "to_e164": to_e164(call.callee, region),
            "answered_by_dn": call.agent,
            "queue": call.queue,
            "ringing_seconds": round(((answered or ended) - call.first_seen).total_seconds(), 3),
            "talking_seconds": round((ended - answered).total_seconds(), 3) if answered else 0.0,
            "records": 0,
            "recording_ids": None,
        }

    # -- the database -----------------------------------------------------------------------------

    def _known_times(self, call_id: str, now: datetime) -> tuple[datetime, datetime | None]:
        """When an earlier run (or the ActiveCalls poll) saw the call ring and be answered."""
        events = schema.events
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                sa.select(events.c.type, events.c.occurred_at).where(
                    (events.c.pbx_id == self.pbx.id)
                    & (events.c.call_id == call_id)
                    & events.c.type.in_(("call.ringing", "call.answered"))
                )
            ).all()
        times = {str(kind): _utc(when) or now for kind, when in rows}
        return times.get("call.ringing", now), times.get("call.answered")

    async def _write(self, items: list[tuple[str, str, dict[str, Any], datetime]]) -> None:
        self.written += await asyncio.to_thread(self._write_items, items)

    def _write_items(self, items: list[tuple[str, str, dict[str, Any], datetime]]) -> int:
        with self.db.engine.begin() as conn:
            return write_events(conn, self.pbx.id, self.pbx.name, items, datetime.now(timezone.utc))

    def _write_ended(self, row: Mapping[str, Any], now: datetime) -> int:
        with self.db.engine.begin() as conn:
            return live_call_ended(conn, self.pbx.id, self.pbx.name, row, now)


async def stop_follower(name: str, task: asyncio.Task[None], stop: asyncio.Event) -> None:
    """Ask a follower (``follow_callcontrol``'s task) to stop and wait for it; one that will not
    within 10 s is cancelled, and one that failed is logged: stopping never raises for it."""
    stop.set()
    try:
        await asyncio.wait_for(task, 10)  # cancelled when it will not stop
    except asyncio.TimeoutError:
        log.warning("py3cx connect: %s Call Control follower did not stop; cancelled", name)
    except Exception as exc:
        log.warning("py3cx connect: %s Call Control follower failed: %s", name, exc)


async def follow_callcontrol(
    db: Database,
    vault: Vault,
    pbx: Pbx,
    stop: asyncio.Event,
    *,
    options: StreamOptions | None = None,
    end_grace: float = END_GRACE,
    heartbeat: float = HEARTBEAT,
    retry_after: float = RETRY_AFTER,
    healthy: asyncio.Event | None = None,
    start_after: float = 0.0,
) -> None:
    """Follow the PBX's Call Control stream until ``stop``; a refused stream is recorded in
    ``sync_state`` and tried again after ``retry_after`` seconds. ``healthy`` is set while the
    stream is open (the scheduler polls ActiveCalls instead while it is not). ``start_after``
    seconds pass first: many followers starting together are spread out (their token fetches too).
    Example: ``await follow_callcontrol(db, vault, pbx, stop)``
    """
    healthy = healthy or asyncio.Event()
    if start_after > 0:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), start_after)
    while not stop.is_set():
        client = route_point_client(db, vault, pbx)
        follower: CallFollower | None = None
        started = time.monotonic()
        try:
            stream = client.callcontrol.events(options=options)
            follower = CallFollower(db, pbx, stream.state.dn_type, end_grace=end_grace)
            await _pump(db, pbx, stream, follower, stop, healthy, heartbeat)
        except Exception as exc:  # recorded and retried: the follower must outlive any one failure
            if not isinstance(exc, Py3cxError):
                log.exception("py3cx connect: %s Call Control follower failed", pbx.name)
            log.warning("py3cx connect: %s Call Control stream refused: %s", pbx.name, exc)
            hint = exc.hint if isinstance(exc, Py3cxError) else None
            result = PassResult(
                pbx.name,
                STREAM,
                seconds=time.monotonic() - started,
                error=str(exc) or type(exc).__name__,
                hint=hint,
            )
            await asyncio.to_thread(_end_pass, db, pbx.id, STREAM, result, datetime.now(timezone.utc))
        finally:
            healthy.clear()
            if follower is not None:
                with contextlib.suppress(Exception):
                    await follower.flush()
            await client.close()
        if not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), retry_after)


async def _pump(
    db: Database,
    pbx: Pbx,
    stream: Any,
    follower: CallFollower,
    stop: asyncio.Event,
    healthy: asyncio.Event,
    heartbeat: float,
) -> None:
    """Read the stream into the follower until ``stop``; a success in sync_state every heartbeat."""
    async with stream:
        iterator = stream.__aiter__()
        next_event: asyncio.Task[CallControlEvent] | None = None
        stopping = asyncio.ensure_future(stop.wait())
        last_beat, counted = time.monotonic(), (0, 0)
        try:
            while not stop.is_set():
                if next_event is None:
                    next_event = asyncio.ensure_future(iterator.__anext__())
                done, _ = await asyncio.wait(
                    {next_event, stopping}, timeout=1.0, return_when=asyncio.FIRST_COMPLETED
                )
                if next_event in done:
                    task, next_event = next_event, None
                    try:
                        event = task.result()
                    except StopAsyncIteration:
                        return
                    await follower.handle(event)
                if stream.stats.connected and not healthy.is_set():
                    healthy.set()
                    last_beat -= heartbeat  # connected: say so in sync_state now, not a heartbeat later
                elif not stream.stats.connected:
                    healthy.clear()
                if time.monotonic() - last_beat >= heartbeat:
                    seen, written = follower.seen - counted[0], follower.written - counted[1]
                    result = PassResult(pbx.name, STREAM, seen, written, time.monotonic() - last_beat)
                    await asyncio.to_thread(_end_pass, db, pbx.id, STREAM, result, datetime.now(timezone.utc))
                    last_beat, counted = time.monotonic(), (follower.seen, follower.written)
        finally:
            stopping.cancel()
            if next_event is not None:
                next_event.cancel()
                with contextlib.suppress(BaseException):
                    await next_event
