"""`3cx emulator serve --tls`: HTTPS and WSS only, as a PBX, with a CA the client is told to trust."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import trustme

import py3cx
from py3cx.emulator import ApiClient

Result = Any  # the conftest's subprocess result
OWNER = ApiClient("tls-owner", "tls-owner-s3cret-value", "SystemOwner")
ROUTE_POINT = ApiClient("8000", "tls-rp-s3cret-value", "SystemOwner")
_CLIENTS = [f"{c.client_id}:{c.secret}:{c.role}" for c in (OWNER, ROUTE_POINT)]


@dataclass
class TLSServer:
    url: str
    ca_file: Path | None
    banner: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serve(tmp: Path, *options: str) -> Iterator[TLSServer]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env["TMPDIR"] = str(tmp)
    clients = [arg for c in _CLIENTS for arg in ("--client", c)]
    command = [sys.executable, "-m", "py3cx.cli.main", "emulator", "serve", "--port", str(port)]
    out = tmp / "serve.out"
    with out.open("w") as sink:
        process = subprocess.Popen(
            [*command, "--calls", "50", *clients, *options], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, out.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the emulator did not listen within 60 s"
                time.sleep(0.1)
        banner = out.read_text()
        ca = next((line.rsplit(" ", 1)[1] for line in banner.splitlines() if "--ca-bundle" in line), None)
        yield TLSServer(f"https://127.0.0.1:{port}", Path(ca) if ca else None, banner)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def tls_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSServer]:
    tmp = tmp_path_factory.mktemp("tls")
    with _serve(tmp, "--tls", "--tls-ca-out", str(tmp / "ca.pem")) as server:
        yield server


@pytest.fixture
def tls_env(tmp_path: Path, tls_pbx: TLSServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(
        PY3CX_URL=tls_pbx.url,
        PY3CX_CLIENT_ID=OWNER.client_id,
        PY3CX_CLIENT_SECRET=OWNER.secret,
        PY3CX_CACHE_DIR=str(tmp_path / "cache"),
        PY3CX_CONFIG=str(tmp_path / "config.toml"),
        COLUMNS="200",
    )
    return env


def test_the_banner_gives_an_https_url_and_the_ca_file_to_trust(tls_pbx: TLSServer) -> None:
    assert f"listening on {tls_pbx.url}" in tls_pbx.banner
    assert tls_pbx.ca_file is not None and tls_pbx.ca_file.name == "ca.pem"
    assert tls_pbx.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_plain_http_gets_no_answer_from_a_tls_emulator(tls_pbx: TLSServer) -> None:
    with pytest.raises(httpx2.HTTPError):
        httpx2.get(tls_pbx.url.replace("https://", "http://") + "/xapi/v1/swagger.yaml", timeout=5)


def test_the_cli_trusts_the_emulator_with_ca_bundle(
    tls_pbx: TLSServer, tls_env: dict[str, str], run: Callable[..., Result]
) -> None:
    result = run(["--ca-bundle", str(tls_pbx.ca_file), "get", "Users", "--top", "1"], tls_env)
    assert result.returncode == 0, result.stderr
    assert '"Number"' in result.stdout


def test_the_cli_without_the_ca_names_the_certificate_problem_without_a_traceback(
    tls_env: dict[str, str], run: Callable[..., Result]
) -> None:
    result = run(["get", "Users", "--top", "1"], tls_env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "ca-bundle" in result.stderr or "ca_bundle" in result.stderr, result.stderr


def test_verify_false_covers_the_token_request_over_https(tls_pbx: TLSServer) -> None:
    with py3cx.Client(tls_pbx.url, OWNER.client_id, OWNER.secret, verify=False) as client:
        assert client.get("Users", top=1)["value"]


def test_the_call_control_websocket_is_wss_and_trusts_the_ca(tls_pbx: TLSServer) -> None:
    client = py3cx.Client(
        tls_pbx.url, ROUTE_POINT.client_id, ROUTE_POINT.secret, ca_bundle=str(tls_pbx.ca_file)
    )
    with client, client.callcontrol.events() as events:
        events.wait_connected()
        assert client.callcontrol.dns()


def test_own_certificate_and_key_are_served(tmp_path: Path) -> None:
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    cert, key, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "own-ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    with _serve(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key)) as server:
        assert server.ca_file is None  # nothing made up: the user's own CA applies
        answer = httpx2.get(
            server.url + "/xapi/v1/swagger.yaml",
            verify=ssl.create_default_context(cafile=str(ca_file)),
            timeout=10,
        )
        assert answer.status_code == 200


def test_a_key_without_its_certificate_is_refused_with_a_reason(
    tmp_path: Path, cli_env: dict[str, str], run: Callable[..., Result]
) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not used")
    result = run(["emulator", "serve", "--port", "0", "--tls-key", str(key)], cli_env)
    assert result.returncode != 0
    assert "--tls-key needs --tls-cert" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_port_is_said_before_any_banner_and_exits_2(
    cli_env: dict[str, str], run: Callable[..., Result]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(["emulator", "serve", "--port", str(port), "--calls", "10"], cli_env, timeout=60)
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "listening on" not in result.stdout + result.stderr and "Traceback" not in result.stderr
