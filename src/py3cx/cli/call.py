"""`3cx call`: place and control calls through the Call Control API.

The API client must be a Call Control client (its id is a route point DN); DNs are the route point
and the extensions it monitors. Participant ids come from `3cx call list DN` or `3cx events watch`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from py3cx.cli import output
from py3cx.cli.options import JsonOption, connect

call_app = typer.Typer(help="Place and control calls (Call Control API).", no_args_is_help=True)

PARTICIPANT_COLUMNS = ("id", "dn", "status", "party_caller_id", "party_caller_name", "callid", "device_id")

Dn = Annotated[str, typer.Argument(help="The DN the participant belongs to (an extension or route point).")]
Participant = Annotated[int, typer.Argument(help="The participant id (see `3cx call list DN`).")]
Destination = Annotated[str, typer.Argument(help="Where to send the call: an extension, queue or number.")]


def _show(result: Any, as_json: bool) -> None:
    data = result.to_wire()
    if output.json_mode(as_json):
        output.write_json(data)
        return
    leg = data.get("result") or {}
    output.info(
        f"{data.get('finalstatus', 'done')}: participant {leg.get('id', '-')} is {leg.get('status', '-')}"
    )


@call_app.command("make")
def make(
    source: Annotated[str, typer.Argument(help="The DN that calls (an extension or the route point).")],
    destination: Destination,
    device: Annotated[
        str | None, typer.Option("--device", help="Ring this device of the DN first (its SIP URI).")
    ] = None,
    timeout: Annotated[int | None, typer.Option("--timeout", help="Seconds to let it ring.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Call DESTINATION from SOURCE (`3cx call make 100 +4930123456`)."""
    with connect() as client:
        _show(client.callcontrol.make_call(source, destination, device_id=device, timeout=timeout), as_json)


@call_app.command("answer")
def answer(dn: Dn, participant: Participant, as_json: JsonOption = False) -> None:
    """Answer a ringing participant."""
    with connect() as client:
        _show(client.callcontrol.answer(dn, participant), as_json)


@call_app.command("drop")
def drop(dn: Dn, participant: Participant, as_json: JsonOption = False) -> None:
    """Hang up a participant."""
    with connect() as client:
        _show(client.callcontrol.drop(dn, participant), as_json)


@call_app.command("divert")
def divert(dn: Dn, participant: Participant, destination: Destination, as_json: JsonOption = False) -> None:
    """Send a ringing call to DESTINATION instead."""
    with connect() as client:
        _show(client.callcontrol.divert(dn, participant, destination), as_json)


@call_app.command("transfer")
def transfer(dn: Dn, participant: Participant, destination: Destination, as_json: JsonOption = False) -> None:
    """Blind-transfer a connected call to DESTINATION."""
    with connect() as client:
        _show(client.callcontrol.transfer_to(dn, participant, destination), as_json)


@call_app.command("route")
def route(
    dn: Dn,
    participant: Participant,
    destination: Destination,
    timeout: Annotated[
        int | None, typer.Option("--timeout", help="Seconds to let the destination ring.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Ring DESTINATION for a route point's call; the route point keeps it until answered."""
    with connect() as client:
        _show(client.callcontrol.route_to(dn, participant, destination, timeout=timeout), as_json)


@call_app.command("list")
def list_participants(
    dn: Annotated[str | None, typer.Argument(help="Only this DN (default: every visible DN).")] = None,
    as_json: JsonOption = False,
) -> None:
    """The participants (call legs) on the visible DNs now."""
    with connect() as client:
        infos = [client.callcontrol.dn(dn)] if dn else client.callcontrol.dns()
        rows = [p.to_wire() for info in infos for p in info.participants]
    output.emit(rows, as_json=as_json, columns=PARTICIPANT_COLUMNS, title="Participants")
    output.info(f"{len(rows)} participants on {len(infos)} DNs")


@call_app.command("dns")
def list_dns(as_json: JsonOption = False) -> None:
    """The DNs this Call Control client can see (its route point and the monitored DNs)."""
    with connect() as client:
        infos = client.callcontrol.dns()
    rows = [
        {"dn": i.dn, "type": i.type, "devices": len(i.devices), "participants": len(i.participants)}
        for i in infos
    ]
    output.emit(rows, as_json=as_json, title="Call Control DNs")


def register(app: typer.Typer) -> None:
    """Add `3cx call` to the command line."""
    app.add_typer(call_app, name="call")
