"""`3cx connect worker` follows each PBX's Call Control stream in exactly one worker (a PostgreSQL
advisory lock per PBX): two workers share two PBXs with route points, and when one is killed with
SIGKILL the other takes its PBXs, so live call.ended events keep coming, once per call."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa

from clirun import command_3cx, run_3cx
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

from .conftest import new_database_url

OWNER = ApiClient("wk-owner", "wk-owner-s3cret-value", "SystemOwner")
ROUTE_POINT = ApiClient("8000", "wk-route-point-s3cret", "SystemOwner")


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from new_database_url("postgresql", tmp_path)


def _query(db_url: str, sql: str) -> list[Any]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)).all())
    finally:
        engine.dispose()


def _events(db_url: str) -> list[tuple[str, str, str, str]]:
    rows = _query(
        db_url,
        "SELECT p.name, e.type, e.call_id, e.payload FROM events e JOIN pbx p ON p.id = e.pbx_id ORDER BY e.seq",
    )
    out = []
    for name, kind, call_id, payload in rows:
        data = payload if isinstance(payload, dict) else __import__("json").loads(payload)
        out.append((name, kind, call_id, data["data"].get("source", "")))
    return out


def _holders(db_url: str) -> list[int]:
    # the advisory locks the workers hold, one per followed PBX: the server process of each holder
    # pg_locks is the whole server's: only this database's follow locks (class 0x70793363, two keys)
    rows = _query(
        db_url,
        "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
        " WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
        " AND l.classid = 1886991203 AND l.objsubid = 2",
    )
    return sorted(int(r[0]) for r in rows)


def _followed(db_url: str) -> int:
    return len(_holders(db_url))


def _now(db_url: str) -> Any:
    return _query(db_url, "SELECT now()")[0][0]


def _connected_since(db_url: str, since: Any) -> int:
    rows = _query(
        db_url,
        "SELECT last_success_at FROM sync_state WHERE stream = 'callcontrol' AND last_success_at IS NOT NULL",
    )
    return sum(1 for (when,) in rows if when > since)


def _call(emu: RunningEmulator, source: str, destination: str) -> int:
    base = f"{emu.url}/_emulator/callcontrol/calls"
    started = httpx2.post(base, json={"from": source, "to": destination}).json()
    callid = int(started["callid"])
    assert httpx2.post(f"{base}/{callid}/answer", json={"dn": destination}).status_code == 200
    time.sleep(0.3)
    assert httpx2.post(f"{base}/{callid}/end", json={}).status_code == 200
    return callid


def _wait(check: Any, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def test_two_workers_follow_each_pbx_once_and_a_killed_ones_pbxs_are_taken_over(
    tmp_path: Path, pg_url: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(
        PY3CX_DB=pg_url,
        PY3CX_CONNECT_KEY_FILE=str(tmp_path / "connect.key"),
        PY3CX_CACHE_DIR=str(tmp_path / "c"),
    )
    with ExitStack() as stack:
        emulators = [
            stack.enter_context(
                running_emulator(EmulatorConfig(seed=41 + i, calls=20, clients=[OWNER, ROUTE_POINT]))
            )
            for i in range(2)
        ]
        for i, emu in enumerate(emulators):
            added = run_3cx(
                [
                    "connect",
                    "pbx",
                    "add",
                    f"pbx-{i}",
                    "--url",
                    emu.url,
                    "--client-id",
                    OWNER.client_id,
                    "--route-point",
                    ROUTE_POINT.client_id,
                    "--backfill-days",
                    "1",
                    "--country",
                    "GB",
                ],
                {**env, "PY3CX_CLIENT_SECRET": OWNER.secret, "PY3CX_ROUTE_POINT_SECRET": ROUTE_POINT.secret},
            )
            assert added.returncode == 0, added.stderr
        workers = [
            subprocess.Popen(
                [*command_3cx(), "connect", "worker"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            # each worker follows one PBX: its share (the first to start gives up what exceeds it)
            _wait(lambda: len(set(_holders(pg_url))) == 2, "each worker following one PBX")
            first = {f"pbx-{i}": _call(emu, "+442079460701", "100") for i, emu in enumerate(emulators)}

            def ended_live(calls: dict[str, int]) -> bool:
                seen = {(n, k) for n, t, k, s in _events(pg_url) if t == "call.ended" and s == "callcontrol"}
                return all((name, str(callid)) in seen for name, callid in calls.items())

            _wait(lambda: ended_live(first), "live call.ended on both PBXs")
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=30)
            killed = _now(pg_url)
            # the survivor takes the dead worker's PBX once the dead one's heartbeat is old (30 s):
            # its locks died with it; then the stream connects and says so in sync_state
            _wait(
                lambda: _followed(pg_url) == 2 and len(set(_holders(pg_url))) == 1,
                "the survivor following both",
            )
            _wait(lambda: _connected_since(pg_url, killed) == 2, "both streams connected after the kill")
            second = {f"pbx-{i}": _call(emu, "+442079460702", "101") for i, emu in enumerate(emulators)}
            _wait(lambda: ended_live(second), "live call.ended after the kill")
            workers[1].send_signal(signal.SIGTERM)
            _out, err = workers[1].communicate(timeout=60)
        except AssertionError as failure:
            for proc in workers:
                if proc.poll() is None:
                    proc.kill()
            logs = "\n".join(proc.communicate(timeout=30)[1][-3000:] for proc in workers)
            raise AssertionError(f"{failure}\nthe workers said:\n{logs}") from None
        finally:
            for proc in workers:
                if proc.poll() is None:
                    proc.kill()
    assert workers[1].returncode == 0, err
    ended = [(n, k) for n, t, k, _s in _events(pg_url) if t == "call.ended"]
    assert len(ended) == len(set(ended))  # one call.ended per call, whatever ended it
