"""`GET /callcontrol/ws`: the event WebSocket of the emulator.

The server pushes `{"sequence": n, "event": {"event_type", "entity", "attached_data"}}` for the
DNs the route point sees; `sequence` counts from 1 on each connection. The client sends nothing
(anything it sends is ignored). Faults: `ws_drop_every` closes each socket that many seconds
after it opened (code 1011, as a crashed or restarted PBX service would), `event_delay`
holds every event back before sending it, and `lose_every` skips every Nth event.
A handshake with a bad token is refused with 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from py3cx.emulator.callcontrol.context import CallControlContext
from py3cx.emulator.errors import XapiError

__all__ = ["EventSocket", "websocket_routes"]

DROP_CODE = 1011


class EventSocket:
    """One connected WebSocket, as an `EventListener` of the switchboard."""

    def __init__(self, visible: frozenset[str]) -> None:
        self.visible = visible
        self.outbox: asyncio.Queue[tuple[float, int, str, Any]] = asyncio.Queue()
        self.sent = 0
        self.dropped = asyncio.Event()  # set by the control route to drop this socket now

    def deliver(self, event_type: int, entity: str, attached_data: Any) -> None:
        self.outbox.put_nowait((time.monotonic(), event_type, entity, attached_data))

    async def pump(self, websocket: WebSocket, ctx: CallControlContext) -> None:
        sequence = 0
        while True:
            emitted, event_type, entity, attached = await self.outbox.get()
            delay = ctx.settings.event_delay
            if delay > 0:
                wait = emitted + delay - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            sequence += 1
            lose = ctx.settings.lose_every
            if lose and sequence % lose == 0:
                continue  # lost on the way: the client sees a gap in `sequence`
            envelope: dict[str, Any] = {
                "sequence": sequence,
                "event": {"event_type": event_type, "entity": entity, "attached_data": attached},
            }
            if ctx.settings.stamp_events:
                envelope["emitted_at"] = emitted
            await websocket.send_text(json.dumps(envelope, separators=(",", ":")))
            self.sent += 1


async def _refuse(websocket: WebSocket, err: XapiError) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(Response(status_code=err.status, headers=err.headers))
    else:
        await websocket.close(code=1008)  # the server answers the handshake with 403


def websocket_routes(ctx: CallControlContext) -> list[BaseRoute]:
    """The `/callcontrol/ws` route bound to one emulator's context."""

    async def events(websocket: WebSocket) -> None:
        try:
            route_point = ctx.route_point(websocket)
        except XapiError as err:
            await _refuse(websocket, err)
            return
        await websocket.accept()
        socket = EventSocket(ctx.visible(route_point))
        ctx.switchboard.listeners.add(socket)
        ctx.connections.add(socket)

        async def drain_incoming() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        return

        tasks = [
            asyncio.ensure_future(socket.pump(websocket, ctx)),
            asyncio.ensure_future(drain_incoming()),
            asyncio.ensure_future(socket.dropped.wait()),
        ]
        try:
            drop_after = ctx.settings.ws_drop_every
            _done, _pending = await asyncio.wait(
                tasks, timeout=drop_after, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            ctx.switchboard.listeners.discard(socket)
            ctx.connections.discard(socket)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await websocket.close(code=DROP_CODE)

    return [WebSocketRoute("/callcontrol/ws", events)]
