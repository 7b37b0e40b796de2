"""Fixtures of the client tests: private cache and config dirs, a small emulator per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from py3cx._auth import forget_tokens
from py3cx.emulator import RunningEmulator, running_emulator

from .emulated import small_config


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every client test gets its own token cache and config file, never the user's."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PY3CX_CACHE_DIR", str(cache))
    monkeypatch.setenv("PY3CX_CONFIG", str(tmp_path / "config" / "config.toml"))
    for var in ("PY3CX_URL", "PY3CX_CLIENT_ID", "PY3CX_CLIENT_SECRET", "PY3CX_VERIFY", "PY3CX_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("PY3CX_PROFILE", raising=False)
    # emulators come and go on recycled ports: no test may inherit another's token
    forget_tokens()
    return cache


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A small emulator on loopback (a real uvicorn server), fresh for each test."""
    with running_emulator(small_config()) as emu:
        yield emu
