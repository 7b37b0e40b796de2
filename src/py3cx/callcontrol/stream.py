"""The Call Control event stream: a WebSocket that never loses a call.

    async for event in client.callcontrol.events():
        ...

What it does, and why:
- connects to `/callcontrol/ws` with the bearer token, pinging every few seconds;
- after every (re)connect it loads `GET /callcontrol` and yields the differences with its
  cache, because the PBX does not replay events sent while the socket was down;
- an upsert only names an entity, so the stream GETs it and yields its state; upserts and
  removals of one entity are handled strictly in order, different entities in parallel;
- a duplicate upsert (same state) is dropped; an upsert whose entity already answers 404 is
  reported as a removal (the participant came and went before we could look);
- a gap in `sequence` means events were lost on the way: the stream resyncs;
- any drop is followed by a reconnect with backoff and a fresh token (a 401 on the handshake
  makes the client fetch a new one); a refused handshake (403, 404) or bad credentials end the
  stream with the error, since retrying cannot help.

The cache (`CallState`) is updated before the event is queued for the reader, so it is current
even when the reader is slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosedOK, InvalidStatus, InvalidURI, WebSocketException

from py3cx._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    AuthenticationError,
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
    TokenError,
)
from py3cx._retry import RetryPolicy
from py3cx.callcontrol.events import (
    CallControlEvent,
    DTMFReceived,
    EventParseError,
    EventType,
    ParticipantRemoved,
    ParticipantUpserted,
    PlaybackFinished,
    UnknownEvent,
    WireEvent,
    dtmf_digits,
    parse_message,
)
from py3cx.callcontrol.fetching import ParticipantFetcher
from py3cx.callcontrol.models import CallParticipant, DNDevice, DNInfo
from py3cx.callcontrol.paths import ROOT
from py3cx.callcontrol.state import CallState

__all__ = ["EventStream", "StreamBackend", "StreamOptions", "StreamStats", "reconnect_delay"]

log = logging.getLogger("py3cx.callcontrol")

_HANDSHAKE_HINT = (
    "the API client must be a Call Control client: its id is the DN of a route point "
    "(Admin > Integrations > API > 3CX Call Control API access)"
)


class StreamBackend(Protocol):
    """What the stream needs from a client: tokens, GETs, and where the WebSocket is."""

    ws_url: str
    ssl_context: ssl.SSLContext | None

    async def token(self) -> str: ...

    async def refresh_token(self) -> None: ...

    async def get(self, path: str) -> Any: ...


@dataclass
class StreamOptions:
    """Tuning of an event stream. The defaults suit a real PBX; tests shorten the intervals.

    `dns` limits the stream (and its cache) to some DNs. `backoff_*` shape the reconnect delays;
    `max_attempts` (None: forever) bounds reconnects in a row that fail; `first_attempts` bounds
    them before the stream ever connected (a wrong URL, a PBX that is down: say so, do not wait
    forever; None: forever). `max_in_flight` caps
    concurrent GETs; `fetch_rounds` and `fetch_everything_at` tune the batching of upsert
    fetches (see `fetching.py`). `high_water` events waiting for the reader make the stream stop
    reading the socket until half of them are read; `sync_queue_size` bounds the hand-over queue
    of the sync stream (`SyncEventStream`) the same way, so a slow reader keeps memory flat.
    """

    dns: frozenset[str] | None = None
    ping_interval: float = 5.0
    ping_timeout: float = 10.0
    open_timeout: float = 10.0
    backoff_initial: float = 0.1
    backoff_max: float = 30.0
    max_attempts: int | None = None
    first_attempts: int | None = 3
    max_in_flight: int = 32
    fetch_rounds: int = 3
    fetch_everything_at: int = 6
    high_water: int = 10_000
    sync_queue_size: int = 1_000
    drain_timeout: float = 5.0
    remember_removed: int = 50_000


@dataclass
class StreamStats:
    """Counters for monitoring a stream (`stream.stats`)."""

    connected: bool = False
    connections: int = 0
    drops: int = 0
    resyncs: int = 0
    messages: int = 0
    bad_messages: int = 0
    fetches: int = 0
    batched: int = 0
    duplicates: int = 0
    merged: int = 0  # upserts answered by the fetch of a later upsert of the same entity
    not_found: int = 0
    fetch_errors: int = 0
    sequence_gaps: int = 0
    last_sequence: int | None = None
    events: int = 0
    last_error: str | None = None
    connected_at: float | None = None


def reconnect_delay(attempt: int, *, initial: float = 0.1, maximum: float = 30.0) -> float:
    """Seconds to wait before reconnect number `attempt` (0 = right after a drop).

    Exponential (`py3cx.RetryPolicy`'s cap: doubling from `initial`, at most `maximum`) with
    jitter that takes off at most half: unlike a request retry, a reconnect must not come at
    once, or a PBX that drops every socket would be hammered (and what happened while the
    socket was down is then reported by the resync, never by a racing live event).
    Example: `reconnect_delay(0)` is between 0.05 and 0.1; `reconnect_delay(20)` at most 30.
    """
    cap = RetryPolicy(initial_delay=initial, max_delay=maximum, random=lambda: 1.0).delay(attempt)
    return cap * (1.0 - 0.5 * random.random())


class _Fatal(Exception):
    """Wraps an error that retrying cannot fix; it ends the stream."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class _Lane:
    backlog: deque[WireEvent] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


_END = object()


class EventStream:
    """Typed Call Control events, with reconnects and resyncs; an async iterator and context manager.

    Raises (from iteration) AuthenticationError, PermissionDeniedError, NotFoundError, TokenError
    or ConfigError when the PBX refuses the stream for good.
    Example:
        async with client.callcontrol.events() as stream:
            async for event in stream:
                print(event.kind)
    """

    def __init__(
        self,
        backend: StreamBackend,
        state: CallState,
        options: StreamOptions | None = None,
        *,
        on_applied: Callable[[CallControlEvent, WireEvent | None], None] | None = None,
    ) -> None:
        self.backend = backend
        self.state = state
        self.options = options or StreamOptions()
        self.stats = StreamStats()
        self.on_applied = on_applied
        # called with every wire event once the cache holds its effect: applied, answered by a
        # later fetch of the same entity (merged), or found to change nothing (benchmarks time it)
        self.on_settled: Callable[[WireEvent], None] | None = None
        self._queue: deque[Any] = deque()
        self._ready: asyncio.Event | None = None
        self._space: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._lanes: dict[str, _Lane] = {}
        self._gone: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._semaphore: asyncio.Semaphore | None = None
        self._fetcher: ParticipantFetcher | None = None
        self._ws: ClientConnection | None = None
        self._closed = False
        self._resync_needed = False
        self._auth_failures = 0
        self._healthy = False

    # -- the reader's side ----------------------------------------------------------------------

    def _start(self) -> None:
        if self._task is None and not self._closed:
            self._ready = asyncio.Event()
            self._space = asyncio.Event()
            self._space.set()
            self._wake = asyncio.Event()
            self._semaphore = asyncio.Semaphore(self.options.max_in_flight)
            self._fetcher = ParticipantFetcher(
                self.backend.get,
                self._semaphore,
                self.stats,
                wide_at=self.options.fetch_everything_at,
                rounds=self.options.fetch_rounds,
                sizes=self.state.sizes,
            )
            self._task = asyncio.get_running_loop().create_task(self._run(), name="py3cx-callcontrol-events")

    def __aiter__(self) -> AsyncIterator[CallControlEvent]:
        return self

    async def __anext__(self) -> CallControlEvent:
        self._start()
        assert self._ready is not None and self._space is not None
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        item = self._queue.popleft()
        if len(self._queue) < self.options.high_water // 2:
            self._space.set()
        if item is _END:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._closed = True
            raise item
        return item  # type: ignore[no-any-return]

    async def __aenter__(self) -> EventStream:
        self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the stream: close the socket, cancel fetches. Iteration then ends."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for lane in list(self._lanes.values()):
            if lane.task is not None:
                lane.task.cancel()
        self._lanes.clear()
        if self._fetcher is not None:
            self._fetcher.cancel()
        if self._ready is not None:
            self._ready.set()

    async def wait_connected(self, timeout: float = 10.0) -> None:
        """Wait until the stream is connected and has loaded the state once.

        Raises TimeoutError, or the stream's fatal error. Example: `await stream.wait_connected()`
        """
        self._start()
        deadline = time.monotonic() + timeout
        while self.stats.resyncs == 0:
            for item in self._queue:
                if isinstance(item, BaseException):
                    raise item
            if self._task is not None and self._task.done():
                raise RuntimeError("the event stream stopped before it connected")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the event stream did not connect within {timeout} s")
            await asyncio.sleep(0.01)

    def _settle(self, wire: WireEvent) -> None:
        if self.on_settled is not None:
            self.on_settled(wire)

    def _emit(self, event: CallControlEvent, wire: WireEvent | None = None) -> None:
        self.stats.events += 1
        if self.on_applied is not None:
            self.on_applied(event, wire)
        self._queue.append(event)
        if self._ready is not None:
            self._ready.set()
        if self._space is not None and len(self._queue) >= self.options.high_water:
            self._space.clear()

    def _fail(self, error: BaseException) -> None:
        self._queue.append(error)
        if self._ready is not None:
            self._ready.set()

    # -- connecting -----------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        ever_connected = False
        try:
            while not self._closed:
                self._healthy = False
                try:
                    await self._session()
                except _Fatal as fatal:
                    self._fail(fatal.error)
                    return
                except (TokenError, ConfigError) as exc:  # from a token refresh mid-session
                    self._fail(exc)
                    return
                except (
                    OSError,
                    WebSocketException,
                    APIConnectionError,
                    APIStatusError,
                    asyncio.TimeoutError,
                ) as exc:
                    self.stats.last_error = f"{type(exc).__name__}: {exc}"
                    log.info("Call Control event stream dropped: %s", self.stats.last_error)
                finally:
                    self.stats.connected = False
                if self._closed:
                    return
                if self._healthy:
                    failures = 0  # the last session worked: reconnect quickly
                    ever_connected = True
                self.stats.drops += 1
                limit = self.options.max_attempts if ever_connected else self.options.first_attempts
                if limit is not None and failures >= limit:
                    self._fail(
                        APIConnectionError(f"gave up reconnecting: {self.stats.last_error}", path=ROOT)
                    )
                    return
                await asyncio.sleep(
                    reconnect_delay(
                        failures,
                        initial=self.options.backoff_initial,
                        maximum=self.options.backoff_max,
                    )
                )
                failures += 1
        finally:
            if not self._closed:
                self._queue.append(_END)
            if self._ready is not None:
                self._ready.set()

    async def _connect(self) -> ClientConnection:
        try:
            # inside the try: a refused token request (a wrong secret) ends the stream with its error
            token = await self.backend.token()
            return await websockets.connect(
                self.backend.ws_url,
                additional_headers={"Authorization": f"Bearer {token}"},
                ssl=self.backend.ssl_context,
                open_timeout=self.options.open_timeout,
                ping_interval=self.options.ping_interval,
                ping_timeout=self.options.ping_timeout,
                close_timeout=1.0,
                compression=None,
                max_queue=256,
                max_size=2**22,
                user_agent_header="py3cx",
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            path = "/callcontrol/ws"
            if status == 401:
                self._auth_failures += 1
                if self._auth_failures > 2:
                    raise _Fatal(
                        AuthenticationError(
                            "the PBX refused the token for the event stream",
                            status_code=401,
                            reason="Unauthorized",
                            method="GET",
                            path=path,
                            hint=_HANDSHAKE_HINT,
                        )
                    ) from None
                await self.backend.refresh_token()  # the token was replaced: take the new one
                raise
            if status in (403, 404):
                cls = PermissionDeniedError if status == 403 else NotFoundError
                raise _Fatal(
                    cls(
                        "the PBX refused the event stream",
                        status_code=status,
                        reason="Forbidden" if status == 403 else "Not Found",
                        method="GET",
                        path=path,
                        hint=_HANDSHAKE_HINT,
                    )
                ) from None
            raise
        except InvalidURI as exc:
            raise _Fatal(ConfigError(f"invalid event stream URL: {exc}", hint="check the PBX URL")) from None
        except (TokenError, ConfigError) as exc:
            raise _Fatal(exc) from None

    async def _session(self) -> None:
        ws = await self._connect()
        self._ws = ws
        self.stats.connections += 1
        self.stats.connected = True
        self.stats.connected_at = time.monotonic()
        self.stats.last_sequence = None
        try:
            await self._resync()
            self._auth_failures = 0
            self._healthy = True
            await self._read(ws)
        finally:
            self._ws = None
            await ws.close()
            await self._drain_lanes()

    async def _read(self, ws: ClientConnection) -> None:
        """Handle messages until the socket closes; resync as soon as anything asks for it.

        A failed fetch asks for a resync from a lane task, perhaps when no message follows, so
        the loop waits for the next message *or* that request (`recv` may be cancelled safely).
        Raises ConnectionClosedError when the socket drops.
        """
        assert self._space is not None and self._wake is not None
        receiving: asyncio.Task[str | bytes] | None = None
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            while True:
                if receiving is None:
                    receiving = asyncio.ensure_future(ws.recv())
                await asyncio.wait((receiving, woken), return_when=asyncio.FIRST_COMPLETED)
                if receiving.done():
                    message, receiving = receiving, None
                    try:
                        self._on_message(message.result())
                    except ConnectionClosedOK:
                        return
                if woken.done():
                    self._wake.clear()
                    woken = asyncio.ensure_future(self._wake.wait())
                if self._resync_needed:
                    await self._resync()
                if not self._space.is_set():
                    await self._space.wait()  # the reader is far behind: stop reading the socket
        finally:
            for task in (receiving, woken):
                if task is not None and not task.done():
                    task.cancel()
                elif task is not None and not task.cancelled():
                    task.exception()  # retrieved: the socket's error was already handled

    def _ask_resync(self) -> None:
        self._resync_needed = True
        if self._wake is not None:
            self._wake.set()

    async def _resync(self) -> None:
        """Load the full state and emit what differs from the cache."""
        self._resync_needed = False
        await self._drain_lanes()
        try:
            data = await self.backend.get(ROOT)
        except (TokenError, ConfigError, PermissionDeniedError) as exc:
            raise _Fatal(exc) from None
        infos = [DNInfo.model_validate(item) for item in (data if isinstance(data, list) else [])]
        if self.options.dns is not None:
            infos = [i for i in infos if i.dn in self.options.dns]
        for event in self.state.resync(infos):
            if isinstance(event, ParticipantRemoved):
                self._mark_gone(event.dn, event.participant_id)
            elif isinstance(event, ParticipantUpserted):
                self._gone.pop((event.dn, event.participant.id or 0), None)
            self._emit(event)
        self.stats.resyncs += 1

    async def _drain_lanes(self) -> None:
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=self.options.drain_timeout)
        for task in pending:
            task.cancel()
        if pending:
            self._lanes.clear()
            self._resync_needed = True

    # -- events ---------------------------------------------------------------------------------

    def _on_message(self, message: str | bytes) -> None:
        try:
            wire = parse_message(message)
        except EventParseError as exc:
            self.stats.bad_messages += 1
            log.warning("ignoring a Call Control message that is not an event: %s", exc)
            return
        self.stats.messages += 1
        if wire.sequence is not None:
            last = self.stats.last_sequence
            if last is not None and wire.sequence != last + 1:
                self.stats.sequence_gaps += 1
                self._resync_needed = True
            self.stats.last_sequence = wire.sequence
        target = wire.target
        if target is None:
            self._emit(
                UnknownEvent(wire.event_type, wire.entity, wire.attached_data, wire.sequence, wire.raw), wire
            )
            self._settle(wire)
            return
        if self.options.dns is not None and target.dn not in self.options.dns:
            self._settle(wire)
            return
        key = wire.entity.split("?", 1)[0].rstrip("/")
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
        lane.backlog.append(wire)
        if lane.task is None:
            lane.task = asyncio.get_running_loop().create_task(self._run_lane(key, lane))

    async def _run_lane(self, key: str, lane: _Lane) -> None:
        try:
            while lane.backlog:
                wire = lane.backlog.popleft()
                merged = [wire]
                if wire.event_type == EventType.UPSERT:
                    while lane.backlog and lane.backlog[0].event_type == EventType.UPSERT:
                        wire = lane.backlog.popleft()  # several upserts queued: one fetch answers all
                        merged.append(wire)
                        self.stats.duplicates += 1
                        self.stats.merged += 1
                    await self._apply_upsert(wire)
                else:
                    self._apply(wire)
                for done in merged:
                    self._settle(done)
        finally:
            if self._lanes.get(key) is lane:
                del self._lanes[key]

    def _mark_gone(self, dn: str, participant_id: int) -> None:
        self._gone[(dn, participant_id)] = None
        while len(self._gone) > self.options.remember_removed:
            self._gone.popitem(last=False)

    def _remove_participant(self, wire: WireEvent, dn: str, participant_id: int) -> None:
        known = self.state.participant(dn, participant_id) is not None
        if not known and (dn, participant_id) in self._gone:
            self.stats.duplicates += 1
            return
        self._mark_gone(dn, participant_id)
        self._emit(self.state.remove_participant(dn, participant_id, sequence=wire.sequence), wire)

    async def _apply_upsert(self, wire: WireEvent) -> None:
        target = wire.target
        assert target is not None and self._semaphore is not None and self._fetcher is not None
        try:
            if target.kind == "participants" and target.participant_id is not None:
                data = await self._fetcher.fetch(target.dn, target.participant_id)
            else:
                async with self._semaphore:
                    self.stats.fetches += 1
                    try:
                        data = await self.backend.get(target.path)
                    except NotFoundError:
                        data = None
        except APIError as exc:
            self.stats.fetch_errors += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            self._ask_resync()  # at once: no further message may come to trigger it
            return
        if target.kind == "participants" and target.participant_id is not None:
            pid = target.participant_id
            if data is None:
                self.stats.not_found += 1
                self._remove_participant(wire, target.dn, pid)
                return
            participant = CallParticipant.model_validate(data)
            if participant.id is None:
                participant = participant.model_copy(update={"id": pid})
            self._gone.pop((target.dn, pid), None)
            self._record(self.state.upsert_participant(target.dn, participant, sequence=wire.sequence), wire)
        elif target.kind == "devices" and target.id is not None:
            if data is None:
                self.stats.not_found += 1
                self._record(self.state.remove_device(target.dn, target.id, sequence=wire.sequence), wire)
                return
            device = DNDevice.model_validate(data)
            if device.device_id is None:
                device = device.model_copy(update={"device_id": target.id})
            self._record(self.state.upsert_device(target.dn, device, sequence=wire.sequence), wire)
        elif target.kind is None:
            events: Iterable[CallControlEvent]
            if data is None:
                events = self.state.forget_dn(target.dn)
            else:
                info = DNInfo.model_validate(data)
                events = self.state.resync_dn(info if info.dn else info.model_copy(update={"dn": target.dn}))
            for event in events:
                self._emit(event, wire)
        else:
            self._emit(
                UnknownEvent(wire.event_type, wire.entity, wire.attached_data, wire.sequence, wire.raw), wire
            )

    def _record(self, event: CallControlEvent | None, wire: WireEvent) -> None:
        if event is None:
            self.stats.duplicates += 1
        else:
            self._emit(event, wire)

    def _apply(self, wire: WireEvent) -> None:
        target = wire.target
        assert target is not None
        pid = target.participant_id
        if wire.event_type == EventType.REMOVE and pid is not None:
            self._remove_participant(wire, target.dn, pid)
        elif wire.event_type == EventType.REMOVE and target.kind == "devices" and target.id is not None:
            self._record(self.state.remove_device(target.dn, target.id, sequence=wire.sequence), wire)
        elif wire.event_type == EventType.REMOVE and target.kind is None:
            for event in self.state.forget_dn(target.dn):
                self._emit(event, wire)
        elif wire.event_type == EventType.DTMF:
            self._emit(DTMFReceived(target.dn, pid, dtmf_digits(wire.attached_data), wire.sequence), wire)
        elif wire.event_type == EventType.PLAYBACK_FINISHED:
            self._emit(PlaybackFinished(target.dn, pid, wire.attached_data, wire.sequence), wire)
        else:
            self._emit(
                UnknownEvent(wire.event_type, wire.entity, wire.attached_data, wire.sequence, wire.raw), wire
            )
