"""Who is on a call now, kept live: for `3cx calls active --watch`, dashboards and scripts.

`watch_active(client)` yields the list of active calls each time it changes (and at least every
`interval` seconds, so durations tick). With a Call Control client it follows the event stream;
with any other API client it polls XAPI `ActiveCalls`. Rows have the `ActiveCalls` shape (`Id`,
`Caller`, `Callee`, `Status`, `EstablishedAt`, `ServerNow`), whatever the source.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any, Literal

from py3cx._exceptions import APIStatusError
from py3cx.callcontrol.models import CallParticipant
from py3cx.callcontrol.state import CallState

__all__ = ["active_calls", "awatch_active", "watch_active"]

Source = Literal["auto", "callcontrol", "xapi"]
_ROUTING_TYPES = ("Wqueue", "Wroutepoint", "Wivr")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _label(number: str | None, name: str | None) -> str:
    return f"{number} {name}".strip() if name else str(number or "")


def _ends(legs: list[CallParticipant], state: CallState) -> tuple[str, str]:
    own = [p for p in legs if p.status == "Dialing" or (p.originated_by_dn and p.originated_by_dn == p.dn)]
    if own:
        leg = own[0]
        return _label(leg.dn, None), _label(leg.party_caller_id or leg.party_dn, leg.party_caller_name)
    # every leg we see was called: the other party is the caller; prefer the queue or route point
    legs = sorted(legs, key=lambda p: state.dn_type(p.dn or "") not in _ROUTING_TYPES)
    leg = legs[0]
    return _label(leg.party_caller_id or leg.party_dn, leg.party_caller_name), _label(leg.dn, None)


def active_calls(state: CallState, first_seen: dict[int, float] | None = None) -> list[dict[str, Any]]:
    """The cached calls as `ActiveCalls`-shaped rows, oldest first.

    `first_seen` (callid → epoch seconds) gives `EstablishedAt`; missing entries are set to now.
    Example: `active_calls(client.callcontrol.state)`
    """
    now = time.time()
    seen = first_seen if first_seen is not None else {}
    rows: list[dict[str, Any]] = []
    calls = state.calls()
    for callid in [c for c in seen if c not in calls]:
        del seen[callid]
    for callid, legs in calls.items():
        started = seen.setdefault(callid, now)
        caller, callee = _ends(legs, state)
        statuses = {p.status for p in legs}
        talking = "Connected" in statuses and any(
            p.status == "Connected" and state.dn_type(p.dn or "") not in _ROUTING_TYPES for p in legs
        )
        status = "Talking" if talking else "Ringing" if "Ringing" in statuses else "Routing"
        rows.append(
            {
                "Id": callid,
                "Caller": caller,
                "Callee": callee,
                "Status": status,
                "EstablishedAt": _iso(started),
                "ServerNow": _iso(now),
            }
        )
    rows.sort(key=lambda r: (r["EstablishedAt"], r["Id"]))
    return rows


def _uses_callcontrol(client: Any, source: Source) -> bool:
    if source != "auto":
        return source == "callcontrol"
    try:
        client.callcontrol.dns()
    except APIStatusError as exc:
        if exc.status_code in (401, 403, 404):
            return False  # not a Call Control client: XAPI it is
        raise
    return True


def watch_active(
    client: Any, *, interval: float = 1.0, source: Source = "auto"
) -> Iterator[list[dict[str, Any]]]:
    """Yield the active calls whenever they change, and at least every `interval` seconds.

    `source`: `"callcontrol"` (event stream), `"xapi"` (polls `ActiveCalls`) or `"auto"`.
    Raises APIStatusError, APIConnectionError. Example:
        for rows in watch_active(client): print(len(rows), "calls")
    """
    if not _uses_callcontrol(client, source):
        while True:
            yield list(client.paginate("ActiveCalls", page_size=200, orderby="EstablishedAt asc"))
            time.sleep(interval)
    first_seen: dict[int, float] = {}
    with client.callcontrol.events() as events:
        events.wait_connected()
        while True:
            yield active_calls(events.state, first_seen)
            event = events.get(timeout=interval)
            while event is not None:  # take everything already waiting, then redraw once
                event = events.get(timeout=0.05)


async def awatch_active(
    client: Any, *, interval: float = 1.0, source: Source = "auto"
) -> AsyncIterator[list[dict[str, Any]]]:
    """Async `watch_active` for an `AsyncClient`. Example: `async for rows in awatch_active(client): ...`"""
    import asyncio

    if source == "xapi" or (source == "auto" and not await _auses_callcontrol(client)):
        while True:
            yield [
                row
                async for row in client.paginate("ActiveCalls", page_size=200, orderby="EstablishedAt asc")
            ]
            await asyncio.sleep(interval)
    first_seen: dict[int, float] = {}
    async with client.callcontrol.events() as stream:
        await stream.wait_connected()
        while True:
            yield active_calls(stream.state, first_seen)
            try:
                await asyncio.wait_for(stream.__anext__(), timeout=interval)
            except (TimeoutError, asyncio.TimeoutError):  # distinct classes on Python 3.10
                continue


async def _auses_callcontrol(client: Any) -> bool:
    try:
        await client.callcontrol.dns()
    except APIStatusError as exc:
        if exc.status_code in (401, 403, 404):
            return False
        raise
    return True
