"""The event stream for sync code: the async stream runs on a private event loop in a thread.

The stream's fetches call the sync client from worker threads, so a script needs no asyncio.
Events reach the reading thread through a bounded queue (`StreamOptions.sync_queue_size`): when
it is full the pump waits, the async stream's own queue fills up to its `high_water`, and the
stream stops reading the socket. A slow reader therefore slows the stream; memory stays flat.

    with client.callcontrol.events() as events:
        for event in events:
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import ssl
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from py3cx.callcontrol.events import CallControlEvent
from py3cx.callcontrol.state import CallState
from py3cx.callcontrol.stream import EventStream, StreamOptions, StreamStats

__all__ = ["SyncEventStream", "ThreadedBackend"]

_DONE = object()


class ThreadedBackend:
    """A `StreamBackend` over a sync `py3cx.Client`: each call runs in a worker thread."""

    def __init__(self, client: Any, ws_url: str, ssl_context: ssl.SSLContext | None) -> None:
        self._client = client
        self.ws_url = ws_url
        self.ssl_context = ssl_context

    async def token(self) -> str:
        return str(await asyncio.to_thread(self._client.token))

    async def refresh_token(self) -> None:
        # A REST call that gets a 401 makes the client replace its token (and share it).
        await asyncio.to_thread(self._client.get, "/callcontrol")

    async def get(self, path: str) -> Any:
        return await asyncio.to_thread(self._client.get, path)


class SyncEventStream(Iterator[CallControlEvent]):
    """A blocking iterator of Call Control events; see `EventStream` for what it guarantees.

    Raises (from iteration) the stream's fatal error (AuthenticationError, PermissionDeniedError...).
    Example:
        with client.callcontrol.events() as events:
            for event in events:
                print(event.kind)
    """

    def __init__(
        self, backend: ThreadedBackend, state: CallState, options: StreamOptions | None = None
    ) -> None:
        self.state = state
        self._stream = EventStream(backend, state, options)
        self.queue_size = max(1, self._stream.options.sync_queue_size)
        self.queue_peak = 0  # the most events that ever waited for the reader at once
        self._items: queue.Queue[Any] = queue.Queue(maxsize=self.queue_size)
        self._loop = asyncio.new_event_loop()
        self._space = asyncio.Event()
        self._pump_waiting = False
        self._thread = threading.Thread(target=self._loop.run_forever, name="py3cx-events", daemon=True)
        self._finished = False
        self._thread.start()
        self._pump = asyncio.run_coroutine_threadsafe(self._forward(), self._loop)

    @property
    def stats(self) -> StreamStats:
        """The stream's counters (connections, drops, resyncs...)."""
        return self._stream.stats

    async def _forward(self) -> None:
        try:
            async for event in self._stream:
                await self._put(event)
        except Exception as exc:  # handed to the reading thread, which raises it
            await self._put(exc)
        finally:
            await self._put(_DONE)

    async def _put(self, item: Any) -> None:
        """Queue an item for the reader, waiting (without blocking the loop) while the queue is full."""
        while True:
            try:
                self._items.put_nowait(item)
            except queue.Full:
                self._space.clear()
                self._pump_waiting = True
                # the reader may have taken an item before it could see the flag: look again
                if self._items.full() and not self._finished:
                    await self._space.wait()
                self._pump_waiting = False
                if self._finished:
                    return  # closed while waiting: nobody reads any more
                continue
            self.queue_peak = max(self.queue_peak, self._items.qsize())
            return

    def _took(self) -> None:
        if self._pump_waiting:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(self._space.set)

    def get(self, timeout: float | None = None) -> CallControlEvent | None:
        """The next event, or None when none came within `timeout` seconds.

        Raises StopIteration when the stream has ended, or its fatal error.
        Example: `event = events.get(timeout=1.0)`
        """
        if self._finished:
            raise StopIteration
        try:
            item = self._items.get(timeout=timeout)
        except queue.Empty:
            return None
        self._took()
        if item is _DONE:
            self._finished = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        return item  # type: ignore[no-any-return]

    def __next__(self) -> CallControlEvent:
        while True:
            event = self.get(timeout=0.5)
            if event is not None:
                return event

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Block until connected and the state is loaded. Raises TimeoutError or the fatal error."""
        future = asyncio.run_coroutine_threadsafe(self._stream.wait_connected(timeout), self._loop)
        future.result(timeout + 1.0)

    def close(self) -> None:
        """Stop the stream and its thread. Example: `events.close()`"""
        if self._loop.is_closed():
            return
        if self._loop.is_running():
            self._finished = True
            self._loop.call_soon_threadsafe(self._space.set)  # a pump waiting for room gives up
            asyncio.run_coroutine_threadsafe(self._stream.aclose(), self._loop).result(10)
            with contextlib.suppress(Exception):
                self._pump.result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._finished = True

    def __enter__(self) -> SyncEventStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
