"""`3cx mcp serve`: the tools of ``tools.py`` as an MCP server (the official SDK's FastMCP), safe by
default.

- Read tools are on. Write tools are listed (a model learns they exist) but refuse until named with
  ``--allow TOOL`` or ``--allow-writes``; each takes ``dry_run``.
- Every call is one JSON line in the audit log: time, tool, arguments (secret-like ones removed),
  status ``ok`` / ``refused`` / ``error``, dry_run, milliseconds.
- With a connect database every tool takes ``pbx`` and ``pbx_list`` names them; without, the
  configured PBX (profile or environment) answers and ``pbx`` must be left out.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mcp.server.fastmcp import FastMCP

from py3cx import AsyncClient
from py3cx._exceptions import Py3cxError
from py3cx.mcpserver import tools

__all__ = ["READ_TOOLS", "WRITE_TOOLS", "Audit", "ClientProvider", "build_server"]

READ_TOOLS = (
    "find_user",
    "user_presence",
    "queues",
    "active_calls",
    "call_history",
    "queue_stats",
    "agent_stats",
    "call_recordings",
    "system_status",
    "pbx_list",
)
WRITE_TOOLS = (
    "make_call",
    "transfer_call",
    "drop_call",
    "set_presence",
    "create_user",
    "update_user",
    "add_queue_agent",
    "remove_queue_agent",
)
_SECRET_WORDS = ("secret", "password", "token", "key")
_log = logging.getLogger("py3cx.mcpserver")


class ClientProvider:
    """Where a tool's PBX client comes from: one configured PBX, or the PBXs of a connect database.

    Clients are kept for the server's life, so a PBX sees one token, not one per tool call.
    """

    def __init__(self, single: Callable[[], AsyncClient] | None = None, db_url: str | None = None) -> None:
        self._single = single
        self._db_url = db_url
        self._clients: dict[str | None, AsyncClient] = {}
        self._connect: Any = None

    @property
    def many(self) -> bool:
        return self._db_url is not None

    def _open_connect(self) -> Any:
        if self._connect is None:
            from py3cx.connect.db import open_database
            from py3cx.connect.vault import load_vault

            self._connect = (open_database(self._db_url), load_vault())
        return self._connect

    def names(self) -> list[str]:
        from py3cx.connect.registry import list_pbxs

        db, vault = self._open_connect()
        return [p.name for p in list_pbxs(db, vault)]

    def client(self, pbx: str | None) -> AsyncClient:
        """The client of ``pbx`` (None: the configured PBX). Raises ConfigError for a wrong choice."""
        from py3cx._exceptions import ConfigError

        if not self.many:
            if pbx:
                raise ConfigError(
                    "this server serves one PBX: leave pbx out", hint="start it with --db for many"
                )
        elif not pbx:
            raise ConfigError("name the PBX", hint="pbx_list names them")
        found = self._clients.get(pbx)
        if found is None:
            found = self._clients[pbx] = self._build(pbx)
        return found

    def _build(self, pbx: str | None) -> AsyncClient:
        if pbx is None:
            assert self._single is not None
            return self._single()
        from py3cx.connect.registry import get_pbx
        from py3cx.connect.sync import pbx_client

        db, vault = self._open_connect()
        return pbx_client(db, vault, get_pbx(db, vault, pbx))

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()


def _without_secrets(value: Any) -> Any:
    """``value`` with every secret-like key's value removed, at any depth (a model may put a password
    inside ``update_user``'s ``changes``: refused, but it must not reach the log either)."""
    if isinstance(value, dict):
        return {
            k: "[removed]" if any(w in str(k).lower() for w in _SECRET_WORDS) else _without_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


@dataclass
class Audit:
    """The audit log: one JSON line per tool call, appended (the file is made 0600)."""

    path: Path
    _opened: bool = field(default=False, repr=False)

    def write(
        self, tool: str, arguments: dict[str, Any], status: str, started: float, detail: str | None
    ) -> None:
        record = {
            "time": datetime.now(timezone.utc).isoformat(),
            "tool": tool,
            "arguments": _without_secrets(arguments),
            "dry_run": bool(arguments.get("dry_run", False)),
            "status": status,
            "ms": round((time.monotonic() - started) * 1000),
        }
        if detail:
            record["detail"] = detail[:500]
        if not self._opened:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.close(fd)
            self._opened = True
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def build_server(
    provider: ClientProvider, *, allowed: set[str], audit: Audit, host: str = "127.0.0.1", port: int = 8000
) -> FastMCP:
    """The MCP server with every tool; writes refuse unless in ``allowed``."""
    server = FastMCP(
        "py3cx",
        instructions=(
            "Tools for a 3CX V20 phone system: users, presence, queues, live calls, call history and "
            "statistics, recordings, system status. Times are ISO 8601; give periods as YYYY-MM-DD in the "
            "caller's time zone (tz, an IANA name such as Europe/London; UTC when left out); durations are "
            "seconds. Results hold at most 200 rows and say when there are more: narrow the question or "
            "ask again with the offset named. Write tools act on the real PBX: call them with "
            "dry_run=true first; they refuse unless the operator allowed them."
            + (" Every tool takes pbx, the PBX's name (pbx_list)." if provider.many else "")
        ),
        host=host,
        port=port,
        log_level="WARNING",
    )

    async def run(
        name: str, arguments: dict[str, Any], work: Callable[[AsyncClient], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        started = time.monotonic()
        logged = {k: v for k, v in arguments.items() if k != "pbx" or provider.many}
        if name in WRITE_TOOLS and name not in allowed:
            audit.write(name, logged, "refused", started, None)
            return {
                "refused": f"{name} is disabled on this server",
                "hint": f"the operator can allow it: 3cx mcp serve --allow {name} (or --allow-writes)",
            }
        try:
            result = await work(provider.client(arguments.get("pbx")))
        except Py3cxError as exc:
            audit.write(name, logged, "error", started, str(exc))
            return {"error": getattr(exc, "message", None) or str(exc), "hint": exc.hint}
        except Exception as exc:
            # an unexpected failure is audited too (every call is), naming only the exception's type:
            # its text may carry a URL or a request the model has no business seeing
            audit.write(name, logged, "error", started, type(exc).__name__)
            _log.error("tool %s failed", name, exc_info=exc)  # stderr: the operator's, not the model's
            return {"error": f"the tool failed ({type(exc).__name__})", "hint": "see the server's log"}
        audit.write(name, logged, "ok", started, None)
        return result

    @server.tool(
        description="Find users by extension number, part of a name, or part of an e-mail address. "
        "At most limit rows (default 50, at most 200); offset skips rows to page on."
    )
    async def find_user(
        query: str, limit: int = 50, offset: int = 0, pbx: str | None = None
    ) -> dict[str, Any]:
        return await run(
            "find_user",
            {"query": query, "limit": limit, "offset": offset, "pbx": pbx},
            lambda c: tools.find_user(c, query, limit, offset),
        )

    @server.tool(
        description="A user's presence: the current forwarding profile (Available, Away, ...), the profiles there are, queue login, phone registered."
    )
    async def user_presence(extension: str, pbx: str | None = None) -> dict[str, Any]:
        return await run(
            "user_presence", {"extension": extension, "pbx": pbx}, lambda c: tools.user_presence(c, extension)
        )

    @server.tool(description="Every queue now: calls waiting and talking, agents and agents logged in.")
    async def queues(pbx: str | None = None) -> dict[str, Any]:
        return await run("queues", {"pbx": pbx}, tools.queues)

    @server.tool(
        description="Calls in progress now: caller, callee, status (Ringing, Routing, Talking), since when (UTC). "
        "At most limit rows (default 50, at most 200); offset skips rows to page on."
    )
    async def active_calls(limit: int = 50, offset: int = 0, pbx: str | None = None) -> dict[str, Any]:
        return await run(
            "active_calls",
            {"limit": limit, "offset": offset, "pbx": pbx},
            lambda c: tools.active_calls(c, limit, offset),
        )

    @server.tool(
        description="Calls of a period, optionally only those with a number or extension: from the call log "
        "(one row per call), or on a PBX before V20 Update 6 from CallHistoryView (one row per call segment; "
        "source says which). "
        "start and end are days (YYYY-MM-DD, end included) in tz (IANA name such as Europe/London; default "
        "UTC); StartTime is given in tz too, durations in seconds. At most limit rows (default 50, at most "
        "200); offset skips rows to page on."
    )
    async def call_history(
        start: str,
        end: str | None = None,
        number: str | None = None,
        tz: str | None = None,
        limit: int = 50,
        offset: int = 0,
        pbx: str | None = None,
    ) -> dict[str, Any]:
        args = {
            "start": start,
            "end": end,
            "number": number,
            "tz": tz,
            "limit": limit,
            "offset": offset,
            "pbx": pbx,
        }
        return await run(
            "call_history", args, lambda c: tools.call_history(c, start, end, number, tz, limit, offset)
        )

    @server.tool(
        description="Queue performance of a period (calls received, answered, abandoned, waiting times), for one queue or all. Days YYYY-MM-DD in tz; durations in seconds."
    )
    async def queue_stats(
        start: str,
        end: str | None = None,
        queue: str | None = None,
        tz: str | None = None,
        pbx: str | None = None,
    ) -> dict[str, Any]:
        args = {"start": start, "end": end, "queue": queue, "tz": tz, "pbx": pbx}
        return await run("queue_stats", args, lambda c: tools.queue_stats(c, start, end, queue, tz))

    @server.tool(
        description="Per-extension call statistics of a period (inbound, outbound, answered, talking time), for one extension or all. Days YYYY-MM-DD in tz; durations in seconds."
    )
    async def agent_stats(
        start: str,
        end: str | None = None,
        extension: str | None = None,
        tz: str | None = None,
        pbx: str | None = None,
    ) -> dict[str, Any]:
        args = {"start": start, "end": end, "extension": extension, "tz": tz, "pbx": pbx}
        return await run("agent_stats", args, lambda c: tools.agent_stats(c, start, end, extension, tz))

    @server.tool(
        description="Recordings of a call (call_id from call_history; day: the call's day YYYY-MM-DD in tz): "
        "times, parties, RecordingUrl."
    )
    async def call_recordings(
        call_id: str, day: str, tz: str | None = None, pbx: str | None = None
    ) -> dict[str, Any]:
        args = {"call_id": call_id, "day": day, "tz": tz, "pbx": pbx}
        return await run("call_recordings", args, lambda c: tools.call_recordings(c, call_id, day, tz))

    @server.tool(
        description="The PBX's version, calls, extensions and trunks registered, backups, disk, and its licence (edition, expiry, simultaneous calls, API access)."
    )
    async def system_status(pbx: str | None = None) -> dict[str, Any]:
        return await run("system_status", {"pbx": pbx}, tools.system_status)

    if provider.many:

        @server.tool(
            description="The PBXs this server can reach (their names are the pbx argument of every tool)."
        )
        async def pbx_list() -> dict[str, Any]:
            started = time.monotonic()
            try:
                names = provider.names()
            except Exception as exc:
                audit.write("pbx_list", {}, "error", started, type(exc).__name__)
                return {"error": f"the connect database did not answer ({type(exc).__name__})"}
            audit.write("pbx_list", {}, "ok", started, None)
            return {"pbxs": names}

    def write_note(name: str) -> str:
        """Whether this server allows the write, said in the listing so a model need not try to learn it."""
        if name in allowed:
            return " A write tool, allowed on this server: acts on the real PBX; try dry_run=true first."
        return (
            " A write tool, DISABLED on this server: it answers a refusal until the operator starts the "
            f"server with --allow {name} (or --allow-writes)."
        )

    @server.tool(
        description="Call a number from an extension (its phone rings first, then the number)."
        + write_note("make_call")
    )
    async def make_call(
        from_extension: str, to_number: str, dry_run: bool = False, pbx: str | None = None
    ) -> dict[str, Any]:
        args = {"from_extension": from_extension, "to_number": to_number, "dry_run": dry_run, "pbx": pbx}
        return await run("make_call", args, lambda c: tools.make_call(c, from_extension, to_number, dry_run))

    @server.tool(
        description="Transfer a call participant (Call Control: the server's client must be a route point)."
        + write_note("transfer_call")
    )
    async def transfer_call(
        extension: str, participant_id: int, destination: str, dry_run: bool = False, pbx: str | None = None
    ) -> dict[str, Any]:
        args = {
            "extension": extension,
            "participant_id": participant_id,
            "destination": destination,
            "dry_run": dry_run,
            "pbx": pbx,
        }
        return await run(
            "transfer_call",
            args,
            lambda c: tools.transfer_call(c, extension, participant_id, destination, dry_run),
        )

    @server.tool(description="Hang up an active call (its Id from active_calls)." + write_note("drop_call"))
    async def drop_call(call_id: int, dry_run: bool = False, pbx: str | None = None) -> dict[str, Any]:
        return await run(
            "drop_call",
            {"call_id": call_id, "dry_run": dry_run, "pbx": pbx},
            lambda c: tools.drop_call(c, call_id, dry_run),
        )

    @server.tool(
        description="Set a user's forwarding profile (Available, Away, Out of office, ...)."
        + write_note("set_presence")
    )
    async def set_presence(
        extension: str, profile: str, dry_run: bool = False, pbx: str | None = None
    ) -> dict[str, Any]:
        args = {"extension": extension, "profile": profile, "dry_run": dry_run, "pbx": pbx}
        return await run("set_presence", args, lambda c: tools.set_presence(c, extension, profile, dry_run))

    @server.tool(
        description="Create a user with an extension number, names and e-mail." + write_note("create_user")
    )
    async def create_user(
        extension: str,
        first_name: str,
        last_name: str,
        email: str,
        dry_run: bool = False,
        pbx: str | None = None,
    ) -> dict[str, Any]:
        args = {
            "extension": extension,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "dry_run": dry_run,
            "pbx": pbx,
        }
        return await run(
            "create_user",
            args,
            lambda c: tools.create_user(c, extension, first_name, last_name, email, dry_run),
        )

    @server.tool(
        description="Change a user's first_name, last_name, email or mobile (changes: a map of those fields)."
        + write_note("update_user")
    )
    async def update_user(
        extension: str, changes: dict[str, str], dry_run: bool = False, pbx: str | None = None
    ) -> dict[str, Any]:
        args = {"extension": extension, "changes": changes, "dry_run": dry_run, "pbx": pbx}
        return await run("update_user", args, lambda c: tools.update_user(c, extension, changes, dry_run))

    @server.tool(
        description="Add an extension to a queue's agents (the other agents stay)."
        + write_note("add_queue_agent")
    )
    async def add_queue_agent(
        queue: str, extension: str, dry_run: bool = False, pbx: str | None = None
    ) -> dict[str, Any]:
        args = {"queue": queue, "extension": extension, "dry_run": dry_run, "pbx": pbx}
        return await run(
            "add_queue_agent",
            args,
            lambda c: tools.queue_agent(c, queue, extension, add=True, dry_run=dry_run),
        )

    @server.tool(
        description="Remove an extension from a queue's agents (the other agents stay)."
        + write_note("remove_queue_agent")
    )
    async def remove_queue_agent(
        queue: str, extension: str, dry_run: bool = False, pbx: str | None = None
    ) -> dict[str, Any]:
        args = {"queue": queue, "extension": extension, "dry_run": dry_run, "pbx": pbx}
        return await run(
            "remove_queue_agent",
            args,
            lambda c: tools.queue_agent(c, queue, extension, add=False, dry_run=dry_run),
        )

    return server
