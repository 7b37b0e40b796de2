"""The emulator's temporary database (py3cx-emulator-*.sqlite, -wal, -shm) is gone once it stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from py3cx.emulator import EmulatorConfig, running_emulator


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("py3cx-emulator-"))


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the emulator stopped before it listened"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the emulator did not listen within 60 s")


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_emulator_serve_leaves_no_database_files(tmp_path: Path, stop: signal.Signals) -> None:
    port = _free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    command = [sys.executable, "-m", "py3cx.cli.main", "emulator", "serve", "--port", str(port), "--calls", "50"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_listening(port, process)
        assert _leftovers(tmp_path), "the emulator keeps its state in a temporary file while it runs"
        process.send_signal(stop)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert _leftovers(tmp_path) == []


def test_an_app_that_is_never_closed_leaves_no_files_when_the_process_exits(tmp_path: Path) -> None:
    script = (
        "from py3cx.emulator import EmulatorConfig, create_app\n"
        "app = create_app(EmulatorConfig(calls=10))\n"
        "import os, sys; print(os.path.exists(app.state.emulator.db_path))\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert _leftovers(tmp_path) == []


def test_running_emulator_removes_its_database_on_exit() -> None:
    with running_emulator(EmulatorConfig(calls=10)) as emulator:
        path = Path(emulator.app.state.emulator.db_path)
        assert path.exists()
    assert not [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
