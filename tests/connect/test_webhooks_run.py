"""`3cx connect run` delivers webhooks unattended, on SQLite and PostgreSQL: the emulator places calls
live (`call_rate`) with XAPI faults (503s, reset connections) and its Call Control WebSockets
dropped every 2 s, the receiver fails a share of first attempts (500, 503, reset connections,
timeouts) and is slow at times, the run process is killed with SIGKILL and started again; every
call that ended after the endpoint was added (the emulator's call log is the truth) reaches it as
`call.ended` exactly once by webhook-id, signed (checked by the `standardwebhooks` package), and
per call in order: call.ringing, call.answered, call.ended, then call.updated."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx2
import pytest
import standardwebhooks

from clirun import command_3cx, run_3cx
from py3cx import Client
from py3cx._durations import parse_datetime
from py3cx.emulator import ApiClient, EmulatorConfig, FaultSpec, RunningEmulator, running_emulator

from .receiver import running_receiver

pytestmark = pytest.mark.slow

OWNER = ApiClient("run-owner", "run-owner-s3cret-value", "SystemOwner")
ROUTE_POINT = ApiClient("8000", "run-route-point-s3cret", "SystemOwner")
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # base64 of 24 bytes, fixed for the test


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    faults = FaultSpec.parse("503=0.03,reset=0.02")
    with running_emulator(
        EmulatorConfig(seed=51, calls=20, clients=[OWNER, ROUTE_POINT], faults=faults)
    ) as emu:
        yield emu


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    values.update(
        PY3CX_DB=db_url,
        PY3CX_CONNECT_KEY_FILE=str(tmp_path / "keys" / "connect.key"),
        PY3CX_CACHE_DIR=str(tmp_path / "cache"),
        PY3CX_CONFIG=str(tmp_path / "config.toml"),
        PY3CX_WEBHOOK_SCHEDULE="0,0.2,0.3,0.5,1,1,1,1",
        PY3CX_WEBHOOK_TIMEOUT="1",
        COLUMNS="200",
    )
    return values


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*command_3cx(), "connect", "run", "--listen", f"127.0.0.1:{_free_port()}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _calls(emu: RunningEmulator, since: datetime) -> tuple[set[str], set[str]]:
    """The emulator's truth from its call log: the calls that started at or after ``since`` (so they
    ended after it: each must be delivered), and every call of the day (what may be delivered)."""
    # the emulator's faults hit this reader too: it rides through them with a larger retry budget
    with Client(emu.url, OWNER.client_id, OWNER.secret, max_retries=12) as pbx:
        rows = list(
            pbx.reports.rows(
                "call-log",
                start=since.replace(hour=0, minute=0, second=0),
                end=datetime.now(timezone.utc),
                tz="UTC",
            )
        )
    starts: dict[str, datetime] = {}
    for row in rows:
        when = parse_datetime(str(row["StartTime"]))
        call = str(row["CallId"])
        starts[call] = min(starts.get(call, when), when)
    return {call for call, start in starts.items() if start >= since}, set(starts)


def _simulate(emu: RunningEmulator, **settings: Any) -> None:
    answer = httpx2.post(f"{emu.url}/_emulator/callcontrol/settings", json=settings)
    assert answer.status_code < 300, answer.text


def test_run_delivers_every_ended_call_once_through_failures_and_a_kill(
    env: dict[str, str], emulator: RunningEmulator
) -> None:
    rng = random.Random(7)
    with running_receiver() as receiver:
        receiver.answer = lambda _path, _id, attempt: _flaky(rng, attempt)
        added = run_3cx(["connect", "endpoint", "add", receiver.url], {**env, "PY3CX_WEBHOOK_SECRET": SECRET})
        assert added.returncode == 0, added.stderr
        assert SECRET not in added.stdout + added.stderr
        since = datetime.now(timezone.utc)
        pbx = run_3cx(
            [
                "connect",
                "pbx",
                "add",
                "office",
                "--url",
                emulator.url,
                "--client-id",
                OWNER.client_id,
                "--route-point",
                ROUTE_POINT.client_id,
                "--country",
                "GB",
                "--calls-every",
                "1",
                "--overlap",
                "120",
                "--backfill-days",
                "1",
            ],
            {**env, "PY3CX_CLIENT_SECRET": OWNER.secret, "PY3CX_ROUTE_POINT_SECRET": ROUTE_POINT.secret},
        )
        assert pbx.returncode == 0, pbx.stderr
        _simulate(
            emulator,
            call_rate=90,
            ring_seconds=[0.1, 0.4],
            talk_seconds=[0.2, 0.8],
            queue_wait_seconds=[0.2, 0.8],
            ws_drop_every=2.0,
        )
        proc = _start(env)
        try:
            _wait(lambda: len(receiver.accepted()) >= 3, 60, "first deliveries")
            proc.kill()  # SIGKILL: no clean-up of claims, of the token, of anything
            assert proc.wait(30) == -signal.SIGKILL
            time.sleep(1.5)  # calls keep ending while nothing runs
            proc = _start(env)
            time.sleep(3)
            _simulate(emulator, call_rate=0)
            time.sleep(2)  # the last calls end
            truth, _ = _calls(emulator, since)
            assert len(truth) >= 5
            hook = standardwebhooks.Webhook(SECRET)

            def delivered() -> dict[str, set[str]]:
                ended: dict[str, set[str]] = {}
                for headers, body in receiver.accepted():
                    event = hook.verify(body, headers)
                    if event["type"] == "call.ended":
                        ended.setdefault(event["data"]["call_id"], set()).add(headers["webhook-id"])
                return ended

            _wait(lambda: truth <= set(delivered()), 90, "every ended call delivered")
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
    ended = delivered()
    assert {call: len(ids) for call, ids in ended.items() if len(ids) != 1} == {}  # once by webhook-id
    assert set(ended) <= _calls(emulator, since)[1]  # nothing that did not happen
    # per call, in order: ringing, answered, ended, then updates (first arrival of each webhook-id)
    rank = {"call.ringing": 0, "call.answered": 1, "call.ended": 2, "call.updated": 3}
    order: dict[str, list[str]] = {}
    first_seen: set[str] = set()
    sources: set[str] = set()
    for headers, body in receiver.accepted():
        if headers["webhook-id"] in first_seen:
            continue
        first_seen.add(headers["webhook-id"])
        event = standardwebhooks.Webhook(SECRET).verify(body, headers)
        if event["type"] in rank:
            order.setdefault(event["data"]["call_id"], []).append(event["type"])
        if event["type"] == "call.ended":
            sources.add(event["data"]["source"])
    disordered = {
        c: kinds for c, kinds in order.items() if [rank[k] for k in kinds] != sorted(rank[k] for k in kinds)
    }
    assert disordered == {}
    # the live source was used (the record sync ends what it missed)
    assert "callcontrol" in sources, sources


def _flaky(rng: random.Random, attempt: int) -> int | str | tuple[str, float]:
    if attempt == 0:
        roll = rng.random()
        if roll < 0.1:
            return 500
        if roll < 0.15:
            return 503
        if roll < 0.2:
            return "drop"
        if roll < 0.25:
            return ("slow", 1.5)  # past the sender's 1 s timeout
        if roll < 0.3:
            time.sleep(0.3)  # slow, but answers in time
    return 200


def _wait(ready: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_endpoint_commands_show_a_made_secret_once_and_never_list_it(env: dict[str, str]) -> None:
    added = run_3cx(
        ["connect", "endpoint", "add", "https://crm.example.com/hooks", "--events", "call.ended"], env
    )
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip().splitlines()[-1]
    assert secret.startswith("whsec_") and "shown once" in added.stderr
    listed = run_3cx(["connect", "endpoint", "list", "--json"], env)
    (row,) = json.loads(listed.stdout)
    assert row["events"] == "call.ended" and row["enabled"] is True
    rotated = run_3cx(["connect", "endpoint", "rotate-secret", str(row["id"])], env)
    new = rotated.stdout.strip().splitlines()[-1]
    assert new.startswith("whsec_") and new != secret
    shown = (
        run_3cx(["connect", "endpoint", "list"], env).stdout + run_3cx(["connect", "deliveries"], env).stdout
    )
    assert secret not in shown and new not in shown
    wrong = run_3cx(["connect", "endpoint", "add", "https://x.example.com", "--events", "call.started"], env)
    assert wrong.returncode == 2 and "unknown event type call.started" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    assert run_3cx(["connect", "endpoint", "remove", str(row["id"]), "--yes"], env).returncode == 0
    assert json.loads(run_3cx(["connect", "endpoint", "list", "--json"], env).stdout) == []
