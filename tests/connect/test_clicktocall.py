"""Click-to-call, on SQLite and PostgreSQL against the emulator: `GET /webapi/{key}/makecall` and a
bearer `POST /api/pbx/{name}/calls` place calls that show in the PBX's ActiveCalls (through XAPI,
or Call Control when the PBX has a route point); unknown, revoked and expired keys get one 401; a
key of one PBX cannot call on another; a rotated key works for the overlap, then not; only the
key's hash is stored; failed attempts from one address are limited; the CLI shows a key once."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from clirun import command_3cx, run_3cx
from py3cx import Client
from py3cx.connect import schema
from py3cx.connect.access import add_key, list_keys, revoke_key, rotate_key
from py3cx.connect.db import Database
from py3cx.connect.registry import Pbx, PbxSettings, add_pbx
from py3cx.connect.sync import PbxSession
from py3cx.connect.vault import Vault
from py3cx.connect.web import FailureLimiter, dialable, web_routes
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

OWNER = ApiClient("c2c-owner", "c2c-owner-s3cret-value", "SystemOwner")
WATCHER = ApiClient("c2c-watcher", "c2c-watcher-s3cret-value", "SystemOwner")  # the tests' own reads
ROUTE_POINT = ApiClient("8000", "c2c-route-point-s3cret", "SystemOwner")  # a number: a route point DN
BASE = "http://connect.test"
NUMBER = "+44 20 7946 0999"


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=31, calls=10, clients=[OWNER, WATCHER, ROUTE_POINT])) as emu:
        yield emu


@pytest.fixture(scope="module")
def extension(emulator: RunningEmulator) -> str:
    with Client(emulator.url, WATCHER.client_id, WATCHER.secret) as pbx:
        return str(next(iter(pbx.paginate("Users", select=["Number"], orderby="Number")))["Number"])


@pytest.fixture(scope="module")
def queue(emulator: RunningEmulator) -> str:
    with Client(emulator.url, WATCHER.client_id, WATCHER.secret) as pbx:
        return str(next(iter(pbx.paginate("Queues", select=["Number"])))["Number"])


def _add(
    db: Database, vault: Vault, emu: RunningEmulator, name: str = "office", *, route_point: bool = False
) -> Pbx:
    settings = PbxSettings(
        name=name,
        url=emu.url,
        client_id=OWNER.client_id,
        route_point_id=ROUTE_POINT.client_id if route_point else None,
        rate_limit=1000.0,
    )
    return add_pbx(db, vault, settings, OWNER.secret, ROUTE_POINT.secret if route_point else None)


def _active(emu: RunningEmulator) -> dict[int, dict[str, Any]]:
    with Client(emu.url, WATCHER.client_id, WATCHER.secret) as pbx:
        return {int(row["Id"]): row for row in pbx.paginate("ActiveCalls")}


def _shows_in_active_calls(emu: RunningEmulator, call_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20  # ActiveCalls is written in batches
    while True:
        found = _active(emu).get(call_id)
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"call {call_id} never showed in ActiveCalls"
        time.sleep(0.2)


Request = tuple[str, str, dict[str, Any]]  # method, URL, httpx2 options


async def _send_all(
    db: Database, vault: Vault, pbxs: list[Pbx], requests: list[Request], limiter: FailureLimiter | None
) -> list[httpx2.Response]:
    sessions = {p.name: PbxSession(db, vault, p) for p in pbxs}
    app = Starlette(routes=web_routes(db, vault, sessions, limiter=limiter))
    try:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as http:
            return [await http.request(method, url, **options) for method, url, options in requests]
    finally:
        for session in sessions.values():
            await session.aclose()


def _send(
    db: Database, vault: Vault, pbxs: list[Pbx], *requests: Request, limiter: FailureLimiter | None = None
) -> list[httpx2.Response]:
    return asyncio.run(_send_all(db, vault, pbxs, list(requests), limiter))


def _webapi(key: str, first: str | None, second: str | None) -> Request:
    params = {k: v for k, v in (("first", first), ("second", second)) if v is not None}
    return "GET", f"/webapi/{key}/makecall", {"params": params}


def _post(name: str, key: str, body: Any) -> Request:
    return "POST", f"/api/pbx/{name}/calls", {"json": body, "headers": {"Authorization": f"Bearer {key}"}}


def test_a_get_makecall_places_a_call_through_xapi_that_shows_in_active_calls(
    db: Database, vault: Vault, emulator: RunningEmulator, extension: str
) -> None:
    pbx = _add(db, vault, emulator)
    _, key = add_key(db, "office", label="CRM")
    (answer,) = _send(db, vault, [pbx], _webapi(key, extension, NUMBER))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ok" and body["via"] == "xapi"
    live = _shows_in_active_calls(emulator, int(body["call"]["CallId"]))
    assert extension in live["Caller"] and "442079460999" in live["Callee"]
    (used,) = list_keys(db, "office")
    assert used.last_used_at is not None


def test_a_bearer_post_goes_through_call_control_when_the_pbx_has_a_route_point(
    db: Database, vault: Vault, emulator: RunningEmulator, extension: str
) -> None:
    pbx = _add(db, vault, emulator, route_point=True)
    _, key = add_key(db, "office")
    (answer,) = _send(db, vault, [pbx], _post("office", key, {"from": extension, "to": NUMBER}))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ok" and body["via"] == "callcontrol"
    assert body["call"]["dn"] == extension
    _shows_in_active_calls(emulator, int(body["call"]["callid"]))


def test_unknown_revoked_and_expired_keys_get_the_same_401_and_place_no_call(
    db: Database, vault: Vault, emulator: RunningEmulator, extension: str
) -> None:
    pbx = _add(db, vault, emulator)
    revoked, revoked_key = add_key(db, "office")
    revoke_key(db, revoked.id)
    expired, expired_key = add_key(db, "office", expires=timedelta(days=1))
    table = schema.pbx_access_keys
    with db.engine.begin() as conn:
        past = datetime.now(timezone.utc) - timedelta(seconds=1)
        conn.execute(sa.update(table).where(table.c.id == expired.id).values(expires_at=past))
    unknown = "pk_" + "x" * 43
    before = set(_active(emulator))
    answers = _send(
        db,
        vault,
        [pbx],
        _webapi(unknown, extension, NUMBER),
        _webapi(revoked_key, extension, NUMBER),
        _webapi(expired_key, extension, NUMBER),
        _post("office", revoked_key, {"from": extension, "to": NUMBER}),
        _post("office", expired_key, {"from": extension, "to": NUMBER}),
        ("POST", "/api/pbx/office/calls", {"json": {"from": extension, "to": NUMBER}}),
    )
    assert [a.status_code for a in answers] == [401] * 6
    assert len({a.text for a in answers}) == 1  # one answer: nothing tells the three apart
    time.sleep(0.5)  # a call placed by mistake would show by now
    assert set(_active(emulator)) <= before


def test_a_key_of_one_pbx_cannot_call_on_another(
    db: Database, vault: Vault, emulator: RunningEmulator, extension: str
) -> None:
    office, branch = _add(db, vault, emulator, "office"), _add(db, vault, emulator, "branch")
    _, office_key = add_key(db, "office")
    on_branch, on_office = _send(
        db,
        vault,
        [office, branch],
        _post("branch", office_key, {"from": extension, "to": NUMBER}),
        _post("office", office_key, {"from": extension, "to": NUMBER}),
    )
    assert on_branch.status_code == 401
    assert on_office.status_code == 200, on_office.text


def test_a_rotated_key_works_during_the_overlap_then_not(
    db: Database, vault: Vault, emulator: RunningEmulator, extension: str
) -> None:
    pbx = _add(db, vault, emulator)
    old, old_key = add_key(db, "office", label="CRM", expires=timedelta(days=30))
    new, new_key = rotate_key(db, old.id, overlap=timedelta(hours=1))
    assert new.label == "CRM" and new.expires_at is not None
    assert timedelta(days=29) < new.expires_at - datetime.now(timezone.utc) <= timedelta(days=30)
    states = {k.id: k.state() for k in list_keys(db, "office")}
    assert states == {old.id: "rotating", new.id: "active"}
    during = _send(db, vault, [pbx], _webapi(old_key, extension, NUMBER), _webapi(new_key, extension, NUMBER))
    assert [a.status_code for a in during] == [200, 200], [a.text for a in during]
    table = schema.pbx_access_keys
    with db.engine.begin() as conn:  # the overlap is over
        past = datetime.now(timezone.utc) - timedelta(seconds=1)
        conn.execute(sa.update(table).where(table.c.id == old.id).values(revoked_at=past))
    after = _send(db, vault, [pbx], _webapi(old_key, extension, NUMBER), _webapi(new_key, extension, NUMBER))
    assert [a.status_code for a in after] == [401, 200]
    _, newest_key = rotate_key(db, new.id, overlap=timedelta(0))  # no overlap: at once
    now_refused, now_admitted = _send(
        db, vault, [pbx], _webapi(new_key, extension, NUMBER), _webapi(newest_key, extension, NUMBER)
    )
    assert (now_refused.status_code, now_admitted.status_code) == (401, 200)


def test_only_the_keys_hash_is_stored(db: Database, vault: Vault, emulator: RunningEmulator) -> None:
    _add(db, vault, emulator)
    row, key = add_key(db, "office", label="CRM")
    assert key.startswith("pk_") and len(key) >= 40
    with db.engine.connect() as conn:
        stored = conn.execute(sa.select(schema.pbx_access_keys)).mappings().one()
    assert stored["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert stored["prefix"] == key[:10] == row.prefix
    assert not any(key in str(value) for value in stored.values())
    assert key not in repr(row) and key not in json.dumps(row.as_row())


def test_bad_numbers_are_400_an_unknown_extension_404_and_a_refusal_502(
    db: Database, vault: Vault, emulator: RunningEmulator, extension: str, queue: str
) -> None:
    xapi = _add(db, vault, emulator, "office")
    control = _add(db, vault, emulator, "cc", route_point=True)
    _, key = add_key(db, "office")
    _, cc_key = add_key(db, "cc")
    answers = _send(
        db,
        vault,
        [xapi, control],
        _webapi(key, "abc", NUMBER),
        _webapi(key, extension, "call me"),
        _webapi(key, extension, None),
        _webapi(key, None, NUMBER),
        (
            "POST",
            "/api/pbx/office/calls",
            {"content": b"{not json", "headers": {"Authorization": f"Bearer {key}"}},
        ),
        _post("office", key, ["101", NUMBER]),
        _webapi(key, "9999", NUMBER),
        _post("cc", cc_key, {"from": "9999", "to": NUMBER}),
        _post("cc", cc_key, {"from": queue, "to": NUMBER}),  # a queue: Call Control refuses it
        ("HEAD", f"/webapi/{key}/makecall", {"params": {"first": extension, "second": NUMBER}}),
    )
    assert [a.status_code for a in answers] == [400, 400, 400, 400, 400, 400, 404, 404, 502, 405]
    for answer in answers[:-1]:  # (a HEAD answer has no body)
        assert answer.json()["status"] == "error" and answer.json()["reason"]
    assert "9999" in answers[6].json()["reason"]
    assert "Wqueue" in answers[8].json()["reason"]  # the PBX's own reason


def test_dialable_numbers_are_stripped_of_formatting() -> None:
    assert dialable(NUMBER) == "+442079460999"
    assert dialable("tel:+44-20-7946-0999") == "+442079460999"
    assert dialable("(020) 7946.0999") == "02079460999"
    assert dialable("*72#") == "*72#"
    for bad in ("", "call me", "+", "44+20", "1" * 33, "101; DROP"):
        assert dialable(bad) is None, bad


def test_failed_attempts_from_one_address_are_limited_then_let_go(
    db: Database, vault: Vault, emulator: RunningEmulator, extension: str
) -> None:
    pbx = _add(db, vault, emulator)
    _, key = add_key(db, "office")
    now = [0.0]
    limiter = FailureLimiter(limit=3, window=60.0, clock=lambda: now[0])
    guesses = [_webapi(f"pk_guess{i}", extension, NUMBER) for i in range(3)]
    answers = _send(db, vault, [pbx], *guesses, _webapi(key, extension, NUMBER), limiter=limiter)
    assert [a.status_code for a in answers] == [401, 401, 401, 429]  # even the good key now waits
    assert int(answers[-1].headers["retry-after"]) > 0
    now[0] = 61.0  # the window has passed
    (answer,) = _send(db, vault, [pbx], _webapi(key, extension, NUMBER), limiter=limiter)
    assert answer.status_code == 200, answer.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path, db_url: str) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    values.update(
        PY3CX_DB=db_url,
        PY3CX_CONNECT_KEY_FILE=str(tmp_path / "keys" / "connect.key"),
        PY3CX_CACHE_DIR=str(tmp_path / "cache"),
        PY3CX_CONFIG=str(tmp_path / "config.toml"),
        PY3CX_CLIENT_SECRET=OWNER.secret,
        COLUMNS="200",
    )
    return values


def test_the_key_commands_show_a_key_once_and_act_on_ids(
    db_url: str, tmp_path: Path, emulator: RunningEmulator
) -> None:
    env = _env(tmp_path, db_url)
    added = run_3cx(
        ["connect", "pbx", "add", "office", "--url", emulator.url, "--client-id", OWNER.client_id], env
    )
    assert added.returncode == 0, added.stderr
    made = run_3cx(["connect", "key", "add", "office", "--label", "CRM", "--expires", "30", "--json"], env)
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)[0]["key"]  # with --json the key is in the object, once
    assert key.startswith("pk_") and made.stdout.count(key) == 1
    listed = run_3cx(["connect", "key", "list", "office", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["prefix"] == key[:10] and row["label"] == "CRM" and row["state"] == "active"
    assert key not in listed.stdout + listed.stderr
    rotated = run_3cx(["connect", "key", "rotate", str(row["id"]), "--overlap", "2", "--json"], env)
    assert rotated.returncode == 0, rotated.stderr
    (new,) = json.loads(rotated.stdout)
    assert new["key"].startswith("pk_") and new["key"] != key
    revoked = run_3cx(["connect", "key", "revoke", str(new["id"])], env)
    assert revoked.returncode == 0, revoked.stderr
    states = {
        r["id"]: r["state"] for r in json.loads(run_3cx(["connect", "key", "list", "--json"], env).stdout)
    }
    assert states == {row["id"]: "rotating", new["id"]: "revoked"}
    for args, words in (
        (["connect", "key", "add", "nowhere"], "no PBX named 'nowhere'"),
        (["connect", "key", "revoke", "999"], "no access key 999"),
        (["connect", "key", "rotate", str(new["id"])], "is revoked"),
    ):
        failed = run_3cx(args, env)
        assert failed.returncode != 0 and words in failed.stderr and "Traceback" not in failed.stderr


@pytest.mark.slow
def test_run_places_a_call_for_a_webapi_url_and_never_logs_the_key(
    db_url: str, tmp_path: Path, emulator: RunningEmulator, extension: str
) -> None:
    env = _env(tmp_path, db_url)
    added = run_3cx(
        ["connect", "pbx", "add", "office", "--url", emulator.url, "--client-id", OWNER.client_id], env
    )
    assert added.returncode == 0, added.stderr
    key = json.loads(run_3cx(["connect", "key", "add", "office", "--json"], env).stdout)[0]["key"]
    port = _free_port()
    run = subprocess.Popen(
        [*command_3cx(), "connect", "run", "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/webapi/{key}/makecall"
        deadline = time.monotonic() + 60
        while True:  # until run serves, and has loaded the PBX (its first reload)
            assert run.poll() is None, run.communicate()[1]
            assert time.monotonic() < deadline, "run never placed the call"
            try:
                answer = httpx2.get(url, params={"first": extension, "second": NUMBER}, timeout=30)
            except httpx2.TransportError:
                answer = None
            if answer is not None and answer.status_code != 503:
                break
            time.sleep(0.3)
        assert answer.status_code == 200, answer.text
        _shows_in_active_calls(emulator, int(answer.json()["call"]["CallId"]))
        wrong = httpx2.get(url.replace(key, key[:-4] + "AAAA"), params={"first": extension, "second": NUMBER})
        assert wrong.status_code == 401
    finally:
        run.terminate()
        stdout, stderr = run.communicate(timeout=60)
    assert key[3:-4] not in stdout + stderr  # neither the key nor the wrong one, whole or in part
    assert "Traceback" not in stderr
