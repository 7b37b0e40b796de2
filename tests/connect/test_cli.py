"""`3cx connect` as a user runs it (subprocesses) against emulators on loopback, on SQLite and
PostgreSQL: PBXs and their secrets, one-shot sync, kill -9 mid-pass, one token for two processes,
and the `run` service with /healthz, /metrics and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from clirun import Result, command_3cx, run_3cx
from py3cx import Client
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

OWNER = ApiClient("sync-owner", "owner-s3cret-for-connect", "SystemOwner")


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=21, calls=400, clients=[OWNER])) as emu:
        yield emu


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    values.update(
        PY3CX_DB=db_url,
        PY3CX_CONNECT_KEY_FILE=str(tmp_path / "keys" / "connect.key"),
        PY3CX_CACHE_DIR=str(tmp_path / "cache"),
        PY3CX_CONFIG=str(tmp_path / "config.toml"),
        COLUMNS="200",
    )
    return values


def connect(args: list[str], env: dict[str, str], **extra: str) -> Result:
    return run_3cx(["connect", *args], {**env, **extra})


def add_office(env: dict[str, str], url: str, *more: str) -> None:
    result = connect(
        ["pbx", "add", "office", "--url", url, "--client-id", OWNER.client_id, "--country", "GB", *more],
        env,
        PY3CX_CLIENT_SECRET=OWNER.secret,
    )
    assert result.returncode == 0, result.stderr


def records(db_url: str) -> list[str]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [str(r) for r in conn.execute(sa.text("SELECT record_id FROM call_records")).scalars()]
    finally:
        engine.dispose()


def emulator_records(emu: RunningEmulator) -> set[str]:
    with Client(emu.url, OWNER.client_id, OWNER.secret) as api:
        start = datetime(2000, 1, 1, tzinfo=timezone.utc)
        end = datetime.now(timezone.utc) + timedelta(days=1)
        return {str(r["SegmentId"]) for r in api.reports.rows("call-log", start=start, end=end, tz="UTC")}


def test_pbx_add_list_test_remove_never_show_the_secret(
    env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    add_office(env, emulator.url)
    key = tmp_path / "keys" / "connect.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    listed = connect(["pbx", "list"], env)
    assert json.loads(listed.stdout)[0]["client_id"] == OWNER.client_id
    tested = connect(["pbx", "test", "office"], env)
    checks = {c["check"]: c for c in json.loads(tested.stdout)}
    assert tested.returncode == 0 and all(c["ok"] for c in checks.values()), tested.stdout
    assert checks["build"]["detail"].startswith("20.0") and checks["time zone"]["ok"]
    for result in (listed, tested):
        assert OWNER.secret not in result.stdout + result.stderr
    removed = connect(["pbx", "remove", "office", "--yes"], env)
    assert removed.returncode == 0 and json.loads(connect(["pbx", "list"], env).stdout) == []


def test_pbx_test_of_a_wrong_secret_fails_with_a_hint_and_exit_1(
    env: dict[str, str], emulator: RunningEmulator
) -> None:
    result = connect(
        ["pbx", "add", "office", "--url", emulator.url, "--client-id", OWNER.client_id],
        env,
        PY3CX_CLIENT_SECRET="wrong-secret-value",
    )
    assert result.returncode == 0
    tested = connect(["pbx", "test", "office"], env)
    checks = json.loads(tested.stdout)
    assert tested.returncode == 1 and checks[0]["check"] == "token" and not checks[0]["ok"]
    assert "client id and secret" in checks[0]["hint"] and "wrong-secret-value" not in tested.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["sync", "--pbx", "nowhere"], "no PBX named 'nowhere'"),
        (["sync", "--since", "2026-02-30"], "--since '2026-02-30' is not a date"),
        (["pbx", "add", "bad name", "--url", "https://pbx", "--client-id", "x"], "bad PBX name"),
        (
            ["pbx", "add", "x", "--url", "https://pbx", "--client-id", "x", "--history-source", "cdr"],
            "history source",
        ),
        (["pbx", "remove", "nowhere", "--yes"], "no PBX named"),
        (["pbx", "test", "nowhere"], "no PBX named"),
        (["run", "--listen", "nowhere"], "HOST:PORT"),
        (["pbx", "import", "/nonexistent/pbxs.json"], "cannot read /nonexistent/pbxs.json"),
    ],
)
def test_bad_input_is_a_message_with_a_hint_and_no_traceback(
    env: dict[str, str], args: list[str], words: str
) -> None:
    result = connect(args, env, PY3CX_CLIENT_SECRET="s3cret")
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and "hint:" in result.stderr and "Traceback" not in result.stderr


def test_a_database_that_does_not_answer_is_named_with_a_hint(env: dict[str, str]) -> None:
    result = connect(["status"], env, PY3CX_DB="postgresql+psycopg://me:pw-hidden@127.0.0.1:1/x")
    assert result.returncode == 2 and "cannot open the connect database" in result.stderr
    assert "pw-hidden" not in result.stderr and "Traceback" not in result.stderr


def test_sync_then_status_then_a_second_pass_that_changes_nothing(
    env: dict[str, str], emulator: RunningEmulator, db_url: str
) -> None:
    add_office(env, emulator.url)
    since = (datetime.now(timezone.utc) - timedelta(days=100)).date().isoformat()
    first = connect(["sync", "--since", since], env)
    assert first.returncode == 0, first.stderr
    passes = {r["stream"]: r for r in json.loads(first.stdout)}
    expected = emulator_records(emulator)
    assert passes["calls"]["changed"] == len(expected) and sorted(records(db_url)) == sorted(expected)
    second = json.loads(connect(["sync"], env).stdout)
    assert [p["changed"] for p in second] == [0, 0]
    status = {r["stream"]: r for r in json.loads(connect(["status"], env).stdout)}
    assert status["calls"]["records"] == len(expected) and status["calls"]["passes"] == 2
    assert status["calls"]["error"] is None and status["calls"]["lag_seconds"] < 600


def test_a_pass_killed_with_sigkill_loses_and_doubles_nothing(env: dict[str, str], db_url: str) -> None:
    with running_emulator(EmulatorConfig(seed=22, calls=1500, clients=[OWNER])) as emu:
        # a slow rate limit keeps the pass busy long enough to be killed in the middle
        add_office(env, emu.url, "--rate-limit", "3")
        since = (datetime.now(timezone.utc) - timedelta(days=100)).date().isoformat()
        proc = subprocess.Popen(
            [*command_3cx(), "connect", "sync", "--no-directory", "--since", since],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                if _table_exists(db_url) and records(db_url):
                    break
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
        finally:
            assert proc.wait(30) == -signal.SIGKILL  # it was killed mid-pass, not finished
        partial = records(db_url)
        expected = emulator_records(emu)
        assert 0 < len(partial) < len(expected)
        again = connect(["sync", "--no-directory"], env)
        assert again.returncode == 0, again.stderr
    stored = records(db_url)
    assert len(stored) == len(set(stored)) and set(stored) == expected


def _table_exists(db_url: str) -> bool:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return sa.inspect(conn).has_table("call_records")
    finally:
        engine.dispose()


def test_two_sync_processes_at_once_share_one_token(env: dict[str, str], db_url: str) -> None:
    with running_emulator(EmulatorConfig(seed=23, calls=200, clients=[OWNER])) as emu:
        add_office(env, emu.url)
        before = httpx2.get(f"{emu.url}/_emulator/stats").json()["token_requests"].get(OWNER.client_id, 0)
        # separate token cache folders: only the database can make them share
        procs = [
            subprocess.Popen(
                [*command_3cx(), "connect", "sync"],
                env={**env, "PY3CX_CACHE_DIR": f"{env['PY3CX_CACHE_DIR']}-{i}"},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(2)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        after = httpx2.get(f"{emu.url}/_emulator/stats").json()["token_requests"].get(OWNER.client_id, 0)
    assert after - before == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _metrics(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(httpx2.get(url).text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_run_keeps_pbxs_in_sync_serves_health_and_metrics_and_stops_on_sigterm(
    env: dict[str, str], emulator: RunningEmulator
) -> None:
    add_office(env, emulator.url, "--calls-every", "1", "--directory-every", "1")
    port = _free_port()
    proc = subprocess.Popen(
        [*command_3cx(), "connect", "run", "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        passes: Any = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                metrics = _metrics(f"http://127.0.0.1:{port}/metrics")
                passes = metrics.get("py3cx_connect_last_success_timestamp_seconds", {})
                if len(passes) == 3 and metrics["py3cx_connect_records"][(("pbx", "office"),)] > 0:
                    break
            except httpx2.TransportError:
                pass
            time.sleep(0.2)
        assert len(passes) == 3, passes  # calls, directory, live
        health = httpx2.get(f"http://127.0.0.1:{port}/healthz")
        assert health.status_code == 200 and health.json()["pbxs"] == 1
        assert metrics["py3cx_connect_failing"][(("pbx", "office"), ("stream", "calls"))] == 0
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopping" in err and "Traceback" not in err
    assert OWNER.secret not in out + err
