"""A stream that never connected gives up after `first_attempts` (a wrong URL is an error, not a
silent wait), on both faces; one that connected once keeps reconnecting."""

from __future__ import annotations

import asyncio

import pytest

import py3cx
from py3cx.callcontrol.stream import StreamOptions

FAST = {"backoff_initial": 0.01, "backoff_max": 0.02}


def test_the_async_stream_gives_up_on_a_pbx_that_is_not_there() -> None:
    async def go() -> None:
        async with py3cx.AsyncClient("http://127.0.0.1:9", "8000", "s3cret", max_retries=0) as client:
            stream = client.callcontrol.events(options=StreamOptions(first_attempts=2, **FAST))
            async with stream:
                with pytest.raises(py3cx.APIConnectionError, match=r"127\.0\.0\.1:9"):
                    await asyncio.wait_for(stream.__anext__(), 30)
            assert stream.stats.drops == 3  # the first try and two more

    asyncio.run(go())


def test_the_sync_stream_gives_up_on_a_pbx_that_is_not_there() -> None:
    with py3cx.Client("http://127.0.0.1:9", "8000", "s3cret", max_retries=0) as client:
        stream = client.callcontrol.events(options=StreamOptions(first_attempts=1, **FAST))
        with stream, pytest.raises(py3cx.APIConnectionError, match="gave up reconnecting"):
            next(iter(stream))


def test_a_wrong_secret_ends_the_stream_with_the_token_error_on_both_faces() -> None:
    """The token request is refused (401 invalid_client): the stream ends with that TokenError at
    once; it used to die in its background task and leave the reader waiting forever."""
    from py3cx.emulator import ApiClient, EmulatorConfig, running_emulator

    route_point = ApiClient("8000", "the-right-s3cret-value", "SystemOwner")
    with running_emulator(EmulatorConfig(seed=3, calls=5, clients=[route_point])) as emu:

        async def go() -> None:
            async with py3cx.AsyncClient(emu.url, "8000", "a-wrong-s3cret-value") as client:
                stream = client.callcontrol.events(options=StreamOptions(**FAST))
                async with stream:
                    with pytest.raises(py3cx.TokenError, match="invalid_client"):
                        await asyncio.wait_for(stream.__anext__(), 30)

        asyncio.run(go())
        with py3cx.Client(emu.url, "8000", "a-wrong-s3cret-value") as client:
            stream = client.callcontrol.events(options=StreamOptions(**FAST))
            with stream, pytest.raises(py3cx.TokenError, match="invalid_client"):
                next(iter(stream))
