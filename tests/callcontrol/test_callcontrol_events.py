"""The event stream against the emulator's real WebSocket: typed events, duplicates, the 404 race,
reconnects with a fresh token, resyncs, and a state cache that ends equal to the PBX's truth."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx2
import pytest

import py3cx
from py3cx._exceptions import APIStatusError, PermissionDeniedError
from py3cx.callcontrol import (
    CallControlEvent,
    DNInfo,
    DTMFReceived,
    EventStream,
    ParticipantRemoved,
    ParticipantUpserted,
    PlaybackFinished,
    StreamOptions,
    SyncEventStream,
)
from py3cx.callcontrol.api import websocket_url
from py3cx.callcontrol.audio import pcm_chunks
from py3cx.callcontrol.state import CallState
from py3cx.callcontrol.sync_stream import ThreadedBackend
from py3cx.emulator import ApiClient

Emulator = Phones = Any  # the conftest's fixtures

FAST = StreamOptions(ping_interval=1.0, ping_timeout=2.0, backoff_initial=0.05, backoff_max=0.5)


@pytest.fixture
def client(pbx: Emulator, route_point: ApiClient) -> Iterator[py3cx.Client]:
    with py3cx.Client(pbx.url, route_point.client_id, route_point.secret) as c:
        yield c


@pytest.fixture
def stream(client: py3cx.Client, phones: Phones) -> Iterator[SyncEventStream]:
    with client.callcontrol.events(options=FAST) as events:
        events.wait_connected()
        yield events


def collect(
    events: SyncEventStream, until: Callable[[list[CallControlEvent]], bool], timeout: float = 5.0
) -> list[CallControlEvent]:
    """Events until `until(seen)` holds; fails after `timeout` seconds."""
    seen: list[CallControlEvent] = []
    deadline = time.monotonic() + timeout
    while not until(seen):
        assert time.monotonic() < deadline, f"timed out; saw {[e.kind for e in seen]}"
        event = events.get(timeout=0.1)
        if event is not None:
            seen.append(event)
    return seen


def of(events: list[CallControlEvent], participant_id: int | None) -> list[CallControlEvent]:
    def pid(e: CallControlEvent) -> int | None:
        if isinstance(e, ParticipantUpserted):
            return e.participant.id
        return getattr(e, "participant_id", None)

    return [e for e in events if pid(e) == participant_id]


def removed(pid: int) -> Callable[[list[CallControlEvent]], bool]:
    return lambda seen: any(isinstance(e, ParticipantRemoved) and e.participant_id == pid for e in seen)


def quiet(events: SyncEventStream, seconds: float = 0.3) -> list[CallControlEvent]:
    """Everything that arrives within `seconds`."""
    seen: list[CallControlEvent] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        event = events.get(timeout=0.05)
        if event is not None:
            seen.append(event)
    return seen


def truth_of(phones: Phones) -> list[DNInfo]:
    return [DNInfo.model_validate(d) for d in phones.truth()]


def test_calls_in_progress_at_connect_come_first_as_resync_upserts(
    client: py3cx.Client, phones: Phones
) -> None:
    call = phones.call("+4930123456", "101")
    with client.callcontrol.events(options=FAST) as events:
        seen = collect(events, lambda s: any(isinstance(e, ParticipantUpserted) for e in s))
    first = next(e for e in seen if isinstance(e, ParticipantUpserted))
    assert first.resync and first.added
    assert (first.dn, first.participant.callid, first.participant.status) == (
        "101",
        call["callid"],
        "Ringing",
    )


def test_a_call_is_reported_ringing_then_connected_then_removed(
    stream: SyncEventStream, phones: Phones
) -> None:
    call = phones.call("+4930123456", "102")
    leg = call["participants"][0]["id"]
    collect(stream, lambda s: any(isinstance(e, ParticipantUpserted) and e.participant.id == leg for e in s))
    phones.answer(call["callid"])
    connected = collect(stream, lambda s: any(isinstance(e, ParticipantUpserted) for e in of(s, leg)))
    upsert = next(e for e in connected if isinstance(e, ParticipantUpserted))
    assert upsert.participant.status == "Connected"
    assert upsert.previous is not None and upsert.previous.status == "Ringing"
    assert not upsert.resync and upsert.sequence is not None
    assert stream.state.participant("102", leg) == upsert.participant
    phones.end(call["callid"])
    gone = collect(stream, removed(leg))
    removal = next(e for e in gone if isinstance(e, ParticipantRemoved))
    assert removal.last_known == upsert.participant
    assert stream.state.participants("102") == []


def test_dtmf_and_playback_finished_arrive_as_typed_events(
    client: py3cx.Client, stream: SyncEventStream, phones: Phones
) -> None:
    call = phones.call("+4930123456", "8000")
    leg = call["participants"][0]["id"]
    phones.dtmf(leg, "12#")
    seen = collect(stream, lambda s: any(isinstance(e, DTMFReceived) for e in s))
    dtmf = next(e for e in seen if isinstance(e, DTMFReceived))
    assert (dtmf.dn, dtmf.participant_id, dtmf.digits) == ("8000", leg, "12#")
    # the upsert that announced the participant came before its digits
    assert seen.index(dtmf) > min(i for i, e in enumerate(seen) if isinstance(e, ParticipantUpserted))
    client.callcontrol.send_audio("8000", leg, pcm_chunks(b"\x00\x00" * 1600))
    finished = collect(stream, lambda s: any(isinstance(e, PlaybackFinished) for e in s))
    assert next(e for e in finished if isinstance(e, PlaybackFinished)).participant_id == leg


def test_an_upsert_that_changes_nothing_is_dropped(
    client: py3cx.Client, stream: SyncEventStream, phones: Phones
) -> None:
    call = phones.call("+4930123456", "8000")
    leg = call["participants"][0]["id"]
    collect(stream, lambda s: any(isinstance(e, ParticipantUpserted) for e in of(s, leg)))
    before = stream.stats.duplicates
    client.callcontrol.attach_participant_data("8000", leg, {"ticket": "7"})  # the PBX re-announces the leg
    assert of(quiet(stream), leg) == []
    assert stream.stats.duplicates == before + 1


def test_an_upsert_whose_participant_is_already_gone_becomes_a_single_removal(
    stream: SyncEventStream, phones: Phones
) -> None:
    phones.settings(event_delay=0.3)  # events arrive after the call has already ended
    call = phones.call("+4930123456", "103")
    phones.end(call["callid"])
    leg = call["participants"][0]["id"]
    seen = collect(stream, removed(leg)) + quiet(stream, 0.6)
    assert [type(e) for e in of(seen, leg)] == [ParticipantRemoved]
    removal = of(seen, leg)[0]
    assert isinstance(removal, ParticipantRemoved) and removal.last_known is None
    assert stream.stats.not_found >= 1
    assert stream.state.participants("103") == []


def test_after_a_drop_it_reconnects_with_a_fresh_token_and_reports_what_it_missed(
    pbx: Emulator, client: py3cx.Client, phones: Phones, route_point: ApiClient
) -> None:
    before = phones.call("+4930123456", "104")
    slow = StreamOptions(ping_interval=1.0, backoff_initial=0.6, backoff_max=1.0)
    with client.callcontrol.events(options=slow) as events:
        events.wait_connected()
        collect(events, lambda s: any(isinstance(e, ParticipantUpserted) for e in s))
        assert phones.drop_sockets() == 1
        # while the stream is away: one call ends, another starts, and the token is replaced
        phones.end(before["callid"])
        during = phones.call("+4930777888", "105")
        replaced = httpx2.post(
            pbx.url + "/connect/token",
            data={
                "client_id": route_point.client_id,
                "client_secret": route_point.secret,
                "grant_type": "client_credentials",
            },
        )
        assert replaced.status_code == 200
        ended_leg = before["participants"][0]["id"]

        def caught_up(seen: list[CallControlEvent]) -> bool:
            return removed(ended_leg)(seen) and any(
                isinstance(e, ParticipantUpserted) and e.participant.callid == during["callid"] for e in seen
            )

        seen = collect(events, caught_up, timeout=10)
        assert events.stats.connections == 2 and events.stats.drops >= 1
    gone = [e for e in seen if isinstance(e, ParticipantRemoved)]
    new = [e for e in seen if isinstance(e, ParticipantUpserted)]
    assert [(e.participant_id, e.resync) for e in gone] == [(ended_leg, True)]
    assert [(e.participant.callid, e.resync) for e in new] == [(during["callid"], True)]


def test_a_gap_in_sequence_makes_the_stream_resync(stream: SyncEventStream, phones: Phones) -> None:
    phones.settings(lose_every=3)  # every third event never arrives
    calls = [phones.call("+4930123456", dn) for dn in ("106", "107", "108")]
    phones.answer(calls[0]["callid"])
    phones.end(calls[1]["callid"])
    deadline = time.monotonic() + 5
    while stream.state.snapshot() != truth_of(phones):
        assert time.monotonic() < deadline, "the cache never caught up with the PBX"
        stream.get(timeout=0.05)
    assert stream.stats.sequence_gaps >= 1 and stream.stats.resyncs >= 2


def test_a_client_that_is_not_a_route_point_gets_the_refusal_not_endless_retries(
    pbx: Emulator, owner_client: ApiClient
) -> None:
    with (
        py3cx.Client(pbx.url, owner_client.client_id, owner_client.secret) as owner,
        owner.callcontrol.events(options=FAST) as events,
        pytest.raises(PermissionDeniedError) as refused,
    ):
        events.get(timeout=5)
    assert "route point" in (refused.value.hint or "")


def test_under_steady_load_with_drops_the_cache_matches_the_pbx_and_no_call_is_missed(
    client: py3cx.Client, phones: Phones
) -> None:
    earlier = {c["callid"] for c in phones.calls()["ended"]}
    phones.settings(
        ring_seconds=[0.3, 0.5],
        talk_seconds=[0.3, 0.8],
        queue_wait_seconds=[0.3, 0.6],
        call_rate=900,
        ws_drop_every=1.0,
    )
    seen: list[CallControlEvent] = []
    with client.callcontrol.events(options=FAST) as events:
        events.wait_connected()
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            event = events.get(timeout=0.05)
            if event is not None:
                seen.append(event)
        phones.settings(frozen=True)  # a still picture: live calls stay as they are
        seen += settle(events, phones)
        assert events.state.snapshot() == truth_of(phones)
        assert any(p.status == "Connected" for p in events.state.participants())
        phones.settings(call_rate=0)
        phones.end_all()
        phones.settings(frozen=False)
        seen += settle(events, phones)
        assert events.state.participants() == [] and events.state.snapshot() == truth_of(phones)
        assert events.stats.drops >= 2 and events.stats.resyncs >= 3
    started = {e.participant.callid for e in seen if isinstance(e, ParticipantUpserted)}
    ended = {e.last_known.callid for e in seen if isinstance(e, ParticipantRemoved) and e.last_known}
    visible = {d.dn for d in truth_of(phones)}
    expected = {
        c["callid"]
        for c in phones.calls()["ended"]
        if c["callid"] not in earlier and any(p["dn"] in visible for p in c["participants"])
    }
    assert len(expected) >= 20
    assert expected <= started, f"calls never reported as started: {sorted(expected - started)}"
    assert expected <= ended, f"calls never reported as ended: {sorted(expected - ended)}"


def settle(events: SyncEventStream, phones: Phones, timeout: float = 5.0) -> list[CallControlEvent]:
    """Read events until the cache equals the PBX's truth (which must hold still meanwhile)."""
    seen: list[CallControlEvent] = []
    deadline = time.monotonic() + timeout
    while events.state.snapshot() != truth_of(phones):
        assert time.monotonic() < deadline, "the cache did not settle on the PBX's truth"
        event = events.get(timeout=0.05)
        if event is not None:
            seen.append(event)
    return seen + quiet(events, 0.2)


