"""Fixtures of the XAPI tests: the specs, the generator on the path, private token caches."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from xapi_codegen.spec_loader import LoadedSpec, load_spec  # noqa: E402


def spec_file(build: str) -> Path:
    """The spec of ``build``: the shared copy when this checkout has one, else the emulator's copy
    (the same bytes; the generated headers name the build, not the file)."""
    shared = (
        ROOT.parent
        / "shared"
        / "spec"
        / ("xapi-swagger.yaml" if build == "20.0.10" else f"xapi-swagger-{build}.yaml")
    )
    if shared.exists():
        return shared
    return ROOT / "src" / "py3cx" / "emulator" / "specs" / f"xapi-swagger-{build}.yaml"


@pytest.fixture(scope="session")
def current_spec() -> LoadedSpec:
    return load_spec(spec_file("20.0.10"))


@pytest.fixture(scope="session")
def legacy_spec() -> LoadedSpec:
    return load_spec(spec_file("20.0.4"))


@pytest.fixture(autouse=True)
def private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every test gets its own token cache and config file, never the user's."""
    monkeypatch.setenv("PY3CX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PY3CX_CONFIG", str(tmp_path / "config" / "config.toml"))
    for var in ("PY3CX_URL", "PY3CX_CLIENT_ID", "PY3CX_CLIENT_SECRET", "PY3CX_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path
