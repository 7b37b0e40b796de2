"""Fixtures of the provisioning tests: a fresh emulated PBX per test (its directory is changed by
the tests), reached over HTTP with `Client` or in-process with `AsyncClient` + `ASGITransport`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from py3cx import Client
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

OWNER = ApiClient("prov-owner", "prov-owner-s3cret", "SystemOwner")


def emulator_config() -> EmulatorConfig:
    # no call history: provisioning only needs the directory (users, departments, queues)
    return EmulatorConfig(seed=5, calls=0, clients=[OWNER])


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own token cache and config file, never the user's."""
    monkeypatch.setenv("PY3CX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PY3CX_CONFIG", str(tmp_path / "config" / "config.toml"))
    for var in ("PY3CX_URL", "PY3CX_CLIENT_ID", "PY3CX_CLIENT_SECRET", "PY3CX_PROFILE", "PY3CX_REGION"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A real emulator on loopback, fresh for each test."""
    with running_emulator(emulator_config()) as emu:
        yield emu


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[Client]:
    with Client(emulator.url, OWNER.client_id, OWNER.secret) as pbx:
        yield pbx