def test_the_async_stream_yields_the_same_events(
    pbx: Emulator, phones: Phones, route_point: ApiClient
) -> None:
    async def scenario() -> list[CallControlEvent]:
        async with py3cx.AsyncClient(pbx.url, route_point.client_id, route_point.secret) as client:
            seen: list[CallControlEvent] = []
            async with client.callcontrol.events(dns=["109"], options=FAST) as stream:
                await stream.wait_connected()
                call = await asyncio.to_thread(phones.call, "+4930123456", "109")
                await asyncio.to_thread(phones.call, "+4930123456", "110")  # not asked for
                await asyncio.to_thread(phones.end, call["callid"])
                async for event in stream:
                    seen.append(event)
                    if isinstance(event, ParticipantRemoved):
                        break
                assert client.callcontrol.state.dns() == ["109"]
            return seen

    seen = asyncio.run(scenario())
    calls = [type(e) for e in seen if isinstance(e, ParticipantUpserted | ParticipantRemoved)]
    assert calls == [ParticipantUpserted, ParticipantRemoved]
    assert {e.dn for e in seen} == {"109"}  # the call to 110 was filtered out


def test_a_simulated_caller_to_the_route_point_presses_keys_then_gives_up(
    stream: SyncEventStream, phones: Phones
) -> None:
    phones.settings(ring_seconds=[0.1, 0.2], queue_wait_seconds=[0.2, 0.3])
    call = phones.call("+4930123456", "8000", auto=True)
    leg = call["participants"][0]["id"]
    seen = collect(stream, removed(leg), timeout=5)
    kinds = [e.kind for e in of(seen, leg)]
    assert kinds == ["participant.upserted", "dtmf", "participant.removed"]
    digits = next(e for e in seen if isinstance(e, DTMFReceived)).digits
    assert len(digits) == 2 and digits.endswith("#")


