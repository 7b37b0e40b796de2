"""Loopback-only control routes for tests, demos and the benchmark: `/_emulator/callcontrol/...`.

They play the phones and the outside world: start a call, answer it, press keys, hang up,
change the settings (call rate, faults), drop every WebSocket now, and tell the truth about
what a route point should see and which calls happened.

| method | path | body | does |
|---|---|---|---|
| GET | `/_emulator/callcontrol` | | counters and settings |
| POST | `/_emulator/callcontrol/settings` | any settings field | changes them |
| GET | `/_emulator/callcontrol/truth?route_point=DN` | | what `GET /callcontrol` must show |
| GET | `/_emulator/callcontrol/calls` | | every live and ended call, with its participants |
| POST | `/_emulator/callcontrol/calls` | `{"from", "to", "auto"?, "device_id"?}` | starts a call |
| POST | `/_emulator/callcontrol/calls/{id}/answer` | `{"dn"?}` | a ringing phone (or the far end) answers |
| POST | `/_emulator/callcontrol/calls/{id}/transfer` | `{"to"}` | the connected DN blind-transfers |
| POST | `/_emulator/callcontrol/calls/{id}/end` | | everyone hangs up |
| POST | `/_emulator/callcontrol/participants/{id}/dtmf` | `{"digits"}` | the participant presses keys |
| POST | `/_emulator/callcontrol/drop-sockets` | | closes every event WebSocket now |
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from py3cx.emulator.callcontrol.context import CallControlContext, is_loopback
from py3cx.emulator.callcontrol.switchboard import Call, Refused

__all__ = ["call_summary", "control_routes"]


def call_summary(call: Call) -> dict[str, Any]:
    """A call as the control routes report it: ends, timings and every participant it had."""
    return {
        "callid": call.callid,
        "from": call.caller.number,
        "to": call.callee.number,
        "status": call.status,
        "queue": call.queue,
        "answered_by": call.answered_by,
        "abandoned": call.abandoned,
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "participants": [{"dn": p.dn, "id": p.id, "status": p.status} for p in call.history],
        "live_participants": sorted(call.participants),
    }


def control_routes(ctx: CallControlContext) -> list[BaseRoute]:
    """The loopback-only control routes bound to one emulator's context."""
    sb = ctx.switchboard

    def endpoint(handler: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            if not is_loopback(request):
                return JSONResponse({"error": "control routes answer loopback clients only"}, status_code=403)
            try:
                body = await handler(request)
            except Refused as refused:
                return JSONResponse({"error": refused.reason}, status_code=refused.status)
            except (ValueError, KeyError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            ctx.recorder.flush()  # tests read ActiveCalls/CallHistoryView right after
            return JSONResponse(body)

        return run

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    def call_of(request: Request) -> Call:
        call = sb.calls.get(int(request.path_params["callid"]))
        if call is None:
            raise Refused("call not found (it may have ended)", status=404)
        return call

    async def overview(request: Request) -> Any:
        return {
            "settings": ctx.settings.to_dict(),
            "calls_active": len(sb.calls),
            "calls_ended": len(sb.ended),
            "calls_simulated": ctx.simulator.started,
            "calls_recorded": ctx.recorder.recorded,
            "events_emitted": sb.events_emitted,
            "websockets": len(ctx.connections),
            "audio_received": {str(k): v for k, v in ctx.audio_received.items()},
        }

    async def settings(request: Request) -> Any:
        ctx.settings.update(await body_of(request))
        for route_point, dns in ctx.settings.monitored.items():
            if route_point in sb.dns:
                sb.dns[route_point].monitored = list(dns)
        return ctx.settings.to_dict()

    async def truth(request: Request) -> Any:
        route_point = request.query_params.get("route_point", "")
        return [sb.dn_info(dn) for dn in sorted(sb.visible_dns(route_point))]

    async def calls(request: Request) -> Any:
        return {
            "active": [call_summary(c) for c in sb.calls.values()],
            "ended": [call_summary(c) for c in sb.ended],
        }

    async def start(request: Request) -> Any:
        body = await body_of(request)
        source, destination = str(body["from"]), str(body["to"])
        if body.get("auto"):
            call = ctx.simulator.start_auto_call(source, destination)
        else:
            call, _ = sb.start_call(source, destination, device_id=body.get("device_id"))
        return call_summary(call)

    async def answer(request: Request) -> Any:
        call = call_of(request)
        wanted = (await body_of(request)).get("dn")
        ringing = [p for p in call.participants.values() if p.status == "Ringing"]
        ringing = [p for p in ringing if (p.dn == wanted if wanted else sb.dns[p.dn].type == "Wextension")]
        if ringing:
            sb.answer(ringing[0].id)
        elif call.callee.dn is None and not wanted:
            sb.answer_far_end(call.callid)
        else:
            raise Refused("no phone of this call is ringing" + (f" at {wanted}" if wanted else ""))
        return call_summary(call)

    async def transfer(request: Request) -> Any:
        call = call_of(request)
        destination = str((await body_of(request))["to"])
        connected = [p for p in call.participants.values() if p.status == "Connected"]
        if not connected:
            raise Refused("nobody in this call is connected")
        sb.transfer_to(connected[-1].id, destination)
        return call_summary(call)

    async def end(request: Request) -> Any:
        return call_summary(sb.end_call(call_of(request).callid))

    async def dtmf(request: Request) -> Any:
        digits = str((await body_of(request))["digits"])
        leg = sb.send_dtmf(int(request.path_params["pid"]), digits)
        return {"dn": leg.dn, "id": leg.id, "digits": digits}

    async def drop_sockets(request: Request) -> Any:
        sockets = list(ctx.connections)
        for socket in sockets:
            socket.dropped.set()
        return {"dropped": len(sockets)}

    prefix = "/_emulator/callcontrol"
    return [
        Route(prefix, endpoint(overview), methods=["GET"]),
        Route(prefix + "/settings", endpoint(settings), methods=["POST"]),
        Route(prefix + "/truth", endpoint(truth), methods=["GET"]),
        Route(prefix + "/calls", endpoint(calls), methods=["GET"]),
        Route(prefix + "/calls", endpoint(start), methods=["POST"]),
        Route(prefix + "/calls/{callid:int}/answer", endpoint(answer), methods=["POST"]),
        Route(prefix + "/calls/{callid:int}/transfer", endpoint(transfer), methods=["POST"]),
        Route(prefix + "/calls/{callid:int}/end", endpoint(end), methods=["POST"]),
        Route(prefix + "/participants/{pid:int}/dtmf", endpoint(dtmf), methods=["POST"]),
        Route(prefix + "/drop-sockets", endpoint(drop_sockets), methods=["POST"]),
    ]
