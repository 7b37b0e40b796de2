"""The tools `3cx mcp serve` offers a model: what each reads or does on the PBX, in plain functions.

Every function takes an ``AsyncClient`` first and returns JSON-ready data. Results are bounded
(``limit``, at most ``MAX_ROWS``) and say when there is more, so a model's context is not flooded.
Times are ISO 8601 in the time zone asked for (UTC unless ``tz`` says), durations seconds.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timezone
from typing import Any

from py3cx import AsyncClient, F
from py3cx._exceptions import ConfigError
from py3cx._queues_now import queues_now
from py3cx.licence import Licence
from py3cx.odata import key_path

MAX_ROWS = 200
DEFAULT_ROWS = 50


def _cap(limit: int | None) -> int:
    return max(1, min(MAX_ROWS, limit or DEFAULT_ROWS))


async def _take(
    rows: AsyncIterator[dict[str, Any]], limit: int, more_hint: str, offset: int = 0
) -> dict[str, Any]:
    """At most ``limit`` rows after the first ``offset``; ``more`` names the offset of the next page,
    so a model can page on rather than ask for everything at once."""
    taken: list[dict[str, Any]] = []
    more = False
    skip = max(0, offset)
    async for row in rows:
        if skip:
            skip -= 1
            continue
        if len(taken) == limit:
            more = True
            break
        taken.append(row)
    out: dict[str, Any] = {"rows": taken, "count": len(taken)}
    if offset > 0:
        out["offset"] = offset
    if more:
        following = max(0, offset) + len(taken)
        out["more"] = f"more rows exist: {more_hint}, or ask again with offset={following}"
    return out


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("@odata")}


# -- reads ----------------------------------------------------------------------------------------


async def find_user(
    client: AsyncClient, query: str, limit: int | None = None, offset: int = 0
) -> dict[str, Any]:
    text = query.strip()
    if not text:
        raise ConfigError("give a name, an extension number or an e-mail address")
    # without case: a model writes "smith" for Smith, and contains() on the PBX minds case
    lowered = text.lower()
    expr = (
        (F("Number") == text)
        | F("FirstName").lower().contains(lowered)
        | F("LastName").lower().contains(lowered)
        | F("EmailAddress").lower().contains(lowered)
    )
    rows = client.paginate(
        "Users",
        filter=expr,
        select=["Id", "Number", "FirstName", "LastName", "EmailAddress", "Mobile", "CurrentProfileName"],
    )
    return await _take(rows, _cap(limit), "narrow the query", offset)


async def _user(client: AsyncClient, number: str) -> dict[str, Any]:
    found = await client.get("Users", filter=F("Number") == number.strip(), top=1)
    rows = found.get("value") if isinstance(found, dict) else None
    if not rows:
        raise ConfigError(f"no user with extension {number!r}", hint="find_user lists extensions")
    return dict(rows[0])


async def user_presence(client: AsyncClient, number: str) -> dict[str, Any]:
    user = await _user(client, number)
    profiles = await client.get(f"{key_path('Users', user['Id'])}/ForwardingProfiles")
    names = [p.get("Name") for p in (profiles.get("value") or [])] if isinstance(profiles, dict) else []
    return {
        "extension": user.get("Number"),
        "name": f"{user.get('FirstName') or ''} {user.get('LastName') or ''}".strip(),
        "current_profile": user.get("CurrentProfileName"),
        "profiles": names,
        "queue_status": user.get("QueueStatus"),
        "registered": user.get("IsRegistered"),
    }


async def queues(client: AsyncClient) -> dict[str, Any]:
    found = [
        q
        async for q in client.paginate(
            "Queues", select=["Id", "Number", "Name"], expand="Agents($select=Number)"
        )
    ]
    active = [c async for c in client.paginate("ActiveCalls")]
    users = {u["Number"]: u async for u in client.paginate("Users", select=["Number", "QueueStatus"])}
    out = [
        {
            "queue": q.number,
            "name": q.name,
            "waiting": q.waiting,
            "talking": q.talking,
            "longest_wait_seconds": round(q.longest_wait),
            "agents": q.agents,
            "agents_logged_in": q.agents_logged_in,
        }
        for q in queues_now(found[:MAX_ROWS], active, users.values(), time.time())
    ]
    return {"queues": out, "count": len(out)}


async def active_calls(client: AsyncClient, limit: int | None = None, offset: int = 0) -> dict[str, Any]:
    rows = client.paginate("ActiveCalls")

    async def cleaned() -> AsyncIterator[dict[str, Any]]:
        async for row in rows:
            yield _clean(row)

    return await _take(cleaned(), _cap(limit), "ask for a larger limit (at most 200)", offset)


def _period(start: str, end: str | None, tz: str | None) -> tuple[str, str, str]:
    """The days asked for, checked now: an unknown zone or day is a clear error, not a PBX's 400."""
    from py3cx.reports.arguments import parse_period, parse_zone

    zone = tz or "UTC"
    parse_period(start, end or start, parse_zone(zone))
    return start, end or start, zone


