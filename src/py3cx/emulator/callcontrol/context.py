"""What the Call Control routes share: the switchboard, settings, simulator, recorder, sockets,
and the rules for who may see what."""

from __future__ import annotations

import ipaddress
import weakref
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from py3cx.emulator.callcontrol.records import CallRecorder
from py3cx.emulator.callcontrol.settings import CallControlSettings
from py3cx.emulator.callcontrol.simulator import CallSimulator
from py3cx.emulator.callcontrol.switchboard import Participant, Refused, Switchboard
from py3cx.emulator.errors import XapiError
from py3cx.emulator.licence import refuse as refuse_unlicensed

__all__ = ["CallControlContext", "context_for", "is_loopback"]

_FINAL = {"string": ("Success", "Failed"), "int": (1, -1)}
_CONTEXTS: weakref.WeakKeyDictionary[Any, CallControlContext] = weakref.WeakKeyDictionary()


def is_loopback(connection: HTTPConnection) -> bool:
    """True for requests from this machine (the control routes answer nobody else)."""
    host = connection.client.host if connection.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


@dataclass(eq=False)
class CallControlContext:
    """The emulated Call Control of one emulator."""

    state: Any
    settings: CallControlSettings
    switchboard: Switchboard
    simulator: CallSimulator
    recorder: CallRecorder
    connections: set[Any] = field(default_factory=set)
    audio_received: dict[int, int] = field(default_factory=dict)

    def route_point(self, connection: HTTPConnection) -> str:
        """The route point DN behind a request's token.

        Raises XapiError 401 (bad token) or 403 (an API client without Call Control access).
        """
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise XapiError(401, headers={"WWW-Authenticate": "Bearer"}, body={})
        identity = self.state.tokens.verify(token.strip())
        refuse_unlicensed(self.state.config, identity.kind, None)
        kind, _, name = str(identity.principal).partition(":")
        dn = self.switchboard.dns.get(name)
        if kind != "client" or dn is None or dn.type != "Wroutepoint":
            raise XapiError(
                403,
                "This API client has no Call Control access: its id must be a route point DN "
                "(Admin > Integrations > API > 3CX Call Control API access).",
            )
        return name

    def visible(self, route_point: str) -> frozenset[str]:
        return self.switchboard.visible_dns(route_point)

    def check_dn(self, route_point: str, dn: str) -> None:
        """Raises XapiError 404 for an unknown DN and 403 for one this route point does not monitor."""
        if dn not in self.switchboard.dns:
            raise XapiError(404, f"DN {dn} not found.")
        if dn not in self.visible(route_point):
            raise XapiError(403, f"DN {dn} is not monitored by route point {route_point}.")

    def result(self, participant: Participant | None) -> Response:
        """A successful `CallControlResult`."""
        body: dict[str, Any] = {
            "finalstatus": _FINAL[self.settings.finalstatus_style][0],
            "reason": "Success",
        }
        if participant is not None:
            body["result"] = participant.to_wire()
        return JSONResponse(body)

    def refusal(self, refused: Refused) -> Response:
        """A failed `CallControlResult` with `reasontext`, under the refusal's status."""
        body = {
            "finalstatus": _FINAL[self.settings.finalstatus_style][1],
            "reason": "NotFound" if refused.status == 404 else "InvalidState",
            "reasontext": refused.reason,
        }
        return JSONResponse(body, status_code=refused.status)


def context_for(state: Any) -> CallControlContext | None:
    """The Call Control context of an emulator state (for in-process inspection), or None."""
    return _CONTEXTS.get(state)


def register_context(context: CallControlContext) -> None:
    _CONTEXTS[context.state] = context
