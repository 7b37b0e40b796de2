"""Live events from polling ActiveCalls (connect without Call Control), on SQLite and PostgreSQL: a
call that appears is `call.ringing`, one seen talking `call.answered`, each once; nothing new, no
event; a PBX whose licence refuses the API fails its poll while the others poll on."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from importlib import resources
from typing import Any

import httpx2
import jsonschema_rs
import pytest
import sqlalchemy as sa

from py3cx.connect import schema
from py3cx.connect.db import Database
from py3cx.connect.live import poll_live
from py3cx.connect.outbox import add_endpoint
from py3cx.connect.registry import Pbx, PbxSettings, add_pbx
from py3cx.connect.sync import PassResult, PbxSession
from py3cx.connect.vault import Vault
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

OWNER = ApiClient("live-owner", "live-owner-s3cret", "SystemOwner")


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=81, calls=20, clients=[OWNER])) as emu:
        yield emu


def _add(db: Database, vault: Vault, emu: RunningEmulator, name: str = "office") -> Pbx:
    settings = PbxSettings(name=name, url=emu.url, client_id=OWNER.client_id, country="GB", rate_limit=1000.0)
    return add_pbx(db, vault, settings, OWNER.secret)


def _poll(db: Database, vault: Vault, pbx: Pbx) -> PassResult:
    async def go() -> PassResult:
        session = PbxSession(db, vault, pbx)
        try:
            return await poll_live(session)
        finally:
            await session.aclose()

    return asyncio.run(go())


def _events(db: Database) -> list[tuple[str, str]]:
    e = schema.events
    with db.engine.connect() as conn:
        return [(r.type, r.call_id) for r in conn.execute(sa.select(e.c.type, e.c.call_id).order_by(e.c.seq))]


def _control(emu: RunningEmulator, path: str, body: dict[str, Any] | None = None) -> Any:
    answer = httpx2.post(f"{emu.url}/_emulator/callcontrol/{path}", json=body or {})
    assert answer.status_code < 300, answer.text
    time.sleep(0.4)  # ActiveCalls is written in batches (0.2 s)
    return answer.json() if answer.content else None


def test_calls_that_appear_ring_and_those_seen_talking_are_answered_once(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    pbx = _add(db, vault, emulator)
    first = _poll(db, vault, pbx)
    assert first.ok, first.error
    seeded = {key for kind, key in _events(db) if kind == "call.ringing"}
    assert len(seeded) == first.records > 0  # the calls in progress when polling began
    call = _control(emulator, "calls", {"from": "+442079460555", "to": "101"})
    assert _poll(db, vault, pbx).ok
    new = [key for kind, key in _events(db) if kind == "call.ringing" and key not in seeded]
    assert new == [str(call["callid"])]
    _control(emulator, f"calls/{call['callid']}/answer", {"dn": "101"})
    _poll(db, vault, pbx)
    _poll(db, vault, pbx)  # nothing new: no event
    answered = [key for kind, key in _events(db) if kind == "call.answered" and key == str(call["callid"])]
    assert answered == [str(call["callid"])]
    _control(emulator, f"calls/{call['callid']}/end")
    _poll(db, vault, pbx)
    with db.engine.connect() as conn:
        live = set(conn.execute(sa.select(schema.live_calls.c.live_id)).scalars())
    assert str(call["callid"]) not in live  # gone from the PBX, gone from live_calls


def test_live_events_reach_a_subscribed_endpoint_through_the_outbox(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    pbx = _add(db, vault, emulator)
    _poll(db, vault, pbx)  # the calls already in progress
    endpoint, _ = add_endpoint(db, vault, "https://crm.example.com/hooks", event_types=["call.ringing"])
    call = _control(emulator, "calls", {"from": "+442079460556", "to": "102"})
    _poll(db, vault, pbx)
    d, e = schema.deliveries, schema.events
    with db.engine.connect() as conn:
        queued = conn.execute(
            sa.select(e.c.type, e.c.call_id, e.c.payload)
            .join(d, d.c.event_seq == e.c.seq)
            .where(d.c.endpoint_id == endpoint.id)
        ).all()
    assert [(t, k) for t, k, _ in queued] == [("call.ringing", str(call["callid"]))]
    payload = queued[0][2]
    schema_text = (resources.files("py3cx.connect") / "schemas" / "call-live.v1.json").read_text()
    jsonschema_rs.Draft202012Validator(json.loads(schema_text)).validate(payload)
    data = payload["data"]
    assert data["live_id"] == str(call["callid"]) and data["source"] == "ActiveCalls"
    assert data["caller"].startswith("+442079460556")


def test_a_pbx_without_api_rights_fails_its_poll_and_the_others_poll_on(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    with running_emulator(EmulatorConfig(seed=82, calls=5, clients=[OWNER], licence="PRO")) as pro:
        good = _add(db, vault, emulator, "hq")
        bad = _add(db, vault, pro, "branch")
        results = [_poll(db, vault, bad), _poll(db, vault, good)]
    assert not results[0].ok and "Professional" in str(results[0].hint)
    assert results[1].ok
    with db.engine.connect() as conn:
        state = {(r.pbx_id, r.stream): r for r in conn.execute(sa.select(schema.sync_state)).all()}
    assert state[(bad.id, "live")].errors == 1 and state[(good.id, "live")].passes == 1
