"""The emulator as a real HTTP server on loopback (uvicorn in a thread)."""

from __future__ import annotations

import httpx2
import pytest

from py3cx.emulator import EmulatorConfig, FaultSpec, describe, running_emulator

from .emulator_harness import OWNER, config


def _token(client: httpx2.Client) -> str:
    response = client.post(
        "/connect/token",
        data={
            "client_id": OWNER.client_id,
            "client_secret": OWNER.secret,
            "grant_type": "client_credentials",
        },
    )
    assert response.status_code == 200
    token: str = response.json()["access_token"]
    return token


def test_running_emulator_serves_users_and_the_build_over_loopback_http() -> None:
    cfg = config(calls=50)
    with running_emulator(cfg) as emu:
        assert emu.url.startswith("http://127.0.0.1:")
        with httpx2.Client(base_url=emu.url) as client:
            headers = {"Authorization": f"Bearer {_token(client)}"}
            users = client.get("/xapi/v1/Users?$top=3&$orderby=Number%20asc", headers=headers)
            assert users.status_code == 200
            assert [u["Number"] for u in users.json()["value"]] == ["100", "101", "102"]
            params = client.get("/xapi/v1/Defs/Pbx.GetSystemParameters()", headers=headers)
            assert params.json()["Version"] == cfg.build
        db_path = emu.state.db_path
    import os

    assert not os.path.exists(db_path), "the temporary database is removed on exit"


def test_dropped_connection_reaches_the_client_as_a_connection_error_not_a_500() -> None:
    cfg = config(calls=20, faults=FaultSpec(reset=1.0))
    with running_emulator(cfg) as emu, httpx2.Client(base_url=emu.url) as client:
        headers = {"Authorization": f"Bearer {_token(client)}"}  # token endpoint is never faulted
        with pytest.raises(httpx2.TransportError):
            client.get("/xapi/v1/Users", headers=headers)
        assert emu.state.faults.injected == {"reset": 1}


def test_describe_names_the_url_and_every_credential() -> None:
    cfg = EmulatorConfig(seed=3, calls=10)
    text = describe(cfg, "http://127.0.0.1:5001")
    assert "http://127.0.0.1:5001" in text
    assert cfg.build in text
    for client in cfg.clients:
        assert client.client_id in text and client.secret in text and client.role in text
    for user in cfg.users:
        assert user.username in text and user.password in text
