"""Fixtures for the `3cx` command tests: a real emulator on loopback and a way to run the real
console script in a subprocess, the way a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from py3cx.emulator import ApiClient, EmulatorConfig, running_emulator

OWNER = ApiClient("cli-owner", "owner-s3cret-value", "SystemOwner")
ADMIN = ApiClient("cli-admin", "admin-s3cret-value", "SystemAdmin")
ROUTE_POINT = ApiClient("8000", "rp-s3cret-value-cli", "SystemOwner")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


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


def run_3cx(args: list[str], env: dict[str, str], *, cwd: Path | None = None, timeout: float = 120) -> Result:
    """Run the installed `3cx` console script with stdout piped (as in `3cx ... | jq`)."""
    script = Path(sys.executable).parent / "3cx"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "py3cx.cli.main"]
    proc = subprocess.run(
        [*command, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