def _in_zone(value: Any, zone: str) -> Any:
    """An ISO time from the PBX (UTC) as local time in ``zone``, so a model reads the caller's clock."""
    if not isinstance(value, str) or zone == "UTC":
        return value
    from py3cx.reports.arguments import parse_zone

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(parse_zone(zone)).isoformat()


# what a history row shows, by where history lives: the call log (one row per call) or, on a PBX
# before V20 Update 6, CallHistoryView (one row per call segment); times are shown in the caller's zone
_LOG_FIELDS = (
    "CallId",
    "StartTime",
    "SourceCallerId",
    "SourceDisplayName",
    "DestinationCallerId",
    "DestinationDisplayName",
    "Status",
    "RingingDuration",
    "TalkingDuration",
    "Reason",
)
_LOG_ENDS = ("SourceCallerId", "SourceDn", "DestinationCallerId", "DestinationDn")
_VIEW_FIELDS = (
    "SegmentId",
    "SegmentStartTime",
    "SegmentEndTime",
    "SrcCallerNumber",
    "SrcDisplayName",
    "SrcDn",
    "DstCallerNumber",
    "DstDisplayName",
    "DstDn",
    "CallAnswered",
    "CallTime",
)
_VIEW_ENDS = ("SrcCallerNumber", "SrcDn", "DstCallerNumber", "DstDn")
_TIMES = {"StartTime", "SegmentStartTime", "SegmentEndTime"}
_DURATIONS = {"RingingDuration", "TalkingDuration", "CallTime"}


def _seconds(value: Any) -> Any:
    """An ISO 8601 duration from the PBX (``PT25.975S``) as seconds, the unit a model is told."""
    from py3cx._durations import parse_duration

    if not isinstance(value, str):
        return value
    try:
        return round(parse_duration(value).total_seconds(), 3)
    except ValueError:
        return value


def _shown(key: str, value: Any, zone: str) -> Any:
    if key in _TIMES:
        return _in_zone(value, zone)
    if key in _DURATIONS:
        return _seconds(value)
    return value


