"""Pure request building for the Call Control REST API (BEHAVIOUR.md §6): paths and bodies.

Both faces (`CallControl`, `AsyncCallControl`) build every request here, so they cannot drift
apart. DNs and device ids are percent-encoded: a device id is a SIP URI (`sip:100@10.0.0.5:5060`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from py3cx.callcontrol.models import ParticipantAction

__all__ = [
    "ROOT",
    "WS_PATH",
    "ActionRequest",
    "action_request",
    "device_path",
    "dn_path",
    "make_call_request",
    "participant_path",
    "stream_path",
]

ROOT = "/callcontrol"
WS_PATH = "/callcontrol/ws"


def _segment(value: str | int) -> str:
    text = str(value)
    if not text:
        raise ValueError("an empty DN, device id or participant id cannot be part of a path")
    return quote(text, safe="")


def dn_path(dn: str) -> str:
    """`/callcontrol/{dn}`. Raises ValueError for an empty DN. Example: `dn_path("100")`"""
    return f"{ROOT}/{_segment(dn)}"


def device_path(dn: str, device_id: str | None = None) -> str:
    """`/callcontrol/{dn}/devices[/{deviceid}]` with the SIP URI percent-encoded.

    Example: `device_path("100", "sip:100@pbx")` == `"/callcontrol/100/devices/sip%3A100%40pbx"`
    """
    base = f"{dn_path(dn)}/devices"
    return base if device_id is None else f"{base}/{_segment(device_id)}"


def participant_path(dn: str, participant_id: int | None = None) -> str:
    """`/callcontrol/{dn}/participants[/{id}]`. Example: `participant_path("100", 7)`"""
    base = f"{dn_path(dn)}/participants"
    return base if participant_id is None else f"{base}/{_segment(participant_id)}"


def stream_path(dn: str, participant_id: int) -> str:
    """The audio stream of a participant. Example: `stream_path("800", 7)`"""
    return f"{participant_path(dn, participant_id)}/stream"


@dataclass(frozen=True)
class ActionRequest:
    """A POST to send: where, and the JSON body."""

    path: str
    body: dict[str, Any]


def _body(
    destination: str | None = None,
    reason: str | None = None,
    timeout: int | None = None,
    attached_data: Any = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if destination is not None:
        body["destination"] = destination
    if reason is not None:
        body["reason"] = reason
    if timeout is not None:
        body["timeout"] = timeout
    if attached_data is not None:
        body["attacheddata"] = attached_data
    return body


def make_call_request(
    dn: str,
    destination: str,
    *,
    device_id: str | None = None,
    timeout: int | None = None,
    attached_data: Any = None,
) -> ActionRequest:
    """`POST /callcontrol/{dn}[/devices/{deviceid}]/makecall`.

    Raises ValueError when the destination is empty.
    Example: `make_call_request("100", "+4930123456", device_id="sip:100@pbx")`
    """
    if not destination:
        raise ValueError("makecall needs a destination")
    base = dn_path(dn) if device_id is None else device_path(dn, device_id)
    return ActionRequest(
        f"{base}/makecall", _body(destination=destination, timeout=timeout, attached_data=attached_data)
    )


_NEEDS_DESTINATION = {ParticipantAction.DIVERT, ParticipantAction.ROUTE_TO, ParticipantAction.TRANSFER_TO}


def action_request(
    dn: str,
    participant_id: int,
    action: ParticipantAction | str,
    *,
    destination: str | None = None,
    reason: str | None = None,
    timeout: int | None = None,
    attached_data: Any = None,
) -> ActionRequest:
    """`POST /callcontrol/{dn}/participants/{id}/{action}`.

    Raises ValueError for an unknown action, or a divert/routeto/transferto without destination.
    Example: `action_request("800", 7, "routeto", destination="101")`
    """
    try:
        kind = ParticipantAction(action)
    except ValueError:
        known = ", ".join(a.value for a in ParticipantAction)
        raise ValueError(f"unknown participant action {action!r}: use one of {known}") from None
    if kind in _NEEDS_DESTINATION and not destination:
        raise ValueError(f"{kind.value} needs a destination")
    if kind is ParticipantAction.ATTACH_DATA and attached_data is None:
        raise ValueError("attach_participant_data needs attached_data")
    return ActionRequest(
        f"{participant_path(dn, participant_id)}/{kind.value}",
        _body(destination=destination, reason=reason, timeout=timeout, attached_data=attached_data),
    )
