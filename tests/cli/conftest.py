"""Fixtures for the `3cx` command tests: a real emulator on loopback and a way to run the real
console script in a subprocess, the way a user runs it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clirun import Result, run_3cx
from py3cx.emulator import ApiClient, EmulatorConfig, running_emulator

OWNER = ApiClient("cli-owner", "owner-s3cret-value", "SystemOwner")
ADMIN = ApiClient("cli-admin", "admin-s3cret-value", "SystemAdmin")
ROUTE_POINT = ApiClient("8000", "rp-s3cret-value-cli", "SystemOwner")


@pytest.fixture(scope="module")
def pbx() -> Iterator[str]:
    cfg = EmulatorConfig(seed=3, calls=600, clients=[OWNER, ADMIN, ROUTE_POINT])
    with running_emulator(cfg) as emu:
        yield emu.url


@pytest.fixture
def cli_env(tmp_path: Path, pbx: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(
        PY3CX_URL=pbx,
        PY3CX_CLIENT_ID=OWNER.client_id,
        PY3CX_CLIENT_SECRET=OWNER.secret,
        PY3CX_CACHE_DIR=str(tmp_path / "cache"),
        PY3CX_CONFIG=str(tmp_path / "config" / "config.toml"),
        COLUMNS="200",
    )
    return env


@pytest.fixture
def owner() -> ApiClient:
    return OWNER


@pytest.fixture
def admin() -> ApiClient:
    return ADMIN


@pytest.fixture
def route_point() -> ApiClient:
    return ROUTE_POINT


@pytest.fixture
def run() -> Callable[..., Result]:
    return run_3cx