def test_a_slow_reader_holds_the_stream_back_and_its_queue_never_passes_the_bound(
    client: py3cx.Client, phones: Phones
) -> None:
    phones.settings(ring_seconds=[0.1, 0.3], talk_seconds=[0.1, 0.3], call_rate=3000)
    small = replace(FAST, sync_queue_size=8, high_water=16)
    read = 0
    with client.callcontrol.events(options=small) as events:
        events.wait_connected()
        while read < 120:
            if events.get(timeout=1.0) is not None:
                read += 1
                time.sleep(0.01)  # the reader is slower than the PBX
        assert events.queue_size == 8
        assert events.queue_peak == 8  # the queue filled up, and the pump waited instead of growing it
        phones.settings(call_rate=0, frozen=True)
        settle(events, phones)  # held back, it still catches up with the PBX
        assert events.queue_peak == 8


class FailingFetches(ThreadedBackend):
    """The real client, except that fetches of single entities fail while `failing` is set."""

    failing = False

    async def get(self, path: str) -> Any:
        if self.failing and path != "/callcontrol":
            raise APIStatusError("503 Service Unavailable", status_code=503, method="GET", path=path)
        return await super().get(path)


def test_a_failed_fetch_resyncs_at_once_without_waiting_for_the_next_message(
    client: py3cx.Client, phones: Phones
) -> None:
    call = phones.call("+4930123456", "111")
    backend = FailingFetches(client, websocket_url(client.url), None)
    with SyncEventStream(backend, CallState(), FAST) as events:
        events.wait_connected()
        settle(events, phones)
        resyncs = events.stats.resyncs
        backend.failing = True
        phones.answer(call["callid"])  # the answer's fetch fails; no message comes after it
        settle(events, phones)
        assert events.stats.fetch_errors >= 1 and events.stats.resyncs > resyncs
        assert [p.status for p in events.state.participants("111")] == ["Connected"]


