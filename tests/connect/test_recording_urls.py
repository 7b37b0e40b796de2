"""Signed recording URLs, on SQLite and PostgreSQL against the emulator: a call event's recording
URL streams the bytes the PBX serves, to a caller with no PBX credentials; a changed, foreign or
incomplete link is refused (403) and an expired one is gone (410) before the PBX is asked; a
`sync` from cron (PY3CX_CONNECT_PUBLIC_URL and this machine's key) makes links `run` accepts."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import jsonschema_rs
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from starlette.applications import Starlette

from clirun import command_3cx, run_3cx
from py3cx import Client
from py3cx.connect import schema
from py3cx.connect.db import Database
from py3cx.connect.outbox import add_endpoint
from py3cx.connect.recordings import PURPOSE, RecordingLinks, recording_links, use_links
from py3cx.connect.registry import Pbx, PbxSettings, add_pbx
from py3cx.connect.service import sync_once
from py3cx.connect.sync import PbxSession
from py3cx.connect.vault import Vault
from py3cx.connect.web import web_routes
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

OWNER = ApiClient("rec-owner", "rec-owner-s3cret-value", "SystemOwner")
WATCHER = ApiClient("rec-watcher", "rec-watcher-s3cret-value", "SystemOwner")  # the tests' own reads
BASE = "http://connect.test"


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=23, calls=30, clients=[OWNER, WATCHER])) as emu:
        yield emu


def _add(db: Database, vault: Vault, emu: RunningEmulator, name: str = "office") -> Pbx:
    settings = PbxSettings(name=name, url=emu.url, client_id=OWNER.client_id, country="GB", rate_limit=1000.0)
    return add_pbx(db, vault, settings, OWNER.secret)


def _payloads(db: Database) -> list[dict[str, Any]]:
    e = schema.events
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(e.c.payload).where(e.c.type == "call.ended").order_by(e.c.seq))
        return [r if isinstance(r, dict) else json.loads(r) for (r,) in rows]


def _recorded(db: Database) -> list[dict[str, Any]]:
    """The ``recordings`` entries of every call.ended that has one."""
    return [r for p in _payloads(db) for r in p["data"].get("recordings", [])]


def _pbx_bytes(emu: RunningEmulator, recording_id: str) -> bytes:
    buffer = io.BytesIO()
    with Client(emu.url, WATCHER.client_id, WATCHER.secret) as pbx:
        pbx.xapi.recordings.download_recording(rec_id=int(recording_id), file=buffer)
    return buffer.getvalue()


def _xapi_requests(emu: RunningEmulator) -> int:
    return int(httpx2.get(f"{emu.url}/_emulator/stats").json()["xapi_requests"])


async def _get_all(db: Database, vault: Vault, pbx: Pbx, urls: list[str]) -> list[httpx2.Response]:
    """GET each URL from connect's web routes (ASGI, in process), with no credentials at all."""
    session = PbxSession(db, vault, pbx)
    app = Starlette(routes=web_routes(db, vault, {pbx.name: session}))
    try:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as http:
            return [await http.get(url) for url in urls]
    finally:
        await session.aclose()


def _get(db: Database, vault: Vault, pbx: Pbx, *urls: str) -> list[httpx2.Response]:
    return asyncio.run(_get_all(db, vault, pbx, list(urls)))


def _sync(db: Database, vault: Vault, pbx: Pbx) -> None:
    since = datetime.now(timezone.utc) - timedelta(days=400)  # every seeded call
    results = asyncio.run(sync_once(db, vault, [pbx], since=since, directory=False))
    assert all(r.ok for r in results), results


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


