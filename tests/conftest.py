"""Suite-wide settings: no test reads or writes the user's real py3cx config or token cache."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_PRIVATE = tempfile.mkdtemp(prefix="py3cx-tests-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["PY3CX_CACHE_DIR"] = os.path.join(_PRIVATE, "cache")
    os.environ["PY3CX_CONFIG"] = os.path.join(_PRIVATE, "config", "config.toml")
    for var in ("PY3CX_URL", "PY3CX_CLIENT_ID", "PY3CX_CLIENT_SECRET", "PY3CX_PROFILE"):
        os.environ.pop(var, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_PRIVATE, ignore_errors=True)
