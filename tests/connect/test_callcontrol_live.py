"""Live call events from the Call Control stream (a PBX registered with a route point), on SQLite
and PostgreSQL, against the emulator over HTTP and WebSocket: ringing, answered and ended within
the stream's time, one call.ended per call whichever source saw it first (the record sync then
sends call.updated), nothing repeated by a restarted follower, a call that ended while the socket
was down ended by the record sync alone, and a refused stream recorded in sync_state."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timezone
from importlib import resources
from typing import Any

import httpx2
import jsonschema_rs
import pytest
import sqlalchemy as sa

from py3cx.callcontrol.stream import StreamOptions
from py3cx.connect import schema
from py3cx.connect.callcontrol_live import follow_callcontrol
from py3cx.connect.db import Database
from py3cx.connect.events import live_call_ended
from py3cx.connect.outbox import add_endpoint
from py3cx.connect.registry import Pbx, PbxSettings, add_pbx
from py3cx.connect.sync import PbxSession, sync_calls
from py3cx.connect.vault import Vault
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

OWNER = ApiClient("cc-owner", "cc-owner-s3cret-value", "SystemOwner")
ROUTE_POINT = ApiClient("8000", "cc-route-point-s3cret", "SystemOwner")
OPTIONS = StreamOptions(ping_interval=1.0, ping_timeout=2.0, backoff_initial=0.05, backoff_max=0.5)
DEADLINE = 30.0


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=91, calls=10, clients=[OWNER, ROUTE_POINT])) as emu:
        yield emu


def _add(db: Database, vault: Vault, emu: RunningEmulator, *, secret: str = ROUTE_POINT.secret) -> Pbx:
    settings = PbxSettings(
        name="office",
        url=emu.url,
        client_id=OWNER.client_id,
        route_point_id=ROUTE_POINT.client_id,
        country="GB",
        rate_limit=1000.0,
        backfill_days=1,
        overlap_seconds=3600,
    )
    return add_pbx(db, vault, settings, OWNER.secret, route_point_secret=secret)


def _events(db: Database) -> list[dict[str, Any]]:
    e = schema.events
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(e.c.type, e.c.call_id, e.c.payload).order_by(e.c.seq)).all()
    return [{"type": t, "call_id": k, "payload": p} for t, k, p in rows]


def _of(db: Database, call_id: int) -> list[str]:
    return [e["type"] for e in _events(db) if e["call_id"] == str(call_id)]


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


class _Following:
    """A follower running in the test's event loop, and the emulator's phones."""

    def __init__(self, db: Database, vault: Vault, pbx: Pbx, emu: RunningEmulator) -> None:
        self.db, self.vault, self.pbx, self.emu = db, vault, pbx, emu
        self.stop = asyncio.Event()
        self.healthy = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.http = httpx2.AsyncClient(base_url=f"{emu.url}/_emulator/callcontrol", timeout=10)

    async def start(self, *, retry_after: float = 30.0) -> None:
        self.stop, self.healthy = asyncio.Event(), asyncio.Event()
        self.task = asyncio.ensure_future(
            follow_callcontrol(
                self.db,
                self.vault,
                self.pbx,
                self.stop,
                options=OPTIONS,
                healthy=self.healthy,
                heartbeat=0.5,
                retry_after=retry_after,
            )
        )

    async def wait_healthy(self) -> None:
        await asyncio.wait_for(self.healthy.wait(), DEADLINE)

    async def halt(self) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, DEADLINE)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = await self.http.post(path, json=body or {})
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None


def _run(
    db: Database, vault: Vault, emu: RunningEmulator, body: Callable[[_Following], Awaitable[None]]
) -> None:
    pbx = _add(db, vault, emu)

    async def go() -> None:
        following = _Following(db, vault, pbx, emu)
        try:
            await body(following)
        finally:
            if following.task is not None and not following.task.done():
                await following.halt()
            await following.http.aclose()

    asyncio.run(go())


async def _sync(db: Database, vault: Vault, pbx: Pbx) -> None:
    session = PbxSession(db, vault, pbx)
    try:
        result = await sync_calls(session)
        assert result.ok, result.error
    finally:
        await session.aclose()


def test_a_call_rings_is_answered_and_ends_live_then_the_log_updates_it(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    endpoint, _ = add_endpoint(db, vault, "https://crm.example.com/hooks")

    async def body(f: _Following) -> None:
        await f.start()
        await f.wait_healthy()
        call = await f.post("calls", {"from": "+442079460777", "to": "100"})
        callid = call["callid"]
        await _until(lambda: _of(db, callid) == ["call.ringing"], "call.ringing")
        ringing = next(e for e in _events(db) if e["call_id"] == str(callid))["payload"]
        live_schema = (resources.files("py3cx.connect") / "schemas" / "call-live.v1.json").read_text()
        jsonschema_rs.Draft202012Validator(json.loads(live_schema)).validate(ringing)
        assert ringing["data"]["source"] == "callcontrol" and ringing["data"]["caller"] == "+442079460777"
        await f.post(f"calls/{callid}/answer", {"dn": "100"})
        await _until(lambda: _of(db, callid) == ["call.ringing", "call.answered"], "call.answered")
        await f.post(f"calls/{callid}/end")
        await _until(lambda: "call.ended" in _of(db, callid), "call.ended")
        ended = next(e for e in _events(db) if e["type"] == "call.ended" and e["call_id"] == str(callid))
        data = ended["payload"]["data"]
        text = (resources.files("py3cx.connect") / "schemas" / "call.v1.json").read_text()
        jsonschema_rs.Draft202012Validator(json.loads(text)).validate(ended["payload"])
        assert data["source"] == "callcontrol" and data["status"] == "answered"
        assert data["direction"] == "inbound" and data["from"]["e164"] == "+442079460777"
        assert data["agent"]["extension"] == "100" and data["records"] == 0
        assert data["talking_seconds"] >= 0 and data["ended_at"] >= data["started_at"]
        await f.halt()
        # the call log has the call by the same id: the sync updates it, it does not end it again
        await asyncio.sleep(0.5)  # the emulator writes its call log in batches (0.2 s)
        await _sync(db, vault, f.pbx)
        kinds = _of(db, callid)
        assert kinds.count("call.ended") == 1 and kinds[-1] == "call.updated", kinds
        updated = [e for e in _events(db) if e["type"] == "call.updated" and e["call_id"] == str(callid)][-1]
        assert updated["payload"]["data"]["source"] == "records"
        assert updated["payload"]["data"]["records"] >= 1

    _run(db, vault, emulator, body)
    d, e = schema.deliveries, schema.events
    with db.engine.connect() as conn:
        queued = conn.execute(
            sa.select(e.c.type).join(d, d.c.event_seq == e.c.seq).where(d.c.endpoint_id == endpoint.id)
        ).scalars()
        assert {"call.ringing", "call.answered", "call.ended", "call.updated"} <= set(queued)


def test_a_missed_queue_call_ends_abandoned_and_a_restart_repeats_nothing(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    async def body(f: _Following) -> None:
        await f.start()
        await f.wait_healthy()
        call = await f.post("calls", {"from": "+442079460778", "to": "0336"})
        callid = call["callid"]
        await _until(lambda: _of(db, callid) == ["call.ringing"], "call.ringing")
        # a restart while the call rings: the new follower's resync sees it again, writes nothing new
        await f.halt()
        await f.start()
        await f.wait_healthy()
        await asyncio.sleep(1.0)
        assert _of(db, callid) == ["call.ringing"]
        await f.post(f"calls/{callid}/end")
        await _until(lambda: "call.ended" in _of(db, callid), "call.ended")
        data = next(e for e in _events(db) if e["type"] == "call.ended" and e["call_id"] == str(callid))[
            "payload"
        ]["data"]
        assert data["status"] == "abandoned" and data["queue"]["number"] == "0336"
        assert data["agent"] is None and data["talking_seconds"] == 0
        # the ringing time runs from the first follower's sighting, not the restart
        ringing = next(e for e in _events(db) if e["type"] == "call.ringing" and e["call_id"] == str(callid))
        assert data["started_at"] == ringing["payload"]["data"]["started_at"]

    _run(db, vault, emulator, body)


def test_a_call_that_ends_while_the_socket_is_down_is_ended_by_the_record_sync(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    async def body(f: _Following) -> None:
        await f.start()
        await f.wait_healthy()
        await f.post("settings", {"ws_drop_every": None})
        call = await f.post("calls", {"from": "+442079460779", "to": "101"})
        callid = call["callid"]
        await _until(lambda: _of(db, callid) == ["call.ringing"], "call.ringing")
        await f.halt()  # connect is down while the call is answered and ends
        await f.post(f"calls/{callid}/answer", {"dn": "101"})
        await f.post(f"calls/{callid}/end")
        await asyncio.sleep(0.5)
        await _sync(db, vault, f.pbx)
        kinds = _of(db, callid)
        assert kinds.count("call.ended") == 1, kinds
        ended = next(e for e in _events(db) if e["type"] == "call.ended" and e["call_id"] == str(callid))
        assert ended["payload"]["data"]["source"] == "records"
        assert ended["payload"]["data"]["status"] == "answered"
        # a live call.ended arriving after the log's (two processes racing) is dropped by the database
        row = {**ended["payload"]["data"], "call_id": str(callid), "start_time": datetime.now(timezone.utc)}
        with db.engine.begin() as conn:
            assert live_call_ended(conn, f.pbx.id, f.pbx.name, row, datetime.now(timezone.utc)) == 0
        # the follower, back, knows nothing of the call (it ended): it adds nothing
        await f.start()
        await f.wait_healthy()
        await asyncio.sleep(1.0)
        assert _of(db, callid) == kinds

    _run(db, vault, emulator, body)


def test_a_refused_stream_is_recorded_and_tried_again(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    pbx = _add(db, vault, emulator, secret="not-the-route-point-secret")

    async def go() -> None:
        following = _Following(db, vault, pbx, emulator)
        await following.start(retry_after=0.2)

        def errors() -> int:
            with db.engine.connect() as conn:
                found = conn.execute(
                    sa.select(schema.sync_state.c.errors).where(
                        (schema.sync_state.c.pbx_id == pbx.id) & (schema.sync_state.c.stream == "callcontrol")
                    )
                ).scalar()
            return int(found or 0)

        try:
            await _until(lambda: errors() >= 2, "two refused attempts")
            assert not following.healthy.is_set()
        finally:
            await following.halt()
            await following.http.aclose()

    asyncio.run(go())