def test_a_call_events_recording_url_streams_the_recording_the_pbx_serves(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    pbx = _add(db, vault, emulator)
    add_endpoint(db, vault, "https://crm.example.com/hooks")
    with use_links(RecordingLinks.for_vault(vault, BASE)):
        _sync(db, vault, pbx)
    payloads = _payloads(db)
    validator = jsonschema_rs.validator_for(
        json.loads(resources.files("py3cx.connect").joinpath("schemas/call.v1.json").read_text())
    )
    for payload in payloads:
        validator.validate(payload)
        data = payload["data"]
        assert [r["id"] for r in data["recordings"]] == data["recording_ids"]
    links = _recorded(db)
    assert len(links) >= 2, "the seeded calls should have recordings"
    first, second = links[0], links[1]
    expires = datetime.fromisoformat(first["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=6, hours=23) < expires - datetime.now(timezone.utc) <= timedelta(days=7)
    got = _get(db, vault, pbx, first["url"], second["url"])
    for answer, link in zip(got, (first, second), strict=True):
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "audio/wav"
        expected = _pbx_bytes(emulator, link["id"])
        assert answer.content == expected
        assert int(answer.headers["content-length"]) == len(expected)
    assert got[0].content != got[1].content  # each link brings its own recording


def test_a_changed_foreign_incomplete_or_expired_link_is_refused_before_the_pbx_is_asked(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    pbx = _add(db, vault, emulator)
    key = vault.derived_keys(PURPOSE)[0]
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    (good,) = recording_links("office", ["3"], base_url=BASE, key=key, expires=future)
    (past,) = recording_links(
        "office", ["3"], base_url=BASE, key=key, expires=datetime.now(timezone.utc) - timedelta(seconds=1)
    )
    other = Vault([Fernet.generate_key()], "another machine").derived_keys(PURPOSE)[0]
    (foreign,) = recording_links("office", ["3"], base_url=BASE, key=other, expires=future)
    sig = parse_qs(urlsplit(good["url"]).query)["sig"][0]
    tampered = _with(good["url"], sig=("A" if sig[0] != "A" else "B") + sig[1:])
    later = _with(good["url"], expires=str(int(future.timestamp()) + 3600))
    other_recording = good["url"].replace("/office/3?", "/office/4?")
    unsigned = good["url"].split("?")[0]
    before = _xapi_requests(emulator)
    answers = _get(db, vault, pbx, tampered, later, other_recording, foreign["url"], unsigned, past["url"])
    assert _xapi_requests(emulator) == before  # none of them reached the PBX
    assert [a.status_code for a in answers] == [403, 403, 403, 403, 403, 410]
    for answer in answers:
        body = answer.json()
        assert body["status"] == "error" and body["reason"]
    assert "expired" in answers[-1].json()["reason"]


def test_a_link_to_a_recording_the_pbx_does_not_have_is_404_and_an_unknown_pbx_too(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    pbx = _add(db, vault, emulator)
    key = vault.derived_keys(PURPOSE)[0]
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    (missing,) = recording_links("office", ["999999"], base_url=BASE, key=key, expires=future)
    (elsewhere,) = recording_links("branch", ["3"], base_url=BASE, key=key, expires=future)
    answers = _get(db, vault, pbx, missing["url"], elsewhere["url"])
    assert [a.status_code for a in answers] == [404, 404]
    assert "999999" in answers[0].json()["reason"]
    assert "branch" in answers[1].json()["reason"]


def test_sync_from_cron_makes_the_links_run_accepts_and_none_without_a_public_url(
    db: Database, vault: Vault, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    pbx = _add(db, vault, emulator)
    _sync(db, vault, pbx)  # no public URL anywhere: the ids, url null
    unlinked = _recorded(db)
    assert unlinked and all(r["url"] is None and r["expires_at"] is None for r in unlinked)
    with db.engine.begin() as conn:  # start again: the calls are new to connect
        for table in (schema.events, schema.calls, schema.call_records, schema.sync_state):
            conn.execute(sa.delete(table))
    monkeypatch.setenv("PY3CX_CONNECT_PUBLIC_URL", BASE + "/")
    monkeypatch.setenv("PY3CX_CONNECT_RECORDING_DAYS", "0.5")
    _sync(db, vault, pbx)  # what `3cx connect sync` does: the URL from the environment, the key file's key
    link = _recorded(db)[0]
    assert link["url"].startswith(BASE + "/recordings/office/")
    expires = datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
    assert expires - datetime.now(timezone.utc) <= timedelta(hours=12)
    (answer,) = _get(db, vault, pbx, link["url"])  # `run`'s routes with its own vault
    assert answer.status_code == 200, answer.text
    assert answer.content == _pbx_bytes(emulator, link["id"])


@pytest.mark.slow
def test_run_serves_the_recording_of_a_delivered_event_to_a_plain_http_client(
    db_url: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    import os
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(
        PY3CX_DB=db_url,
        PY3CX_CONNECT_KEY_FILE=str(tmp_path / "keys" / "connect.key"),
        PY3CX_CACHE_DIR=str(tmp_path / "cache"),
        PY3CX_CONFIG=str(tmp_path / "config.toml"),
        PY3CX_CLIENT_SECRET=OWNER.secret,
    )
    added = run_3cx(
        ["connect", "pbx", "add", "office", "--url", emulator.url, "--client-id", OWNER.client_id], env
    )
    assert added.returncode == 0, added.stderr
    public = f"http://127.0.0.1:{port}/"
    run = subprocess.Popen(
        [*command_3cx(), "connect", "run", "--listen", f"127.0.0.1:{port}", "--public-url", public],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        from py3cx.connect.db import open_database

        database = open_database(db_url)
        deadline = time.monotonic() + 120
        links: list[dict[str, Any]] = []
        while not links:
            assert run.poll() is None, run.communicate()[1]
            assert time.monotonic() < deadline, "no call.ended with a recording came"
            time.sleep(0.5)
            links = _recorded(database)
        database.dispose()
        answer = httpx2.get(links[0]["url"], timeout=30)  # a CRM: the URL and nothing else
        assert answer.status_code == 200, answer.text
        assert answer.content == _pbx_bytes(emulator, links[0]["id"])
        gone = httpx2.get(_with(links[0]["url"], expires="1000000000"), timeout=30)
        assert gone.status_code == 403 and gone.json()["status"] == "error"
    finally:
        run.terminate()
        _, stderr = run.communicate(timeout=60)
    assert "Traceback" not in stderr
