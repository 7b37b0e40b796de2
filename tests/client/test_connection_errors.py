"""Connection errors a person can act on (issue 9.4): they name the host and port, say what is
wrong (nothing listening, not HTTPS), come after the token fetch's own retries only, and a URL
pasted with its API path still works."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

import py3cx
from py3cx._auth import normalize_url
from py3cx.emulator import RunningEmulator, running_emulator

from .emulated import owner_of, small_config


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(small_config(calls=10)) as running:
        yield running


class ClosingServer:
    """Accepts TCP connections and closes them at once (a PBX behind a broken proxy); counts them."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


def test_a_failed_token_fetch_is_not_retried_again_by_the_request_sync() -> None:
    server = ClosingServer()
    client = py3cx.Client(f"http://127.0.0.1:{server.port}", "a", "s3cret-value", max_retries=2)
    with client, pytest.raises(py3cx.APIConnectionError):
        client.get("Users")
    # the token fetch tries 1 + 2 times; the request around it used to try that 3 times over
    assert server.connections == 3
    server.sock.close()


def test_a_failed_token_fetch_is_not_retried_again_by_the_request_async() -> None:
    server = ClosingServer()

    async def fetch() -> None:
        async with py3cx.AsyncClient(
            f"http://127.0.0.1:{server.port}", "a", "s3cret-value", max_retries=2
        ) as c:
            await c.get("Users")

    with pytest.raises(py3cx.APIConnectionError):
        asyncio.run(fetch())
    assert server.connections == 3
    server.sock.close()


def test_a_refused_port_is_named_with_what_to_check() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    client = py3cx.Client(f"http://127.0.0.1:{port}", "a", "s3cret-value")
    with client, pytest.raises(py3cx.APIConnectionError) as caught:
        client.get("Users")
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert caught.value.hint is not None and f"nothing listens on 127.0.0.1:{port}" in caught.value.hint


def test_https_against_a_plain_http_server_says_so(emulator: RunningEmulator) -> None:
    owner = owner_of(emulator)
    url = emulator.url.replace("http://", "https://")
    client = py3cx.Client(url, owner.client_id, owner.secret, max_retries=0)
    with client, pytest.raises(py3cx.APIConnectionError) as caught:
        client.get("Users")
    assert caught.value.hint is not None and "does not speak HTTPS" in caught.value.hint


@pytest.mark.parametrize("suffix", ["/xapi/v1", "/xapi/v1/", "/XAPI/V1", "/callcontrol"])
def test_a_url_pasted_with_its_api_path_is_corrected(emulator: RunningEmulator, suffix: str) -> None:
    assert normalize_url("https://pbx.example.com" + suffix) == "https://pbx.example.com"
    owner = owner_of(emulator)
    with py3cx.Client(emulator.url + suffix, owner.client_id, owner.secret) as client:
        assert client.get("Users", top=1)["value"]
