"""Every client test gets its own token cache and config file, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PY3CX_CACHE_DIR", str(cache))
    monkeypatch.setenv("PY3CX_CONFIG", str(tmp_path / "config" / "config.toml"))
    for var in ("PY3CX_URL", "PY3CX_CLIENT_ID", "PY3CX_CLIENT_SECRET", "PY3CX_VERIFY", "PY3CX_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("PY3CX_PROFILE", raising=False)
    return cache
