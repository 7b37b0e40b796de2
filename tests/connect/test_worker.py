"""`3cx connect worker` on PostgreSQL: two workers share three PBXs through Procrastinate, a worker
killed with SIGKILL loses nothing, and every record is stored exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa

from clirun import command_3cx, run_3cx
from py3cx.emulator import EmulatorConfig, RunningEmulator, running_emulator

from .conftest import new_database_url
from .test_cli import OWNER, emulator_records


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from new_database_url("postgresql", tmp_path)


def _stored(db_url: str) -> dict[str, list[str]]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT p.name, r.record_id FROM call_records r JOIN pbx p ON p.id = r.pbx_id")
            ).all()
    finally:
        engine.dispose()
    found: dict[str, list[str]] = {}
    for name, record in rows:
        found.setdefault(name, []).append(str(record))
    return found


def test_two_workers_share_the_pbxs_and_a_killed_one_loses_nothing(tmp_path: Path, pg_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(
        PY3CX_DB=pg_url,
        PY3CX_CONNECT_KEY_FILE=str(tmp_path / "connect.key"),
        PY3CX_CACHE_DIR=str(tmp_path / "c"),
    )
    with ExitStack() as stack:
        emulators: list[RunningEmulator] = [
            stack.enter_context(running_emulator(EmulatorConfig(seed=31 + i, calls=600, clients=[OWNER])))
            for i in range(3)
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
                    "--backfill-days",
                    "120",
                    "--rate-limit",
                    "20",
                ],
                {**env, "PY3CX_CLIENT_SECRET": OWNER.secret},
            )
            assert added.returncode == 0, added.stderr
        expected = {f"pbx-{i}": emulator_records(emu) for i, emu in enumerate(emulators)}
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
            # kill one worker as soon as any record is stored: its job must be finished by the other
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not any(_stored(pg_url).values()):
                time.sleep(0.1)
            workers[0].send_signal(signal.SIGKILL)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                stored = _stored(pg_url)
                if all(set(stored.get(name, [])) == records for name, records in expected.items()):
                    break
                time.sleep(0.5)
            workers[1].send_signal(signal.SIGTERM)
            _out, err = workers[1].communicate(timeout=60)
        finally:
            for proc in workers:
                if proc.poll() is None:
                    proc.kill()
    assert workers[0].returncode == -signal.SIGKILL
    assert workers[1].returncode == 0, err
    stored = _stored(pg_url)
    for name, records in expected.items():
        assert sorted(stored[name]) == sorted(records)


def test_the_worker_refuses_sqlite_with_a_hint(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(
        PY3CX_DB=f"sqlite:///{tmp_path / 'c.db'}", PY3CX_CONNECT_KEY_FILE=str(tmp_path / "connect.key")
    )
    result = run_3cx(["connect", "worker"], env)
    assert result.returncode == 2 and "needs PostgreSQL" in result.stderr and "Traceback" not in result.stderr
