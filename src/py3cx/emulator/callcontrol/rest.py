"""The Call Control REST API of the emulator (BEHAVIOUR.md §6), limited to what a route point sees.

Refused actions answer with a `CallControlResult` carrying `reasontext` (400, or 404 for a
participant that is gone); authentication and visibility errors use the XAPI error shape.
"""

from __future__ import annotations

import array
import asyncio
import json
import math
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from py3cx.emulator.callcontrol.context import CallControlContext
from py3cx.emulator.callcontrol.switchboard import Refused
from py3cx.emulator.errors import XapiError

__all__ = ["rest_routes", "tone"]

Handler = Callable[[Request, str], Awaitable[Response]]
_CHUNK_SECONDS = 0.02


def tone(frequency: float = 440.0, seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A sine tone as 16-bit little-endian mono PCM. Example: `len(tone(seconds=0.02)) == 320`"""
    samples = array.array(
        "h", (int(8000 * math.sin(2 * math.pi * frequency * i / rate)) for i in range(int(seconds * rate)))
    )
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


_TONE = tone()


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise Refused("the body is not JSON") from None
    if not isinstance(data, dict):
        raise Refused("the body must be a JSON object")
    return data


def rest_routes(ctx: CallControlContext) -> list[BaseRoute]:
    """The `/callcontrol` REST routes bound to one emulator's context."""
    sb = ctx.switchboard

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                route_point = ctx.route_point(request)
                dn = request.path_params.get("dn")
                if dn is not None:
                    ctx.check_dn(route_point, dn)
                return await handler(request, route_point)
            except XapiError as err:
                return err.response()
            except Refused as refused:
                return ctx.refusal(refused)

        return run

    def participant_of(request: Request) -> int:
        dn, pid = request.path_params["dn"], int(request.path_params["pid"])
        leg = sb.participants.get(pid)
        if leg is None or leg.dn != dn:
            raise XapiError(404, f"Participant {pid} not found.")
        return pid

    def controlled(request: Request) -> int:
        try:
            return participant_of(request)
        except XapiError:
            raise Refused("participant not found (the call may have ended)", status=404) from None

    async def list_dns(request: Request, route_point: str) -> Response:
        return JSONResponse([sb.dn_info(dn) for dn in sorted(ctx.visible(route_point))])

    async def get_dn(request: Request, route_point: str) -> Response:
        return JSONResponse(sb.dn_info(request.path_params["dn"]))

    async def list_devices(request: Request, route_point: str) -> Response:
        return JSONResponse([d.to_wire() for d in sb.dns[request.path_params["dn"]].devices])

    async def get_device(request: Request, route_point: str) -> Response:
        wanted = request.path_params["deviceid"]
        for device in sb.dns[request.path_params["dn"]].devices:
            if device.device_id == wanted:
                return JSONResponse(device.to_wire())
        raise XapiError(404, "Device not found.")

    async def make_call(request: Request, route_point: str) -> Response:
        dn = request.path_params["dn"]
        body = await _body(request)
        destination = str(body.get("destination") or "")
        if sb.dns[dn].type not in ("Wextension", "Wroutepoint"):
            raise Refused(f"calls cannot be made from a {sb.dns[dn].type} DN")
        leg = sb.place_call(dn, destination, device_id=request.path_params.get("deviceid"))
        if leg is not None and body.get("attacheddata") is not None:
            sb.attach_data(leg.id, body["attacheddata"])
        return ctx.result(leg)

    async def list_participants(request: Request, route_point: str) -> Response:
        return JSONResponse([p.to_wire() for p in sb.participants_of(request.path_params["dn"])])

    async def get_participant(request: Request, route_point: str) -> Response:
        return JSONResponse(sb.participants[participant_of(request)].to_wire())

    async def control(request: Request, route_point: str) -> Response:
        pid = controlled(request)
        dn, action = request.path_params["dn"], request.path_params["action"]
        body = await _body(request)
        destination = str(body.get("destination") or "")
        if action in ("divert", "routeto", "transferto") and not destination:
            raise Refused(f"{action} needs a destination")
        if action == "drop":
            leg = sb.drop(pid, dn)
        elif action == "answer":
            leg = sb.answer(pid, dn)
        elif action == "divert":
            leg = sb.divert(pid, destination, dn)
        elif action == "routeto":
            leg = sb.route_to(pid, destination, dn)
        elif action == "transferto":
            leg = sb.transfer_to(pid, destination, dn)
        elif action == "attach_participant_data":
            leg = sb.attach_data(pid, body.get("attacheddata"), dn)
        else:
            raise XapiError(404, f"Unknown participant action {action!r}.")
        return ctx.result(leg)

    async def audio_out(request: Request, route_point: str) -> Response:
        pid = participant_of(request)
        chunk = int(16000 * _CHUNK_SECONDS)

        async def pcm() -> AsyncIterator[bytes]:
            position = 0
            while pid in sb.participants:
                yield _TONE[position : position + chunk]
                position = (position + chunk) % len(_TONE)
                await asyncio.sleep(_CHUNK_SECONDS if ctx.settings.realtime_audio else _CHUNK_SECONDS / 10)

        return StreamingResponse(pcm(), media_type="application/octet-stream")

    async def audio_in(request: Request, route_point: str) -> Response:
        pid = participant_of(request)
        received = 0
        async for piece in request.stream():
            received += len(piece)
        ctx.audio_received[pid] = ctx.audio_received.get(pid, 0) + received
        sb.playback_finished(pid)
        return Response(status_code=200)

    base = "/callcontrol/{dn}"
    part = base + "/participants/{pid:int}"
    return [
        Route("/callcontrol", endpoint(list_dns), methods=["GET"]),
        Route(base, endpoint(get_dn), methods=["GET"]),
        Route(base + "/devices", endpoint(list_devices), methods=["GET"]),
        Route(base + "/makecall", endpoint(make_call), methods=["POST"]),
        Route(base + "/devices/{deviceid:path}/makecall", endpoint(make_call), methods=["POST"]),
        Route(base + "/devices/{deviceid:path}", endpoint(get_device), methods=["GET"]),
        Route(base + "/participants", endpoint(list_participants), methods=["GET"]),
        Route(part, endpoint(get_participant), methods=["GET"]),
        Route(part + "/stream", endpoint(audio_out), methods=["GET"]),
        Route(part + "/stream", endpoint(audio_in), methods=["POST"]),
        Route(part + "/{action}", endpoint(control), methods=["POST"]),
    ]