def test_the_state_hands_out_copies_that_do_not_change_the_cache(
    client: py3cx.Client, stream: SyncEventStream, phones: Phones
) -> None:
    call = phones.call("+4930123456", "112")
    leg = call["participants"][0]["id"]
    seen = collect(stream, lambda s: any(isinstance(e, ParticipantUpserted) for e in of(s, leg)))
    state = client.callcontrol.state
    for participant in [
        state.participant("112", leg),
        *state.participants("112"),
        *state.participants(),
        *state.snapshot()[state.dns().index("112")].participants,
        *state.calls()[call["callid"]],
        next(e for e in seen if isinstance(e, ParticipantUpserted)).participant,
    ]:
        assert participant is not None
        participant.status = "Changed by the reader"
    assert [p.status for p in state.participants("112")] == ["Ringing"]
    assert state.snapshot() == truth_of(phones)


def test_the_async_stream_also_resyncs_at_once_after_a_failed_fetch(
    pbx: Emulator, phones: Phones, route_point: ApiClient
) -> None:
    call = phones.call("+4930123456", "113")

    async def scenario() -> list[str | None]:
        async with py3cx.AsyncClient(pbx.url, route_point.client_id, route_point.secret) as client:
            backend = AsyncFailingFetches(client)
            async with EventStream(backend, CallState(), FAST) as stream:
                await stream.wait_connected()
                backend.failing = True
                await asyncio.to_thread(phones.answer, call["callid"])
                truth = await asyncio.to_thread(truth_of, phones)
                while stream.state.snapshot() != truth:  # no event needs reading for the cache to catch up
                    await asyncio.sleep(0.02)
                assert stream.stats.fetch_errors >= 1
                return [p.status for p in stream.state.participants("113")]

    assert asyncio.run(asyncio.wait_for(scenario(), timeout=10)) == ["Connected"]


