"""The wallboard web app: one page, fed by the Call Control event stream and pushed to browsers
over Server-Sent Events (no polling: a change reaches the page within a fraction of a second).

Routes: `/` (the page), `/static/...` (its script and style), `/api/board` (the current picture as
JSON), `/api/stream` (SSE: the picture again after every change, a comment every 15 s to keep
proxies from closing the connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from py3cx._exceptions import APIConnectionError, Py3cxError
from py3cx.callcontrol.stream import StreamOptions
from py3cx.wallboard.board import Board
from py3cx.wallboard.startup import load_starting_point

__all__ = ["create_app"]

log = logging.getLogger("py3cx.wallboard")

_HEARTBEAT = 15.0
_MIN_GAP = 0.1  # at most ten pictures a second per browser; bursts of events are merged


class _Feed:
    """Runs the event stream into the board and wakes the browsers' streams on every change."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.changed = asyncio.Condition()
        self.stream: Any = None
        self.error: str | None = None

    async def touch(self) -> None:
        self.board.version += 1
        async with self.changed:
            self.changed.notify_all()

    async def run(self, client: Any, dns: Iterable[str] | None, options: StreamOptions | None) -> None:
        try:
            await self._seed(client)
            # a board on a TV keeps trying: the PBX may come up after it (the console said so)
            options = options or StreamOptions(first_attempts=None)
            async with client.callcontrol.events(dns=dns, options=options) as stream:
                self.stream = stream
                self.board.state = stream.state
                async for event in stream:
                    self.board.apply(event)
                    await self.touch()
        except Py3cxError as exc:  # the PBX refused for good: say so on the page
            self.error = str(exc)
            log.error("wallboard event stream stopped: %s", exc)
            await self.touch()

    async def _seed(self, client: Any) -> None:
        try:
            self.board.seed(await load_starting_point(client, self.board.today()))
        except APIConnectionError as exc:  # the stream retries; the board counts from its start
            log.warning("wallboard starts without the PBX's data: %s", exc)

    async def watch_connection(self) -> None:
        # while it reconnects the stream yields nothing: watch its flag so the page can say so
        while True:
            connected = bool(self.stream is not None and self.stream.stats.connected)
            if connected != self.board.connected:
                self.board.connected = connected
                await self.touch()
            await asyncio.sleep(0.25)


def _page() -> str:
    return resources.files("py3cx.wallboard").joinpath("static/index.html").read_text(encoding="utf-8")


def create_app(
    client_factory: Callable[[], Any],
    *,
    dns: Iterable[str] | None = None,
    options: StreamOptions | None = None,
    title: str = "Call wallboard",
) -> Starlette:
    """The wallboard as an ASGI app; `client_factory()` makes the `py3cx.AsyncClient` it uses.

    Raises nothing at creation; a PBX that refuses the stream is shown on the page.
    Example: `create_app(lambda: py3cx.AsyncClient(url, "8000", secret))`
    """
    board = Board(state=_empty_state())
    feed = _Feed(board)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = client_factory()
        stream_task = asyncio.ensure_future(feed.run(client, dns, options))
        connected = asyncio.ensure_future(feed.watch_connection())
        try:
            yield
        finally:
            for task in (stream_task, connected):
                task.cancel()
            await asyncio.gather(stream_task, connected, return_exceptions=True)
            with contextlib.suppress(Exception):
                await client.close()

    def picture() -> dict[str, Any]:
        data = board.snapshot()
        data["title"] = title
        data["error"] = feed.error
        return data

    async def page(request: Request) -> Response:
        return HTMLResponse(_page().replace("{{title}}", title))

    async def board_json(request: Request) -> Response:
        return JSONResponse(picture())

    async def stream(request: Request) -> Response:
        async def pictures() -> AsyncIterator[str]:
            yield f"data: {json.dumps(picture())}\n\n"
            while True:
                async with feed.changed:
                    try:
                        await asyncio.wait_for(feed.changed.wait(), timeout=_HEARTBEAT)
                    except (TimeoutError, asyncio.TimeoutError):
                        yield ": still here\n\n"
                        continue
                await asyncio.sleep(_MIN_GAP)
                yield f"data: {json.dumps(picture())}\n\n"

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(pictures(), media_type="text/event-stream", headers=headers)

    static = StaticFiles(packages=[("py3cx.wallboard", "static")])
    routes = [
        Route("/", page),
        Route("/api/board", board_json),
        Route("/api/stream", stream),
        Mount("/static", app=static, name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _empty_state() -> Any:
    from py3cx.callcontrol.state import CallState

    return CallState()
