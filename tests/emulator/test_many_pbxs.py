"""Many independent PBXs from one emulator: `running_emulators` (library) and
`3cx emulator serve --pbxs N --pbx-list FILE` (one process, one event loop)."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx2

from clirun import command_3cx
from py3cx.emulator import EmulatorConfig, FaultSpec, running_emulators


def _token(url: str, client_id: str, secret: str) -> int:
    data = {"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"}
    return httpx2.post(f"{url}/connect/token", data=data).status_code


def test_running_emulators_are_independent_pbxs() -> None:
    configs = [
        EmulatorConfig(seed=41, calls=20),
        EmulatorConfig(seed=42, calls=20),
        EmulatorConfig(seed=43, calls=20, faults=FaultSpec(error_503=1.0)),
    ]
    with running_emulators(configs) as pbxs:
        owners = [next(c for c in p.clients if c.role == "SystemOwner") for p in pbxs]
        assert len({p.url for p in pbxs}) == 3 and len({o.secret for o in owners}) == 3
        assert _token(pbxs[0].url, owners[0].client_id, owners[0].secret) == 200
        assert _token(pbxs[0].url, owners[1].client_id, owners[1].secret) != 200
        firsts = []
        for pbx, owner in zip(pbxs, owners, strict=True):
            token = httpx2.post(
                f"{pbx.url}/connect/token",
                data={
                    "client_id": owner.client_id,
                    "client_secret": owner.secret,
                    "grant_type": "client_credentials",
                },
            ).json()["access_token"]
            answer = httpx2.get(
                f"{pbx.url}/xapi/v1/Users?$top=1&$orderby=Id", headers={"Authorization": f"Bearer {token}"}
            )
            firsts.append(answer.status_code if pbx is pbxs[2] else answer.json()["value"][0]["FirstName"])
    assert firsts[2] == 503 and firsts[0] != firsts[1]


def _free_base(count: int) -> int:
    for base in range(21000, 40000, count + 3):
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise AssertionError("no free ports")


def test_serve_pbxs_writes_a_private_list_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    listing = tmp_path / "pbxs.json"
    base = _free_base(3)
    private_tmp = tmp_path / "tmp"  # the PBXs' databases go here, apart from other runs'
    private_tmp.mkdir()
    command = [
        *command_3cx(),
        "emulator",
        "serve",
        "--pbxs",
        "3",
        "--port",
        str(base),
        "--calls",
        "30",
        "--pbx-list",
        str(listing),
    ]
    env = {**os.environ, "TMPDIR": str(private_tmp)}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(private_tmp.iterdir()):
            time.sleep(0.05)
        assert any(p.name.startswith("py3cx-emulator") for p in private_tmp.iterdir())
        while not listing.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        entries = json.loads(listing.read_text())
        assert stat.S_IMODE(listing.stat().st_mode) == 0o600
        assert [e["name"] for e in entries] == ["pbx-1", "pbx-2", "pbx-3"]
        assert [e["url"] for e in entries] == [f"http://127.0.0.1:{base + i}" for i in range(3)]
        for entry in entries:
            assert _token(entry["url"], entry["client_id"], entry["client_secret"]) == 200
            # the route point too, for connect's Call Control stream
            assert entry["route_point_id"].isdigit()
            assert _token(entry["url"], entry["route_point_id"], entry["route_point_secret"]) == 200
        assert len({e["client_secret"] for e in entries}) == 3
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "pbx-3" in err and "Traceback" not in err
    assert list(private_tmp.iterdir()) == []


def test_a_taken_port_among_the_pbxs_is_named_before_anything_listens(tmp_path: Path) -> None:
    base = _free_base(3)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 1))
        taken.listen()
        result = subprocess.run(
            [*command_3cx(), "emulator", "serve", "--pbxs", "3", "--port", str(base)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2 and f"port {base + 1}" in result.stderr and "listening" not in result.stderr
    missing = subprocess.run(
        [*command_3cx(), "emulator", "serve", "--pbxs", "2", "--pbx-list", str(tmp_path / "no" / "x.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