class AsyncFailingFetches:
    """The async client as a stream backend, except that single-entity fetches fail while `failing`."""

    failing = False

    def __init__(self, client: py3cx.AsyncClient) -> None:
        self._client = client
        self.ws_url = websocket_url(client.url)
        self.ssl_context = None

    async def token(self) -> str:
        return str(await self._client.token())

    async def refresh_token(self) -> None:
        await self._client.get("/callcontrol")

    async def get(self, path: str) -> Any:
        if self.failing and path != "/callcontrol":
            raise APIStatusError("503 Service Unavailable", status_code=503, method="GET", path=path)
        return await self._client.get(path)


class AsyncSlowFetches(AsyncFailingFetches):
    """The async client as a stream backend whose single-entity fetches take 0.3 s (a busy PBX)."""

    async def get(self, path: str) -> Any:
        if path != "/callcontrol":
            await asyncio.sleep(0.3)
        return await super().get(path)


def test_every_wire_event_is_settled_merged_upserts_included(
    pbx: Emulator, phones: Phones, route_point: ApiClient
) -> None:
    """`on_settled` sees each message once its effect is in the cache, also those that change
    nothing in it (a removal of a gone participant, an unchanged upsert) and the upserts that one
    fetch answered for several; `on_applied` sees only the changes (what the benchmark timed before)."""

    async def scenario() -> tuple[list[int | None], int, int]:
        async with py3cx.AsyncClient(pbx.url, route_point.client_id, route_point.secret) as client:
            settled: list[int | None] = []
            applied: set[int | None] = set()
            async with EventStream(AsyncSlowFetches(client), CallState(), FAST) as stream:
                stream.on_settled = lambda wire: settled.append(wire.sequence)
                stream.on_applied = lambda _event, wire: applied.add(wire.sequence if wire else None)
                await stream.wait_connected()
                before, start = stream.stats.messages, len(settled)
                # busy, with slow fetches: upserts of one participant pile up behind its fetch
                await asyncio.to_thread(
                    phones.settings, ring_seconds=[0.05, 0.2], talk_seconds=[0.05, 0.2], call_rate=1500
                )
                await asyncio.sleep(1.5)
                await asyncio.to_thread(phones.settings, call_rate=0, frozen=True)
                truth = await asyncio.to_thread(truth_of, phones)
                while stream.state.snapshot() != truth or len(settled) - start < stream.stats.messages - before:
                    await asyncio.sleep(0.02)
                return settled[start:], stream.stats.messages - before, len(applied - {None})

    settled, messages, applied = asyncio.run(asyncio.wait_for(scenario(), timeout=60))
    assert applied < messages  # some messages change nothing in the cache: on_applied never saw them
    assert len(settled) == messages and len(set(settled)) == messages
