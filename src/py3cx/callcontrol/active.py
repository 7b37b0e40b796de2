"""Who is on a call now, kept live: for `3cx calls active --watch`, dashboards and scripts.

`watch_active(client)` yields the list of active calls each time it changes (and at least every
`interval` seconds, so durations tick). With a Call Control client it follows the event stream;
with any other API client it polls XAPI `ActiveCalls`. Rows have the `ActiveCalls` shape (`Id`,
`Caller`, `Callee`, `Status`, `EstablishedAt`, `ServerNow`), whatever the source.

Call Control says nothing of when a call began, so the calls already in progress when the
stream starts take their `EstablishedAt` from XAPI `ActiveCalls` (`established_at`; its `Id` is
the Call Control `callid`); calls that start later count from when the stream first sees them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, Literal

from py3cx._durations import parse_datetime
from py3cx._exceptions import APIStatusError
from py3cx.callcontrol.models import CallParticipant
from py3cx.callcontrol.state import CallState

__all__ = [
    "active_calls",
    "aestablished_at",
    "aqueue_names",
    "awatch_active",
    "established_at",
    "established_times",
    "names_from_rows",
    "queue_names",
    "watch_active",
]

log = logging.getLogger("py3cx.callcontrol")

Source = Literal["auto", "callcontrol", "xapi"]
_ROUTING_TYPES = ("Wqueue", "Wroutepoint", "Wivr")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _label(number: str | None, name: str | None) -> str:
    return f"{number} {name}".strip() if name else str(number or "")


def _ends(legs: list[CallParticipant], state: CallState, names: Mapping[str, str]) -> tuple[str, str]:
    own = [p for p in legs if p.status == "Dialing" or (p.originated_by_dn and p.originated_by_dn == p.dn)]
    if own:
        leg = own[0]
        mine = _label(leg.dn, names.get(leg.dn or ""))
        return mine, _label(leg.party_caller_id or leg.party_dn, leg.party_caller_name)
    # every leg we see was called: the other party is the caller; prefer the queue or route point
    legs = sorted(legs, key=lambda p: state.dn_type(p.dn or "") not in _ROUTING_TYPES)
    leg = legs[0]
    caller = _label(leg.party_caller_id or leg.party_dn, leg.party_caller_name)
    return caller, _label(leg.dn, names.get(leg.dn or ""))


def active_calls(
    state: CallState, first_seen: dict[int, float] | None = None, names: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The cached calls as `ActiveCalls`-shaped rows, oldest first.

    `first_seen` (callid → epoch seconds) gives `EstablishedAt`; missing entries are set to now.
    `names` (DN → name, e.g. `queue_names(client)`) labels our DNs as `ActiveCalls` does
    (`0336 Sales`); Call Control itself names only the other party.
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
        caller, callee = _ends(legs, state, names or {})
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


def established_times(rows: Iterable[Mapping[str, Any]]) -> dict[int, float]:
    """Call id → epoch seconds of its `EstablishedAt`, from `ActiveCalls` rows (bad rows skipped).

    Example: `established_times([{"Id": 7, "EstablishedAt": "2026-01-05T09:00:00Z"}])` == `{7: 1767603600.0}`
    """
    found: dict[int, float] = {}
    for row in rows:
        callid, established = row.get("Id"), row.get("EstablishedAt")
        if isinstance(callid, int) and isinstance(established, str):
            try:
                found[callid] = parse_datetime(established).timestamp()
            except ValueError:
                continue
    return found


def names_from_rows(
    rows: Iterable[Mapping[str, Any]], number: str = "Number", name: str = "Name"
) -> dict[str, str]:
    """DN → name from `Queues` rows (or other rows, naming their two columns).

    Example: `names_from_rows([{"Number": "0336", "Name": "Sales"}])` == `{"0336": "Sales"}`
    """
    return {str(r[number]): str(r[name]) for r in rows if r.get(number) is not None and r.get(name)}


_ACTIVE_STARTS = {"page_size": 200, "select": ["Id", "EstablishedAt"]}
_QUEUE_NAMES = {"page_size": 200, "select": ["Number", "Name"]}


def _refused(what: str, exc: APIStatusError) -> dict[Any, Any]:
    # a Call Control client need not have an XAPI role: go on without this piece
    log.info("going on without %s: %s", what, exc)
    return {}


def queue_names(client: Any) -> dict[str, str]:
    """Queue number → name (`Queues`); empty when the client may not read it.

    Raises APIConnectionError. Example: `queue_names(client)` == `{"0336": "Sales"}`
    """
    try:
        return names_from_rows(client.paginate("Queues", **_QUEUE_NAMES))
    except APIStatusError as exc:
        return _refused("queue names", exc)


async def aqueue_names(client: Any) -> dict[str, str]:
    """Async `queue_names` for an `AsyncClient`. Example: `await aqueue_names(client)`"""
    try:
        return names_from_rows([row async for row in client.paginate("Queues", **_QUEUE_NAMES)])
    except APIStatusError as exc:
        return _refused("queue names", exc)


def established_at(client: Any) -> dict[int, float]:
    """When each call now in progress began, per the PBX (`ActiveCalls`): callid → epoch seconds.

    Empty when the client may not read `ActiveCalls`. Raises APIConnectionError.
    Example: `established_at(client)` == `{7: 1767603600.0}`
    """
    try:
        return established_times(client.paginate("ActiveCalls", **_ACTIVE_STARTS))
    except APIStatusError as exc:
        return _refused("the start of calls in progress", exc)


async def aestablished_at(client: Any) -> dict[int, float]:
    """Async `established_at` for an `AsyncClient`. Example: `await aestablished_at(client)`"""
    try:
        return established_times([row async for row in client.paginate("ActiveCalls", **_ACTIVE_STARTS)])
    except APIStatusError as exc:
        return _refused("the start of calls in progress", exc)


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
    first_seen = established_at(client)  # before the stream: calls in progress keep their start
    names = queue_names(client)
    with client.callcontrol.events() as events:
        events.wait_connected()
        while True:
            yield active_calls(events.state, first_seen, names)
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
    first_seen = await aestablished_at(client)
    names = await aqueue_names(client)
    async with client.callcontrol.events() as stream:
        await stream.wait_connected()
        while True:
            yield active_calls(stream.state, first_seen, names)
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
