"""Functions and actions about DNs and people, answered from the emulator's data.

- ``GetFirstAvailable…Number()`` (extensions, hot desks, queues, ring groups, IVRs, trunks):
  ``{"Number": "130"}`` (``Pbx.FirstAvailableNumber``), the lowest number of the set's range
  that no DN, department or API client uses (``directory.NUMBER_RANGES``): extensions and hot
  desks from 100, queues, ring groups and IVRs from 800 (3CX's defaults), trunks from 10000.
  A create without a ``Number`` gets the same number (``writes.create_entity``);
- ``Peers`` functions: ``RetreivePeersByNumbers`` (the spec's spelling), ``GetPeerByNumber``
  (20.0.4);
- duplicated e-mail checks: ``Users({Id})/Pbx.HasDuplicatedEmail()``, ``Users/Pbx.GetDuplicatedEmails``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from . import directory, errors
from .registry import FunctionContext, xapi_action, xapi_function

__all__ = ["first_available_number"]


def first_available_number(ctx: FunctionContext, set_name: str) -> dict[str, Any]:
    """``{"Number": N}``: the lowest free number of a DN set's range (``directory.NUMBER_RANGES``).

    Raises XapiError(400) when the range is full. Example: ``first_available_number(ctx, "Users")``.
    """
    with ctx.state.engine.connect() as conn:
        return {"Number": directory.first_free_number(ctx.state, conn, set_name)}


@xapi_function("Users", "Pbx.GetFirstAvailableExtensionNumber")
def first_available_extension(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Users/Pbx.GetFirstAvailableExtensionNumber()`` → ``{"Number": "130"}``."""
    return first_available_number(ctx, "Users")


@xapi_function("Users", "Pbx.GetFirstAvailableHotdeskingNumber")
def first_available_hot_desk(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Users/Pbx.GetFirstAvailableHotdeskingNumber()``: hot desks are extensions too."""
    return first_available_number(ctx, "Users")


@xapi_function("Queues", "Pbx.GetFirstAvailableQueueNumber")
def first_available_queue(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Queues/Pbx.GetFirstAvailableQueueNumber()`` → ``{"Number": "804"}``."""
    return first_available_number(ctx, "Queues")


@xapi_function("RingGroups", "Pbx.GetFirstAvailableRingGroupNumber")
def first_available_ring_group(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /RingGroups/Pbx.GetFirstAvailableRingGroupNumber()``."""
    return first_available_number(ctx, "RingGroups")


@xapi_function("Receptionists", "Pbx.GetFirstAvailableReceptionistNumber")
def first_available_receptionist(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Receptionists/Pbx.GetFirstAvailableReceptionistNumber()``."""
    return first_available_number(ctx, "Receptionists")


@xapi_function("Trunks", "Pbx.GetFirstAvailableTrunkNumber")
def first_available_trunk(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Trunks/Pbx.GetFirstAvailableTrunkNumber()`` → ``{"Number": "10003"}``."""
    return first_available_number(ctx, "Trunks")


def _peers(ctx: FunctionContext, numbers: list[str] | None) -> list[dict[str, Any]]:
    directory.refresh_peers(ctx.state)
    peers = ctx.state.tables["Peers"]
    query = sa.select(peers.table).order_by(peers.table.c.Id)
    if numbers is not None:
        query = query.where(peers.table.c.Number.in_(numbers))
    names = [p.name for p in peers.scalar_props]
    with ctx.state.engine.connect() as conn:
        return [peers.to_wire(row, names) for row in conn.execute(query).mappings()]


@xapi_action("Peers", "Pbx.RetreivePeersByNumbers")
def peers_by_numbers(ctx: FunctionContext) -> list[dict[str, Any]]:
    """``POST /Peers/Pbx.RetreivePeersByNumbers {"peersRequest": {"DnNumbers": [...]}}``: those DNs."""
    request = ctx.args.get("peersRequest") or {}
    numbers = request.get("DnNumbers") if isinstance(request, dict) else None
    if numbers is None:
        return []  # no numbers asked for, no peers
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        raise errors.bad_request("peersRequest:\nDnNumbers must be a list of numbers.")
    return _peers(ctx, numbers)


@xapi_function("Peers", "Pbx.GetPeerByNumber")
def peer_by_number(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Peers/Pbx.GetPeerByNumber(number='100')`` (20.0.4; later builds: ``Peers(Number='100')``)."""
    found = _peers(ctx, [ctx.args["number"]])
    if not found:
        raise errors.not_found("number")
    return found[0]


def _emails(ctx: FunctionContext) -> list[tuple[int, str]]:
    users = ctx.state.tables["Users"].table
    with ctx.state.engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.Id, users.c.EmailAddress)).all()
    return [(row[0], str(row[1]).casefold()) for row in rows if row[1]]


@xapi_function("Users({Id})", "Pbx.HasDuplicatedEmail")
def has_duplicated_email(ctx: FunctionContext) -> dict[str, Any]:
    """``GET /Users(5)/Pbx.HasDuplicatedEmail()``: ``{"value": true}`` when another user has the same e-mail."""
    users = ctx.state.tables["Users"].table
    with ctx.state.engine.connect() as conn:
        row = conn.execute(sa.select(users.c.EmailAddress).where(users.c.Id == ctx.key)).first()
    if row is None:
        raise errors.not_found("Id")
    own = str(row[0]).casefold() if row[0] else None
    return {"value": own is not None and any(e == own and i != ctx.key for i, e in _emails(ctx))}


@xapi_action("Users", "Pbx.GetDuplicatedEmails")
def duplicated_emails(ctx: FunctionContext) -> list[str]:
    """``POST /Users/Pbx.GetDuplicatedEmails {"emails": [...]}``: the given addresses a user already has."""
    wanted = ctx.args.get("emails")
    if not isinstance(wanted, list) or not all(isinstance(e, str) for e in wanted):
        raise errors.bad_request("emails:\nThe emails field must be a list of addresses.")
    known = {e for _, e in _emails(ctx)}
    return [e for e in wanted if e.casefold() in known]
