"""TLS: the token request and every other request follow `verify` and `ca_bundle`.

(The PyPI SDK ignored `verify_ssl=False` for its token request.) The emulator is served over
HTTPS by uvicorn with a certificate from a private CA made by trustme.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

import py3cx
from py3cx.emulator import EmulatorState, create_app

from .emulated import owner_of, serving, small_config


@dataclass
class TLSPBX:
    url: str
    ca_file: Path
    state: EmulatorState


@contextmanager
def https_emulator(tmp_path: Path) -> Iterator[TLSPBX]:
    ca = trustme.CA()
    ca_file, chain_file = tmp_path / "ca.pem", tmp_path / "server.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(chain_file))
    app = create_app(small_config(calls=10))
    try:
        with serving(app, certfile=str(chain_file)) as url:
            yield TLSPBX(url, ca_file, app.state.emulator)
    finally:
        app.state.emulator.close()


@pytest.fixture
def pbx(tmp_path: Path) -> Iterator[TLSPBX]:
    with https_emulator(tmp_path) as running:
        yield running


def test_an_untrusted_certificate_stops_the_token_request_with_a_hint(pbx: TLSPBX) -> None:
    owner = owner_of(pbx.state.config)
    client = py3cx.Client(pbx.url, owner.client_id, owner.secret, max_retries=0)
    with client, pytest.raises(py3cx.APIConnectionError) as caught:
        client.get("Users")
    assert caught.value.hint is not None and "ca_bundle" in caught.value.hint
    assert pbx.state.tokens.token_requests == {}


def test_verify_false_applies_to_the_token_request_too(pbx: TLSPBX) -> None:
    owner = owner_of(pbx.state.config)
    with py3cx.Client(pbx.url, owner.client_id, owner.secret, verify=False) as client:
        assert client.verify is False  # the Call Control WebSocket reads it
        assert client.get("Users", top=1)["value"]
    assert pbx.state.tokens.token_requests == {owner.client_id: 1}


def test_a_ca_bundle_makes_a_private_certificate_trusted(pbx: TLSPBX) -> None:
    owner = owner_of(pbx.state.config)
    with py3cx.Client(pbx.url, owner.client_id, owner.secret, ca_bundle=str(pbx.ca_file)) as client:
        assert client.ca_bundle == str(pbx.ca_file)
        assert client.get("Users", top=1)["value"]


def test_async_client_follows_the_ca_bundle_from_the_environment(
    pbx: TLSPBX, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = owner_of(pbx.state.config)
    monkeypatch.setenv("PY3CX_URL", pbx.url)
    monkeypatch.setenv("PY3CX_CLIENT_ID", owner.client_id)
    monkeypatch.setenv("PY3CX_CLIENT_SECRET", owner.secret)
    monkeypatch.setenv("PY3CX_CA_BUNDLE", str(pbx.ca_file))

    async def first_user() -> object:
        async with py3cx.AsyncClient.from_env() as client:
            return (await client.get("Users", top=1))["value"][0]

    assert asyncio.run(first_user())


def test_an_unreadable_ca_bundle_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(py3cx.ConfigError) as caught:
        py3cx.Client("https://pbx.example.com", "id", "secret", ca_bundle=str(tmp_path / "missing.pem"))
    assert caught.value.hint is not None
