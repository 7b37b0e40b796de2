"""XAPI's own call primitives, wired to the simulated calls: `POST /Users/Pbx.MakeCall` starts one,
`POST /ActiveCalls({Id})/Pbx.DropCall` ends one (BEHAVIOUR.md §6, last line).

A DropCall for an `ActiveCalls` row that is not a simulated call (the seeded ones) falls back to
the core's handler, which deletes the row.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from py3cx.emulator.callcontrol.context import context_for
from py3cx.emulator.callcontrol.switchboard import Participant, Refused
from py3cx.emulator.errors import XapiError
from py3cx.emulator.registry import FunctionContext, lookup, xapi_action

__all__ = ["install"]


def _pascal(participant: Participant | None) -> dict[str, Any] | None:
    if participant is None:
        return None
    wire = {
        "Id": participant.id,
        "Status": participant.status,
        "DN": participant.dn,
        "PartyCallerName": participant.party_caller_name,
        "PartyDn": participant.party_dn,
        "PartyCallerId": participant.party_caller_id,
        "PartyDnType": participant.party_dn_type,
        "DeviceId": participant.device_id,
        "DirectControl": participant.direct_control,
        "CallId": participant.callid,
        "LegId": participant.legid,
    }
    return {k: v for k, v in wire.items() if v is not None}


def install() -> None:
    """Register the two handlers (idempotent: the core's DropCall is kept as the fallback once)."""
    core = lookup("ActiveCalls({Id})", "Pbx.DropCall")
    if core is None or getattr(core.handler, "__module__", "") == __name__:
        fallback = None if core is None else getattr(core.handler, "fallback", None)
    else:
        fallback = core.handler

    def drop_call(ctx: FunctionContext) -> Any:
        cc = context_for(ctx.state)
        if cc is not None and int(ctx.key) in cc.switchboard.calls:
            cc.switchboard.end_call(int(ctx.key))
            cc.recorder.flush()
            return None
        if fallback is None:
            raise XapiError(404, "Id:\nWARNINGS.XAPI.NOT_FOUND")
        return fallback(ctx)

    drop_call.fallback = fallback  # type: ignore[attr-defined]
    xapi_action("ActiveCalls({Id})", "Pbx.DropCall")(drop_call)

    @xapi_action("Users", "Pbx.MakeCall")
    def make_call(ctx: FunctionContext) -> Response:
        cc = context_for(ctx.state)
        if cc is None:
            raise XapiError(501, "Pbx.MakeCall needs the emulator's call simulator.")
        source = str(ctx.args.get("dn") or "")
        destination = str(ctx.args.get("destination") or "")
        if source not in cc.switchboard.dns:
            raise XapiError(404, "dn:\nWARNINGS.XAPI.NOT_FOUND")
        try:
            call = cc.simulator.start_auto_call(source, destination)
        except Refused as refused:
            # The spec allows only the OData error shape for a refusal.
            raise XapiError(refused.status, f"destination:\n{refused.reason}") from None
        leg = next((p for p in call.history if p.dn == source), None)
        body: dict[str, Any] = {"FinalStatus": "Success", "Reason": "Success", "ReasonText": ""}
        body["Result"] = _pascal(leg)
        return JSONResponse({k: v for k, v in body.items() if v is not None})
