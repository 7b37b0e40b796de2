"""`client.with_options(...)`: the same PBX, connections and token, other retries or timeout;
one RetryPolicy for every retry, set through the public options (sync and async faces)."""

from __future__ import annotations

import asyncio

import pytest

import py3cx
from py3cx.emulator import EmulatorConfig, FaultSpec, running_emulator

from .emulated import emulator_stats, owner_of, small_config


def _xapi_requests(url: str) -> int:
    return int(emulator_stats(url)["xapi_requests"])


def test_with_options_max_retries_0_sends_once_and_shares_connections_and_token() -> None:
    config = small_config(faults=FaultSpec(error_503=1.0))
    with running_emulator(config) as emu:
        owner = owner_of(emu)
        policy = py3cx.RetryPolicy(max_retries=3, initial_delay=0.01)
        with py3cx.Client(emu.url, owner.client_id, owner.secret, retry_policy=policy) as client:
            once = client.with_options(max_retries=0)
            assert (once.max_retries, client.max_retries) == (0, 3)
            assert once.retry_policy.initial_delay == 0.01
            before = _xapi_requests(emu.url)
            with pytest.raises(py3cx.ServiceUnavailableError):
                once.get("Users", top=1)
            assert _xapi_requests(emu.url) - before == 1
            with pytest.raises(py3cx.ServiceUnavailableError):
                client.get("Users", top=1)
            assert _xapi_requests(emu.url) - before == 1 + 4
            assert once._http is client._http and once._tokens is client._tokens
            once.close()  # the copy owns no connection: the parent still works
            assert client.token() == once.token()
        assert emulator_stats(emu.url)["token_requests"][owner.client_id] == 1


def test_with_options_copies_make_their_own_typed_layers() -> None:
    with running_emulator(small_config()) as emu:
        owner = owner_of(emu)
        with py3cx.Client(emu.url, owner.client_id, owner.secret) as client:
            assert client.reports is client.reports
            quick = client.with_options(timeout=5)
            assert quick.reports is not client.reports and quick.timeout == 5 and client.timeout == 30
            assert [u.Id for u in quick.xapi.users.list(top=2)] == [
                u.Id for u in client.xapi.users.list(top=2)
            ]
        with pytest.raises(py3cx.ConfigError, match="0 or more"):
            client.with_options(max_retries=-1)


def test_with_options_timeout_applies_per_request() -> None:
    # the emulator's 1-second event delay is not XAPI; a tiny timeout on a big page is
    with running_emulator(EmulatorConfig(seed=3, calls=3000)) as emu:
        owner = owner_of(emu)
        with py3cx.Client(emu.url, owner.client_id, owner.secret) as client:
            client.token()
            hurried = client.with_options(timeout=0.000_1, max_retries=0)
            with pytest.raises(py3cx.APITimeoutError):
                hurried.get("CallHistoryView", top=3000)
            assert len(client.get("CallHistoryView", top=3000)["value"]) == 3000


def test_async_with_options_max_retries_0_sends_once() -> None:
    config = small_config(faults=FaultSpec(error_503=1.0))

    async def go(url: str, cid: str, secret: str) -> tuple[int, int]:
        policy = py3cx.RetryPolicy(max_retries=2, initial_delay=0.01)
        async with py3cx.AsyncClient(url, cid, secret, retry_policy=policy) as client:
            once = client.with_options(max_retries=0)
            before = _xapi_requests(url)
            with pytest.raises(py3cx.ServiceUnavailableError):
                await once.get("Users", top=1)
            middle = _xapi_requests(url)
            with pytest.raises(py3cx.ServiceUnavailableError):
                await client.get("Users", top=1)
            await once.close()
            return middle - before, _xapi_requests(url) - middle

    with running_emulator(config) as emu:
        owner = owner_of(emu)
        assert asyncio.run(go(emu.url, owner.client_id, owner.secret)) == (1, 3)


def test_the_token_fetch_follows_the_clients_policy_and_never_retries_a_500() -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    calls = {"n": 0}

    async def token(_request: object) -> JSONResponse:
        calls["n"] += 1
        return JSONResponse({"error": "server_error"}, status_code=500 if calls["n"] == 1 else 503)

    app = Starlette(routes=[Route("/connect/token", token, methods=["POST"])])
    from .emulated import serving

    with serving(app) as url:
        client = py3cx.Client(
            url, "id", "s3cret", retry_policy=py3cx.RetryPolicy(max_retries=3, initial_delay=0.01)
        )
        with client:
            with pytest.raises(py3cx.TokenError):
                client.token()
            assert calls["n"] == 1  # a 500 is final
            with pytest.raises(py3cx.TokenError):
                client.token()
            assert calls["n"] == 1 + 4  # 503: the first try and max_retries=3 more
