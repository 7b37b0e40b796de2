"""The committed ``_generated/`` code and reference page are what the generator makes of the spec."""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import generate_xapi

from .conftest import ROOT, spec_file


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    return generate_xapi.generate(spec_file("20.0.10"), spec_file("20.0.4"))


def test_regenerating_from_the_spec_changes_nothing(generated: dict[Path, str]) -> None:
    found = generate_xapi.differences(ROOT, generated)
    assert found == [], "run `python tools/generate_xapi.py` and commit the result:\n" + "\n".join(found)


def test_a_hand_edit_of_generated_code_is_caught(generated: dict[Path, str], tmp_path: Path) -> None:
    generate_xapi.write(tmp_path, generated)
    users = tmp_path / "src/py3cx/xapi/_generated/resources/users.py"
    users.write_text(users.read_text(encoding="utf-8") + "# tweak\n", encoding="utf-8")
    (tmp_path / "src/py3cx/xapi/_generated/resources/leftover.py").write_text("", encoding="utf-8")
    assert generate_xapi.differences(tmp_path, generated) == [
        "changed: src/py3cx/xapi/_generated/resources/users.py",
        "stale: src/py3cx/xapi/_generated/resources/leftover.py",
    ]


def test_every_generated_file_names_the_spec_it_came_from() -> None:
    sha256 = hashlib.sha256(spec_file("20.0.10").read_bytes()).hexdigest()
    generated = sorted((ROOT / "src/py3cx/xapi/_generated").rglob("*.py"))
    assert len(generated) > 100
    for path in generated:
        head = path.read_text(encoding="utf-8")[:600]
        assert f"sha256 {sha256}" in head, path
        assert "Do not edit" in head, path


def test_the_generator_command_agrees_whatever_the_hash_seed() -> None:
    # Another process with another PYTHONHASHSEED: set and dict orders must not leak into the output.
    command = [
        sys.executable,
        str(ROOT / "tools" / "generate_xapi.py"),
        "--check",
        "--spec",
        str(spec_file("20.0.10")),
        "--legacy-spec",
        str(spec_file("20.0.4")),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_every_generated_module_imports() -> None:
    generated = ROOT / "src/py3cx/xapi/_generated"
    for package in ("resources", "schemas"):
        for path in sorted((generated / package).glob("*.py")):
            if path.stem != "__init__":
                module = importlib.import_module(f"py3cx.xapi._generated.{package}.{path.stem}")
                assert module.__all__ and all(hasattr(module, name) for name in module.__all__), path
