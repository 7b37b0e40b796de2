"""`pip install py3cx` is the library alone: the wheel installed without extras in a fresh virtual
environment talks to an emulator run from this test's own environment, the `3cx` script names the
extra it needs, and the cli extra names the emulator extra when that one is missing.

Slow (two pip installs from the package index, about a minute): it is the only test of the wheel as a
user gets it, so it runs in CI like every other test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from py3cx.emulator import ApiClient, EmulatorConfig, running_emulator

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
OWNER = ApiClient("lean-owner", "lean-s3cret-value", "SystemOwner")
LIBRARY = {"py3cx", "httpx2", "pydantic", "platformdirs", "filelock", "tzdata", "tomli-w", "websockets"}
CLI_ONLY = {"typer", "rich", "babel", "xlsxwriter", "openpyxl", "phonenumbers", "email-validator"}
EMULATOR_ONLY = {"sqlalchemy", "odata-query", "pyyaml", "python-multipart", "trustme"}


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=600, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def _pip(venv: Path, *args: str) -> None:
    proc = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *args])
    assert proc.returncode == 0, proc.stderr


def _installed(venv: Path) -> set[str]:
    proc = _run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    return {row["name"].lower().replace("_", "-") for row in json.loads(proc.stdout)}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)])
    assert proc.returncode == 0, proc.stderr
    (built,) = out.glob("py3cx-*.whl")
    return built


@pytest.fixture(scope="module")
def lean_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    venv = tmp_path_factory.mktemp("lean") / "venv"
    proc = _run([sys.executable, "-m", "venv", str(venv)])
    assert proc.returncode == 0, proc.stderr
    _pip(venv, str(wheel))
    return venv


@pytest.fixture(scope="module")
def pbx() -> Iterator[str]:
    with running_emulator(EmulatorConfig(seed=5, calls=50, clients=[OWNER])) as emu:
        yield emu.url


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PY3CX_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(
        PY3CX_URL=url,
        PY3CX_CLIENT_ID=OWNER.client_id,
        PY3CX_CLIENT_SECRET=OWNER.secret,
        PY3CX_CACHE_DIR=str(tmp_path / "cache"),
        PY3CX_CONFIG=str(tmp_path / "config.toml"),
    )
    return env


def test_the_bare_wheel_installs_the_library_dependencies_only(lean_venv: Path) -> None:
    installed = _installed(lean_venv)
    assert installed >= LIBRARY
    assert not installed & (CLI_ONLY | EMULATOR_ONLY | {"starlette", "uvicorn", "matplotlib", "pyarrow"})


def test_the_bare_library_talks_to_an_emulator_run_from_another_environment(
    lean_venv: Path, pbx: str, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        """
        import asyncio, json, os, sys
        import py3cx

        with py3cx.Client.from_env() as pbx:
            users = pbx.get("Users", select=["Number"], top=5)
            status = pbx.get("SystemStatus")
            rows = list(pbx.paginate("CallHistoryView", page_size=20, top=30))

        async def main():
            async with py3cx.AsyncClient.from_env() as pbx:
                return await pbx.get("Users", select=["Number"], top=5)

        print(json.dumps({
            "users": [u["Number"] for u in users["value"]],
            "async_users": [u["Number"] for u in asyncio.run(main())["value"]],
            "version": status["Version"],
            "history": len(rows),
            "modules": sorted(set(sys.modules) & {"typer", "rich", "starlette", "sqlalchemy", "babel"}),
        }))
        """
    )
    proc = _run([str(lean_venv / "bin" / "python"), "-c", script], env=_env(tmp_path, pbx))
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert len(seen["users"]) == 5
    assert seen["async_users"] == seen["users"]
    assert seen["version"].startswith("20.")
    assert seen["history"] == 30
    assert seen["modules"] == []


def test_the_3cx_script_without_the_cli_extra_names_the_extra(lean_venv: Path, pbx: str, tmp_path: Path) -> None:
    proc = _run([str(lean_venv / "bin" / "3cx"), "get", "Users"], env=_env(tmp_path, pbx))
    assert proc.returncode == 2
    assert "pip install 'py3cx[cli]'" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_the_cli_extra_runs_commands_and_names_the_emulator_extra(
    tmp_path_factory: pytest.TempPathFactory, wheel: Path, pbx: str, tmp_path: Path
) -> None:
    venv = tmp_path_factory.mktemp("cli") / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    _pip(venv, f"{wheel}[cli]")
    installed = _installed(venv)
    assert installed >= LIBRARY | CLI_ONLY
    assert not installed & EMULATOR_ONLY
    env = _env(tmp_path, pbx)
    got = _run([str(venv / "bin" / "3cx"), "get", "Users", "--select", "Number", "--top", "3", "--json"], env=env)
    assert got.returncode == 0, got.stderr
    assert len(json.loads(got.stdout)["value"]) == 3
    for args in (["emulator", "serve", "--port", "0"], ["demo"]):
        proc = _run([str(venv / "bin" / "3cx"), *args], env=env)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "pip install 'py3cx[emulator]'" in proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout
