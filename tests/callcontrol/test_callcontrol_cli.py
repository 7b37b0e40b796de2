"""`3cx call` and `3cx events watch`, run as a user runs them: the console script in a subprocess,
stdout piped, against the emulator over HTTP and WebSocket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from py3cx._durations import parse_datetime
from py3cx.emulator import ApiClient

Emulator = Phones = Any  # the conftest's fixtures


def command() -> list[str]:
    script = Path(sys.executable).parent / "3cx"
    return [str(script)] if script.exists() else [sys.executable, "-m", "py3cx.cli.main"]


@pytest.fixture
def env(pbx: Emulator, route_point: ApiClient, tmp_path: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    values.update(
        PY3CX_URL=pbx.url,
        PY3CX_CLIENT_ID=route_point.client_id,
        PY3CX_CLIENT_SECRET=route_point.secret,
        PY3CX_CACHE_DIR=str(tmp_path / "cache"),
        PY3CX_CONFIG=str(tmp_path / "config.toml"),
    )
    return values


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command(), *args], env=env, capture_output=True, text=True, timeout=60)


def test_call_make_prints_the_result_as_json(env: dict[str, str], phones: Phones) -> None:
    done = run(["call", "make", "114", "115"], env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["finalstatus"] == "Success"
    assert (result["result"]["dn"], result["result"]["status"]) == ("114", "Dialing")
    listed = run(["call", "list", "115"], env)
    assert [p["status"] for p in json.loads(listed.stdout)] == ["Ringing"]


def test_a_refused_action_exits_1_with_the_pbx_reason_and_a_hint(env: dict[str, str], phones: Phones) -> None:
    made = json.loads(run(["call", "make", "116", "117"], env).stdout)
    done = run(["call", "answer", "116", str(made["result"]["id"])], env)
    assert done.returncode == 1
    assert "cannot answer a participant that is Dialing" in done.stderr
    assert "hint:" in done.stderr and "Traceback" not in done.stderr


def test_events_watch_writes_one_json_object_per_event(env: dict[str, str], phones: Phones) -> None:
    call = phones.call("+4930123456", "8000")
    watcher = subprocess.Popen(
        [*command(), "events", "watch", "--dn", "8000", "--limit", "3"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        # the resync starts with the route point's own device (the Call Control application's)
        device = json.loads(watcher.stdout.readline())
        assert (device["kind"], device["dn"], device["resync"]) == ("device.upserted", "8000", True)
        first = json.loads(watcher.stdout.readline())
        assert (first["kind"], first["dn"], first["resync"]) == ("participant.upserted", "8000", True)
        assert first["participant"]["callid"] == call["callid"] and "at" in first
        phones.end(call["callid"])
        second = json.loads(watcher.stdout.readline())
        assert (second["kind"], second["participant_id"]) == (
            "participant.removed",
            first["participant"]["id"],
        )
        assert watcher.wait(timeout=20) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()


def test_the_commands_document_themselves(env: dict[str, str]) -> None:
    started = time.monotonic()
    for group in (["call"], ["events", "watch"], ["wallboard"]):
        done = run([*group, "--help"], env)
        assert done.returncode == 0 and "Usage" in done.stdout
    assert time.monotonic() - started < 30


def test_calls_active_watch_shows_a_call_in_progress_with_its_real_start(
    env: dict[str, str], phones: Phones
) -> None:
    call = phones.call("+4930123456", "118")
    listed = {r["Id"]: r for r in json.loads(run(["calls", "active", "--json"], env).stdout)["value"]}
    watcher = subprocess.Popen(
        [*command(), "calls", "active", "--watch", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        rows = {r["Id"]: r for r in json.loads(watcher.stdout.readline())["value"]}
    finally:
        watcher.kill()
        watcher.wait()
    shown = parse_datetime(rows[call["callid"]]["EstablishedAt"])
    assert abs((shown - parse_datetime(listed[call["callid"]]["EstablishedAt"])).total_seconds()) < 0.001


def test_a_client_that_is_no_route_point_is_told_so(env: dict[str, str], owner_client: ApiClient) -> None:
    as_owner = {**env, "PY3CX_CLIENT_ID": owner_client.client_id, "PY3CX_CLIENT_SECRET": owner_client.secret}
    made = run(["call", "make", "114", "115"], as_owner)
    assert made.returncode == 1 and "route point" in " ".join(made.stderr.split())
    assert "System Owner can do everything" not in made.stderr  # not the role hint: roles are not the cause
    listed = run(["calls", "active", "--source", "callcontrol"], as_owner)
    assert listed.returncode == 2 and "Traceback" not in listed.stderr
    assert f"{owner_client.client_id!r} is not one" in " ".join(listed.stderr.split())
