"""Running the real `3cx` console script in a subprocess, the way a user runs it (shared by the
CLI and connect tests)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def command_3cx() -> list[str]:
    """The argv prefix that starts `3cx` from this test run's environment."""
    script = Path(sys.executable).parent / "3cx"
    return [str(script)] if script.exists() else [sys.executable, "-m", "py3cx.cli.main"]


def run_3cx(args: list[str], env: dict[str, str], *, cwd: Path | None = None, timeout: float = 120) -> Result:
    """Run the installed `3cx` console script with stdout piped (as in `3cx ... | jq`)."""
    proc = subprocess.run(
        [*command_3cx(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