async def call_history(
    client: AsyncClient,
    start: str,
    end: str | None = None,
    number: str | None = None,
    tz: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    """Calls of a period, from where `3cx history` reads them (``choose_history_report_async``)."""
    from py3cx.reports.arguments import parse_period, parse_zone
    from py3cx.reports.resource import choose_history_report_async

    first, last, zone = _period(start, end, tz)
    definition = await choose_history_report_async(client, parse_period(first, last, parse_zone(zone)))
    view = definition.function is None
    fields, ends = (_VIEW_FIELDS, _VIEW_ENDS) if view else (_LOG_FIELDS, _LOG_ENDS)
    rows = client.reports.rows(definition, start=first, end=last, tz=zone)
    wanted = (number or "").strip().lstrip("+")

    async def matching() -> AsyncIterator[dict[str, Any]]:
        async for row in rows:
            if wanted and wanted not in " ".join(str(row.get(k) or "") for k in ends).replace("+", ""):
                continue
            yield {k: _shown(k, row.get(k), zone) for k in fields if k in row}

    out = await _take(matching(), _cap(limit), "shorten the period or give a number", offset)
    out["period"] = {"from": first, "to": last, "time_zone": zone}
    out["source"] = "CallHistoryView (one row per call segment)" if view else "call log (one row per call)"
    return out


async def _report(
    client: AsyncClient, report: str, first: str, last: str, zone: str, arguments: dict[str, str] | None
) -> AsyncIterator[dict[str, Any]]:
    """A statistics report's rows with its durations in seconds and its times in ``zone``, by the
    report's own column kinds (the PBX writes ISO 8601 text a model would misread)."""
    from py3cx.reports.definitions import ColumnKind, get_report

    definition = get_report(report)
    durations = {c.name for c in definition.columns if c.kind is ColumnKind.DURATION}
    times = {c.name for c in definition.columns if c.kind is ColumnKind.DATETIME}
    async for row in client.reports.rows(definition, start=first, end=last, tz=zone, arguments=arguments):
        yield {
            k: _seconds(v) if k in durations else _in_zone(v, zone) if k in times else v
            for k, v in row.items()
            if not k.startswith("@odata")
        }


async def queue_stats(
    client: AsyncClient, start: str, end: str | None = None, queue: str | None = None, tz: str | None = None
) -> dict[str, Any]:
    first, last, zone = _period(start, end, tz)
    arguments = {"queueDns": queue} if queue else None
    rows = _report(client, "queue-performance-overview", first, last, zone, arguments)
    out = await _take(rows, MAX_ROWS, "name one queue")
    out["period"] = {"from": first, "to": last, "time_zone": zone}
    return out


async def agent_stats(
    client: AsyncClient,
    start: str,
    end: str | None = None,
    extension: str | None = None,
    tz: str | None = None,
) -> dict[str, Any]:
    first, last, zone = _period(start, end, tz)
    arguments = {"extensionFilter": extension} if extension else None
    rows = _report(client, "extension-statistics", first, last, zone, arguments)
    out = await _take(rows, MAX_ROWS, "name one extension")
    out["period"] = {"from": first, "to": last, "time_zone": zone}
    return out


async def call_recordings(
    client: AsyncClient, call_id: str, day: str, tz: str | None = None
) -> dict[str, Any]:
    """The recordings of a call: its call-log records name them (Recordings has no call id)."""
    wanted = str(call_id).strip()
    ids: list[int] = []
    async for row in client.reports.rows("call-log", start=day, end=day, tz=tz or "UTC"):
        if str(row.get("CallId")) == wanted:
            ids.extend(
                int(r["Id"])
                for r in row.get("Recordings") or []
                if isinstance(r, Mapping) and r.get("Id") is not None
            )
    if not ids:
        return {"rows": [], "count": 0, "note": f"no recording of call {wanted} on {day}"}
    rows = client.paginate(
        "Recordings",
        filter=F("Id").in_(sorted(set(ids))),
        select=[
            "Id",
            "StartTime",
            "EndTime",
            "FromCallerNumber",
            "FromDisplayName",
            "ToCallerNumber",
            "ToDisplayName",
            "RecordingUrl",
        ],
    )

    async def cleaned() -> AsyncIterator[dict[str, Any]]:
        async for row in rows:
            yield _clean(row)

    return await _take(cleaned(), MAX_ROWS, "")


async def system_status(client: AsyncClient) -> dict[str, Any]:
    status = await client.get("SystemStatus")
    licence = Licence.from_status(await client.get("LicenseStatus"))
    keys = (
        "Version",
        "FQDN",
        "CallsActive",
        "ExtensionsRegistered",
        "ExtensionsTotal",
        "TrunksRegistered",
        "TrunksTotal",
        "HasNotRunningServices",
        "LastBackupDateTime",
        "DiskUsage",
    )
    return {
        "status": {k: status.get(k) for k in keys if k in status},
        "licence": {
            "edition": licence.edition,
            "product_code": licence.product_code,
            "expires": licence.expires_at.isoformat() if licence.expires_at else None,
            "max_simultaneous_calls": licence.max_sim_calls,
            "api_access": licence.api_access(),
        },
        "now": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
    }


# -- writes (each takes dry_run) ------------------------------------------------------------------


async def make_call(
    client: AsyncClient, from_extension: str, to_number: str, dry_run: bool = False
) -> dict[str, Any]:
    await _user(client, from_extension)  # a clear error for an unknown extension, dry run or not
    body = {"dn": from_extension, "destination": to_number}
    if dry_run:
        return {
            "dry_run": True,
            "would": f"call {to_number} from extension {from_extension}",
            "request": body,
        }
    result = await client.post("Users/Pbx.MakeCall", body)
    return {"done": f"extension {from_extension} is calling {to_number}", "result": result}


async def drop_call(client: AsyncClient, call_id: int, dry_run: bool = False) -> dict[str, Any]:
    path = f"{key_path('ActiveCalls', int(call_id))}/Pbx.DropCall"
    if dry_run:
        return {"dry_run": True, "would": f"drop active call {call_id}"}
    await client.post(path, {})
    return {"done": f"active call {call_id} dropped"}


async def transfer_call(
    client: AsyncClient, extension: str, participant_id: int, destination: str, dry_run: bool = False
) -> dict[str, Any]:
    if dry_run:
        return {
            "dry_run": True,
            "would": f"transfer participant {participant_id} of {extension} to {destination}",
        }
    result = await client.callcontrol.transfer_to(extension, int(participant_id), destination)
    return {"done": f"transferred to {destination}", "result": result.model_dump(mode="json")}


async def set_presence(
    client: AsyncClient, extension: str, profile: str, dry_run: bool = False
) -> dict[str, Any]:
    user = await _user(client, extension)
    presence = await user_presence(client, extension)
    if profile not in presence["profiles"]:
        raise ConfigError(
            f"extension {extension} has no profile {profile!r}", hint=f"its profiles: {presence['profiles']}"
        )
    if dry_run:
        return {
            "dry_run": True,
            "would": f"set {extension}'s profile from {presence['current_profile']} to {profile}",
        }
    await client.patch(key_path("Users", user["Id"]), {"CurrentProfileName": profile})
    return {"done": f"{extension}'s profile is {profile}"}


_USER_FIELDS = {
    "first_name": "FirstName",
    "last_name": "LastName",
    "email": "EmailAddress",
    "mobile": "Mobile",
}


async def create_user(
    client: AsyncClient,
    extension: str,
    first_name: str,
    last_name: str,
    email: str,
    dry_run: bool = False,
) -> dict[str, Any]:
    body = {"Number": extension, "FirstName": first_name, "LastName": last_name, "EmailAddress": email}
    if dry_run:
        return {
            "dry_run": True,
            "would": f"create user {extension} {first_name} {last_name}",
            "request": body,
        }
    created = await client.post("Users", body)
    return {
        "done": f"user {extension} created",
        "id": created.get("Id") if isinstance(created, dict) else None,
    }


async def update_user(
    client: AsyncClient, extension: str, changes: dict[str, str], dry_run: bool = False
) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(_USER_FIELDS))
    if unknown or not changes:
        raise ConfigError(
            f"cannot change {', '.join(unknown) or 'nothing'}", hint=f"fields: {', '.join(_USER_FIELDS)}"
        )
    user = await _user(client, extension)
    body = {_USER_FIELDS[k]: v for k, v in changes.items()}
    if dry_run:
        before = {k: user.get(_USER_FIELDS[k]) for k in changes}
        return {"dry_run": True, "would": f"update user {extension}", "before": before, "after": changes}
    await client.patch(key_path("Users", user["Id"]), body)
    return {"done": f"user {extension} updated", "changed": sorted(changes)}


async def queue_agent(
    client: AsyncClient, queue: str, extension: str, *, add: bool, dry_run: bool = False
) -> dict[str, Any]:
    from py3cx.provisioning import add_queue_agents_async, find_queue_async, remove_queue_agents_async

    found = await find_queue_async(client, queue)
    agents = [str(a.get("Number")) for a in found.get("Agents") or []]
    verb = "add" if add else "remove"
    if dry_run:
        change = (extension not in agents) if add else (extension in agents)
        return {
            "dry_run": True,
            "would": f"{verb} {extension} {'to' if add else 'from'} queue {queue}"
            if change
            else "nothing: already so",
            "agents": agents,
        }
    runner = add_queue_agents_async if add else remove_queue_agents_async
    result = await runner(client, queue, [extension])
    return {"done": f"{verb} {extension}: queue {queue}", "result": str(result)}
