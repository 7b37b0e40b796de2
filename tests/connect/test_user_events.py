"""user.created / user.updated / user.deleted from directory passes against the emulator, on SQLite
and PostgreSQL: the first pass (the initial load) and an identical pass make none, a user created,
changed and deleted on the PBX (XAPI) makes one event each, written with its deliveries, signed to a
real receiver on loopback, fitting its JSON Schema, in order per user, filtered by event type."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import sqlalchemy as sa
import standardwebhooks

from clirun import run_3cx
from py3cx import Client
from py3cx._exceptions import Py3cxError
from py3cx.connect import schema, sync
from py3cx.connect.db import Database
from py3cx.connect.outbox import DeliveryPolicy, add_endpoint
from py3cx.connect.registry import Pbx, PbxSettings, add_pbx
from py3cx.connect.sync import PbxSession, sync_directory
from py3cx.connect.vault import Vault
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

from .receiver import Receiver, running_receiver
from .test_webhooks import _drain as drain

OWNER = ApiClient("dir-owner", "dir-owner-s3cret", "SystemOwner")
FAST = DeliveryPolicy(schedule=(0, 0.05, 0.05, 0.05, 0.05), jitter=0.2, timeout=5.0)
USER_TYPES = ["user.created", "user.updated", "user.deleted"]


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    # one per test: the tests change the PBX's users
    with running_emulator(EmulatorConfig(seed=31, calls=0, clients=[OWNER])) as emu:
        yield emu


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


def _add_pbx(db: Database, vault: Vault, emu: RunningEmulator) -> Pbx:
    settings = PbxSettings(
        name="office", url=emu.url, client_id=OWNER.client_id, country="GB", rate_limit=1000.0
    )
    return add_pbx(db, vault, settings, OWNER.secret)


def _pass(db: Database, vault: Vault, pbx: Pbx, *, ok: bool = True) -> None:
    async def go() -> None:
        session = PbxSession(db, vault, pbx)
        try:
            result = await sync_directory(session)
            assert result.ok is ok, result.error
        finally:
            await session.aclose()

    asyncio.run(go())


def _api(emu: RunningEmulator) -> Client:
    return Client(emu.url, OWNER.client_id, OWNER.secret)


def _user_events(db: Database) -> list[dict[str, Any]]:
    e = schema.events
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(e.c.type, e.c.call_id, e.c.subject, e.c.payload)
            .where(e.c.type.in_(USER_TYPES))
            .order_by(e.c.seq)
        ).mappings()
        return [dict(r) for r in rows]


def _deliveries(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(schema.deliveries)).scalar_one())


def _drain(db: Database, vault: Vault) -> None:
    drain(db, vault, policy=FAST)


def _validator() -> Any:
    shipped = json.loads((resources.files("py3cx.connect") / "schemas" / "user.v1.json").read_text())
    return jsonschema_rs.Draft202012Validator(shipped)


def test_user_changes_on_the_pbx_become_one_event_each_after_the_initial_load(
    db: Database, vault: Vault, emulator: RunningEmulator, receiver: Receiver
) -> None:
    _, secret = add_endpoint(db, vault, receiver.url, event_types=USER_TYPES)
    pbx = _add_pbx(db, vault, emulator)
    _pass(db, vault, pbx)
    assert _user_events(db) == []  # the initial load is no news
    _pass(db, vault, pbx)
    assert _user_events(db) == []  # nothing changed, nothing said
    with _api(emulator) as api:
        listed = api.get("Users", orderby="Id", expand="Groups")["value"]
        changed, removed = listed[0], listed[1]
        api.patch(
            f"Users({changed['Id']})", json={"FirstName": "Renamed", "EmailAddress": "renamed@example.com"}
        )
        api.delete(f"Users({removed['Id']})")
        made = api.post(
            "Users",
            json={"Number": "199", "FirstName": "Zed", "LastName": "New", "EmailAddress": "zed@example.com"},
        )
        group = api.get(f"Users({made['Id']})", expand="Groups")["Groups"][0]["Name"]  # the PBX's default
    _pass(db, vault, pbx)
    events = _user_events(db)
    assert sorted((e["type"], e["subject"]) for e in events) == sorted(
        [
            ("user.created", str(made["Id"])),
            ("user.updated", str(changed["Id"])),
            ("user.deleted", str(removed["Id"])),
        ]
    )
    assert all(e["call_id"] is None for e in events)
    data = {e["type"]: e["payload"]["data"] for e in events}
    assert data["user.updated"]["changes"] == {
        "first_name": {"old": changed["FirstName"], "new": "Renamed"},
        "email": {"old": changed["EmailAddress"], "new": "renamed@example.com"},
    }
    assert data["user.updated"]["user"]["department"] == changed["Groups"][0]["Name"]
    assert data["user.created"]["user"] == {
        "id": made["Id"],
        "number": "199",
        "first_name": "Zed",
        "last_name": "New",
        "email": "zed@example.com",
        "mobile": None,
        "department": group,
    }
    gone = data["user.deleted"]["user"]
    assert (gone["id"], gone["number"], gone["first_name"]) == (
        removed["Id"],
        removed["Number"],
        removed["FirstName"],
    )
    assert "changes" not in data["user.created"] and "changes" not in data["user.deleted"]
    # the deliveries were written with the events, one each
    assert _deliveries(db) == 3
    _pass(db, vault, pbx)
    assert len(_user_events(db)) == 3  # a re-run says nothing twice
    _drain(db, vault)
    hook = standardwebhooks.Webhook(secret)
    bodies = [hook.verify(body, headers) for headers, body in receiver.accepted()]
    assert sorted(b["type"] for b in bodies) == sorted(USER_TYPES)
    validator = _validator()
    for body in bodies:
        assert body["data"]["pbx"] == "office"
        validator.validate(body)


def test_a_user_back_after_a_deletion_is_created_again(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    pbx = _add_pbx(db, vault, emulator)
    _pass(db, vault, pbx)
    # a pass that saw the user gone (the emulator never gives a deleted user's Id back)
    users = schema.users
    with db.engine.begin() as conn:
        user_id = conn.execute(sa.select(sa.func.min(users.c.user_id))).scalar_one()
        conn.execute(
            sa.update(users).where(users.c.user_id == user_id).values(deleted_at=datetime.now(timezone.utc))
        )
    _pass(db, vault, pbx)
    events = _user_events(db)
    assert [(e["type"], e["subject"]) for e in events] == [("user.created", str(user_id))]
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(users.c.deleted_at).where(users.c.user_id == user_id)).scalar() is None


def test_a_user_s_events_reach_an_endpoint_in_order_even_when_the_first_fails(
    db: Database, vault: Vault, emulator: RunningEmulator, receiver: Receiver
) -> None:
    _, secret = add_endpoint(db, vault, receiver.url, max_in_flight=8)
    pbx = _add_pbx(db, vault, emulator)
    _pass(db, vault, pbx)
    with _api(emulator) as api:
        made = api.post("Users", json={"Number": "198", "FirstName": "Ann", "LastName": "Order"})
    _pass(db, vault, pbx)
    with _api(emulator) as api:
        api.patch(f"Users({made['Id']})", json={"LastName": "Ordered"})
    _pass(db, vault, pbx)
    first = _user_events(db)[0]
    assert first["type"] == "user.created"
    first_id = None

    def answer(_path: str, event_id: str, attempt: int) -> int:
        nonlocal first_id
        first_id = first_id or event_id
        return 500 if event_id == first_id and attempt < 2 else 200

    receiver.answer = answer
    _drain(db, vault)
    hook = standardwebhooks.Webhook(secret)
    kinds = [hook.verify(body, headers)["type"] for headers, body in receiver.received]
    # the user.updated waited for its user.created, which failed twice
    assert kinds == ["user.created", "user.created", "user.created", "user.updated"]


def test_an_endpoint_added_for_user_updated_gets_only_those(
    db_url: str, db: Database, vault: Vault, emulator: RunningEmulator, receiver: Receiver, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(PY3CX_DB=db_url, PY3CX_CONNECT_KEY_FILE=os.environ["PY3CX_CONNECT_KEY_FILE"])
    done = run_3cx(["connect", "endpoint", "add", receiver.url, "--events", "user.updated", "--json"], env)
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    pbx = _add_pbx(db, vault, emulator)
    _pass(db, vault, pbx)
    with _api(emulator) as api:
        listed = api.get("Users", orderby="Id")["value"]
        api.patch(f"Users({listed[0]['Id']})", json={"Mobile": "+447700900150"})
        api.delete(f"Users({listed[1]['Id']})")
    _pass(db, vault, pbx)
    _drain(db, vault)
    hook = standardwebhooks.Webhook(secret)
    bodies = [hook.verify(body, headers) for headers, body in receiver.accepted()]
    assert [b["type"] for b in bodies] == ["user.updated"]
    assert bodies[0]["data"]["changes"] == {
        "mobile": {"old": listed[0].get("Mobile"), "new": "+447700900150"}
    }


def test_a_pass_that_dies_after_writing_its_events_leaves_none_and_the_next_writes_them_once(
    db: Database, vault: Vault, emulator: RunningEmulator, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_endpoint(db, vault, receiver.url)
    pbx = _add_pbx(db, vault, emulator)
    _pass(db, vault, pbx)
    with _api(emulator) as api:
        user = api.get("Users", orderby="Id")["value"][0]
        api.patch(f"Users({user['Id']})", json={"LastName": "Changed"})

    def dies(*_args: Any) -> int:
        # after the snapshot and the user events were written, before the transaction commits
        raise Py3cxError("the pass died here")

    monkeypatch.setattr(sync, "store_phonebook", dies)
    _pass(db, vault, pbx, ok=False)
    assert _user_events(db) == [] and _deliveries(db) == 0
    with db.engine.connect() as conn:
        last = conn.execute(
            sa.select(schema.users.c.last_name).where(schema.users.c.user_id == user["Id"])
        ).scalar()
    assert last == user["LastName"]  # the snapshot went back with the events
    monkeypatch.undo()
    _pass(db, vault, pbx)
    _pass(db, vault, pbx)
    assert [(e["type"], e["subject"]) for e in _user_events(db)] == [("user.updated", str(user["Id"]))]
    assert _deliveries(db) == 1


def test_a_user_with_a_name_longer_than_the_column_still_syncs(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    """A PBX field longer than connect's column is cut to fit (PostgreSQL would refuse the row and
    every later pass with it), on both databases alike."""
    pbx = _add_pbx(db, vault, emulator)
    _pass(db, vault, pbx)
    with _api(emulator) as api:
        user = api.get("Users", top=1, select="Id")["value"][0]
        api.patch(f"Users({user['Id']})", json={"LastName": "L" * 450})
    _pass(db, vault, pbx)
    with db.engine.connect() as conn:
        stored = conn.execute(
            sa.select(schema.users.c.last_name).where(schema.users.c.user_id == user["Id"])
        ).scalar_one()
    assert stored == "L" * 200
    updated = [e for e in _user_events(db) if e["type"] == "user.updated"]
    assert [e["payload"]["data"]["changes"]["last_name"]["new"] for e in updated] == ["L" * 200]
