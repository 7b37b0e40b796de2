"""Webhooks from the call-record sync to a real receiver on loopback, on SQLite and PostgreSQL: one
`call.ended` per call, signatures verified by the `standardwebhooks` package, the same webhook-id on
every retry, order per call, 410 disables, dead letters, replay, secret rotation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import httpx2
import jsonschema_rs
import pytest
import sqlalchemy as sa
import standardwebhooks

from py3cx import webhooks
from py3cx.connect import schema
from py3cx.connect.db import Database
from py3cx.connect.events import emit_call_events
from py3cx.connect.outbox import (
    DeliveryPolicy,
    add_endpoint,
    deliver_due,
    list_deliveries,
    list_endpoints,
    replay,
    rotate_secret,
)
from py3cx.connect.registry import Pbx, PbxSettings, add_pbx
from py3cx.connect.sync import PbxSession, sync_calls
from py3cx.connect.vault import Vault
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

from .receiver import Receiver, running_receiver

OWNER = ApiClient("hook-owner", "hook-owner-s3cret", "SystemOwner")
SINCE = datetime.now(timezone.utc) - timedelta(days=100)
SCHEMA = resources.files("py3cx.connect") / "schemas" / "call.v1.json"  # shipped in the package
FAST = DeliveryPolicy(schedule=(0, 0.05, 0.05, 0.05, 0.05), jitter=0.2, timeout=2.0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=41, calls=80, clients=[OWNER])) as emu:
        yield emu


def _add_pbx(db: Database, vault: Vault, emu: RunningEmulator, name: str = "office") -> Pbx:
    settings = PbxSettings(name=name, url=emu.url, client_id=OWNER.client_id, country="GB", rate_limit=1000.0)
    return add_pbx(db, vault, settings, OWNER.secret)


def _sync(db: Database, vault: Vault, pbx: Pbx) -> None:
    async def go() -> None:
        session = PbxSession(db, vault, pbx)
        try:
            result = await sync_calls(session, since=SINCE)
            assert result.ok, result.error
        finally:
            await session.aclose()

    asyncio.run(go())


def _drain(db: Database, vault: Vault, policy: DeliveryPolicy = FAST, rounds: int = 400) -> None:
    """Deliver until nothing is pending (or only dead letters remain)."""

    async def go() -> None:
        async with httpx2.AsyncClient() as http:
            for _ in range(rounds):
                await deliver_due(db, vault, http, policy=policy)
                with db.engine.connect() as conn:
                    pending = conn.execute(
                        sa.select(sa.func.count()).where(schema.deliveries.c.status == "pending")
                    ).scalar_one()
                if not pending:
                    return
                await asyncio.sleep(0.02)
            raise AssertionError(f"{pending} deliveries still pending")

    asyncio.run(go())


def _statuses(db: Database) -> dict[str, str]:
    with db.engine.connect() as conn:
        return {
            str(c): str(s) for c, s in conn.execute(sa.select(schema.calls.c.call_id, schema.calls.c.status))
        }


def _rang_out(db: Database, statuses: dict[str, str]) -> list[tuple[str, str | None]]:
    """From the stored records: (call, DN) for each extension record nobody answered, and each queue
    record of a call nobody answered; (call, None) for a missed call without either."""
    r = schema.call_records
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(r.c.call_id, r.c.dst_type, r.c.dst_dn, r.c.answered)).all()
    pairs: set[tuple[str, str | None]] = set()
    for call_id, dst_type, dst_dn, answered in rows:
        if answered or not dst_dn:
            continue
        if dst_type == 1 or (dst_type == 2 and statuses[str(call_id)] != "answered"):
            pairs.add((str(call_id), str(dst_dn)))
    for call_id, status in statuses.items():
        if status == "missed" and not any(c == call_id for c, _ in pairs):
            pairs.add((call_id, None))
    return sorted(pairs, key=lambda p: (p[0], p[1] or ""))


def _recordings(db: Database) -> dict[str, str | None]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.calls.c.call_id, schema.calls.c.recording_ids))
        return {str(c): r for c, r in rows}


def _call_ids(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(sa.select(schema.calls.c.call_id)).scalars())


def _verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    hook = standardwebhooks.Webhook(secret)
    return [hook.verify(body, headers) for headers, body in receiver.accepted()]


def test_every_call_reaches_the_endpoint_once_as_call_ended_signed_by_the_standard(
    db: Database, vault: Vault, emulator: RunningEmulator, receiver: Receiver
) -> None:
    endpoint, secret = add_endpoint(db, vault, receiver.url)
    # the endpoint was added before any call was synced but after the calls ended: nothing is due
    pbx = _add_pbx(db, vault, emulator)
    _sync(db, vault, pbx)
    assert list_deliveries(db) == []
    # replay sends the older ones; events of calls that end later come by themselves
    queued = replay(db, since=datetime(2000, 1, 1, tzinfo=timezone.utc))
    calls = _call_ids(db)
    _drain(db, vault)
    events = _verified(receiver, secret)
    assert queued == len(events)
    ended = [e["data"]["call_id"] for e in events if e["type"] == "call.ended"]
    assert sorted(ended) == sorted(calls)
    validator = jsonschema_rs.Draft202012Validator(json.loads(SCHEMA.read_text()))
    for event in events:
        validator.validate(event)
    # the outcome events: once per call that had that outcome, never for another
    by_type: dict[str, list[str]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event["data"]["call_id"])
    statuses = _statuses(db)
    assert set(by_type) <= {"call.ended", "call.missed", "queue.abandoned", "recording.ready"}
    # call.missed: one per extension or queue that let the call ring out (the call itself when none did)
    missed = sorted(
        (e["data"]["call_id"], (e["data"]["missed_by"] or {}).get("number"))
        for e in events
        if e["type"] == "call.missed"
    )
    assert missed == _rang_out(db, statuses)
    kinds = {(e["data"]["missed_by"] or {}).get("type") for e in events if e["type"] == "call.missed"}
    assert {"extension", "queue"} <= kinds
    assert sorted(by_type.get("queue.abandoned", [])) == sorted(
        c for c, s in statuses.items() if s == "abandoned"
    )
    assert by_type.get("call.missed") and by_type.get("queue.abandoned")  # the emulator's data has both
    recorded = sorted(c for c, r in _recordings(db).items() if r)
    assert sorted(by_type.get("recording.ready", [])) == recorded
    sample = events[0]["data"]
    assert sample["pbx"] == "office" and sample["schema_version"] == 1
    assert set(sample) >= {"status", "direction", "started_at", "ended_at", "from", "to", "agent", "queue"}
    # what py3cx's own verify accepts is what the standard signed
    headers, body = receiver.accepted()[0]
    assert webhooks.verify(body, headers, secret)["data"]["call_id"] == events[0]["data"]["call_id"]
    # a second pass with nothing new makes no event
    before = len(receiver.received)
    _sync(db, vault, pbx)
    _drain(db, vault)
    assert len(receiver.received) == before
    assert all(d["status"] == "delivered" for d in list_deliveries(db, endpoint_id=endpoint.id, limit=1000))


def test_calls_that_end_after_the_endpoint_was_added_are_sent_without_replay(
    db: Database, vault: Vault, receiver: Receiver
) -> None:
    _, secret = add_endpoint(db, vault, receiver.url, event_types=["call.ended"])
    now = datetime.now(timezone.utc) + timedelta(minutes=5)  # the events happen after the endpoint was added
    pbx = _add_pbx_row(db, vault)
    with db.engine.begin() as conn:
        emit_call_events(conn, pbx.id, pbx.name, [_call("c1", now), _call("c2", now)], _utcnow())
    _drain(db, vault)
    assert sorted(e["data"]["call_id"] for e in _verified(receiver, secret)) == ["c1", "c2"]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _add_pbx_row(db: Database, vault: Vault, name: str = "lab") -> Pbx:
    settings = PbxSettings(name=name, url="http://127.0.0.1:9", client_id="x", country="GB")
    return add_pbx(db, vault, settings, "secret-value")


def _call(call_id: str, when: datetime, **changes: Any) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "start_time": when - timedelta(minutes=2),
        "end_time": when,
        "direction": "inbound",
        "status": "answered",
        "answered": True,
        "from_number": "+442079460123",
        "from_e164": "+442079460123",
        "from_name": None,
        "to_number": "100",
        "to_e164": None,
        "answered_by_dn": "100",
        "answered_by_name": "Ann Agent",
        "queue": None,
        "ringing_seconds": 5.0,
        "talking_seconds": 100.0,
        "records": 1,
        "recording_ids": None,
        **changes,
    }


def test_retries_keep_the_webhook_id_and_per_call_order_holds(
    db: Database, vault: Vault, receiver: Receiver
) -> None:
    _, secret = add_endpoint(db, vault, receiver.url)
    pbx = _add_pbx_row(db, vault)
    now = datetime.now(timezone.utc) + timedelta(minutes=5)
    with db.engine.begin() as conn:
        emit_call_events(conn, pbx.id, pbx.name, [_call("c1", now)], _utcnow())
        emit_call_events(conn, pbx.id, pbx.name, [_call("c1", now, recording_ids="77")], _utcnow())
    kinds: dict[str, str] = {}

    def answer(_path: str, event_id: str, attempt: int) -> int | str:
        # the first event of the call fails three times (500, reset, 503) before it is taken
        first = min(kinds) if kinds else event_id
        kinds.setdefault(event_id, "")
        if event_id == first and attempt < 3:
            return [500, "drop", 503][attempt]
        return 200

    receiver.answer = answer
    _drain(db, vault)
    events = _verified(receiver, secret)
    # the recording came with the update: recording.ready once, after it
    assert [e["type"] for e in events] == ["call.ended", "call.updated", "recording.ready"]
    assert events[1]["data"]["recording_ids"] == ["77"]
    ids = [h["webhook-id"] for h, _ in receiver.received]
    first_id = ids[0]
    assert ids[:4] == [first_id] * 4  # the same id on every attempt, and nothing of the call before it
    assert receiver.attempts[f"/hooks {first_id}"] == 4


def test_a_410_disables_the_endpoint_and_spent_retries_are_dead_letters(
    db: Database, vault: Vault, receiver: Receiver
) -> None:
    gone, _ = add_endpoint(db, vault, receiver.url + "/gone")
    failing, _ = add_endpoint(db, vault, receiver.url + "/failing")
    pbx = _add_pbx_row(db, vault)
    now = datetime.now(timezone.utc) + timedelta(minutes=5)
    receiver.answer = lambda path, _id, _n: 410 if path.endswith("/gone") else 500
    with db.engine.begin() as conn:
        emit_call_events(conn, pbx.id, pbx.name, [_call("c1", now)], _utcnow())
    _drain(db, vault)
    endpoints = {e.id: e for e in list_endpoints(db)}
    assert not endpoints[gone.id].enabled and "410" in str(endpoints[gone.id].disabled_reason)
    assert endpoints[failing.id].enabled and endpoints[failing.id].failing_since is not None
    dead = list_deliveries(db, failed=True)
    assert {d["endpoint_id"] for d in dead} == {gone.id, failing.id}
    assert all(d["status"] == "dead" for d in dead)
    attempts = {d["endpoint_id"]: d["attempts"] for d in dead}
    assert attempts == {gone.id: 1, failing.id: len(FAST.schedule)}


def test_a_rotated_secret_signs_with_both_during_the_overlap(
    db: Database, vault: Vault, receiver: Receiver
) -> None:
    endpoint, old = add_endpoint(db, vault, receiver.url)
    new = rotate_secret(db, vault, endpoint.id, overlap=timedelta(hours=1))
    pbx = _add_pbx_row(db, vault)
    now = datetime.now(timezone.utc) + timedelta(minutes=5)
    with db.engine.begin() as conn:
        emit_call_events(conn, pbx.id, pbx.name, [_call("c9", now)], _utcnow())
    _drain(db, vault)
    headers, body = receiver.accepted()[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert standardwebhooks.Webhook(secret).verify(body, headers)["data"]["call_id"] == "c9"


def test_verify_refuses_a_tampered_body_a_wrong_secret_and_an_old_message() -> None:
    secret = webhooks.generate_secret()
    hook = standardwebhooks.Webhook(secret)
    body = json.dumps({"type": "call.ended", "data": {"call_id": "1"}}).encode()
    stamp = datetime.now(timezone.utc)
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": hook.sign("evt_1", stamp, body),
    }
    assert webhooks.verify(body, headers, secret)["data"]["call_id"] == "1"
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(body.replace(b"1", b"2"), headers, secret)
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(body, headers, webhooks.generate_secret())
    old = {**headers, "webhook-timestamp": str(int(stamp.timestamp()) - 3600)}
    with pytest.raises(webhooks.WebhookVerificationError) as caught:
        webhooks.verify(body, old, secret)
    assert secret not in str(caught.value)


@pytest.mark.parametrize("name", ["call.v1.json", "call-live.v1.json", "user.v1.json"])
def test_the_event_schemas_in_the_docs_are_the_ones_in_the_package(name: str) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "webhooks" / name
    shipped = resources.files("py3cx.connect") / "schemas" / name
    assert json.loads(docs.read_text()) == json.loads(shipped.read_text())


def test_outcome_events_come_once_per_call_however_often_it_changes(
    db: Database, vault: Vault, receiver: Receiver
) -> None:
    _, secret = add_endpoint(db, vault, receiver.url)
    pbx = _add_pbx_row(db, vault)
    now = datetime.now(timezone.utc) + timedelta(minutes=5)
    abandoned = {"status": "abandoned", "answered": False, "queue": "800", "answered_by_dn": None}
    with db.engine.begin() as conn:
        emit_call_events(conn, pbx.id, pbx.name, [_call("q1", now, **abandoned)], _utcnow())
        emit_call_events(
            conn, pbx.id, pbx.name, [_call("q1", now, **abandoned, recording_ids="5")], _utcnow()
        )
        emit_call_events(
            conn, pbx.id, pbx.name, [_call("q1", now, **abandoned, recording_ids="5 6")], _utcnow()
        )
    _drain(db, vault)
    kinds = [e["type"] for e in _verified(receiver, secret)]
    assert kinds == ["call.ended", "queue.abandoned", "call.updated", "recording.ready", "call.updated"]


def test_after_the_overlap_only_the_new_secret_signs(db: Database, vault: Vault, receiver: Receiver) -> None:
    endpoint, old = add_endpoint(db, vault, receiver.url)
    new = rotate_secret(db, vault, endpoint.id, overlap=timedelta(0))
    pbx = _add_pbx_row(db, vault)
    with db.engine.begin() as conn:
        emit_call_events(
            conn,
            pbx.id,
            pbx.name,
            [_call("c8", datetime.now(timezone.utc) + timedelta(minutes=5))],
            _utcnow(),
        )
    _drain(db, vault)
    headers, body = receiver.accepted()[0]
    assert len(headers["webhook-signature"].split(" ")) == 1
    assert standardwebhooks.Webhook(new).verify(body, headers)["data"]["call_id"] == "c8"
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old).verify(body, headers)


def test_the_delivery_policy_reads_its_schedule_and_timeout_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from py3cx._exceptions import ConfigError
    from py3cx.connect.outbox import DeliveryPolicy, policy_from_env

    monkeypatch.delenv("PY3CX_WEBHOOK_SCHEDULE", raising=False)
    monkeypatch.delenv("PY3CX_WEBHOOK_TIMEOUT", raising=False)
    assert policy_from_env() == DeliveryPolicy()
    monkeypatch.setenv("PY3CX_WEBHOOK_SCHEDULE", "0,1,5")
    monkeypatch.setenv("PY3CX_WEBHOOK_TIMEOUT", "2.5")
    policy = policy_from_env()
    assert policy.schedule == (0.0, 1.0, 5.0) and policy.timeout == 2.5
    for bad in ("0", "-1", "soon"):
        monkeypatch.setenv("PY3CX_WEBHOOK_TIMEOUT", bad)
        with pytest.raises(ConfigError, match="PY3CX_WEBHOOK_TIMEOUT"):
            policy_from_env()
