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
