"""Live call events from polling ``ActiveCalls``: ``call.ringing`` when a call appears, ``call.answered``
when it is first seen talking, for every PBX (``live_interval`` seconds, 0 turns it off).

This is how connect degrades where Call Control is not available (no route point, a licence
without it, its stream down: ``run`` polls only then): any client that may read ``ActiveCalls``
gets live events, a poll interval late. The events are keyed by the PBX's id of the call
(``ActiveCalls`` ``Id``, the call log's ``CallId``), as ``call.ended`` is, and each exists at most
once per call whichever source wrote it. A call that begins and ends between two polls has no
live events; its ``call.ended`` still comes from the record sync. Each poll's changes and their
events are one transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from py3cx.connect import schema
from py3cx.connect.db import Database
from py3cx.connect.events import SCHEMA_VERSION, write_events
from py3cx.connect.records import moment
from py3cx.connect.registry import Pbx
from py3cx.connect.sync import PassResult, PbxSession, run_pass

__all__ = ["LIVE_EVENTS", "poll_live"]

LIVE_EVENTS = ("call.ringing", "call.answered")


def _data(pbx: str, row: Mapping[str, Any], answered_at: datetime | None) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if value else None

    return {
        "schema_version": SCHEMA_VERSION,
        "pbx": pbx,
        "call_id": str(row["live_id"]),
        "live_id": str(row["live_id"]),
        "caller": row.get("caller"),
        "callee": row.get("callee"),
        "status": row.get("status"),
        "started_at": iso(row.get("established_at")),
        "answered_at": iso(answered_at),
        "source": "ActiveCalls",
    }


def _store(db: Database, pbx: Pbx, active: Sequence[Mapping[str, Any]], now: datetime) -> tuple[int, int]:
    table = schema.live_calls
    with db.engine.begin() as conn:
        known = {
            str(r["live_id"]): dict(r)
            for r in conn.execute(sa.select(table).where(table.c.pbx_id == pbx.id)).mappings()
        }
        items: list[tuple[str, str, dict[str, Any], datetime]] = []
        seen: set[str] = set()
        for raw in active:
            if raw.get("Id") is None:
                continue
            live_id = str(raw["Id"])
            seen.add(live_id)
            talking = raw.get("Status") == "Talking"
            row = {
                "pbx_id": pbx.id,
                "live_id": live_id,
                "caller": raw.get("Caller"),
                "callee": raw.get("Callee"),
                "status": raw.get("Status"),
                "established_at": moment(raw.get("EstablishedAt")),
                "last_seen": now,
            }
            before = known.get(live_id)
            if before is None:
                row.update(first_seen=now, answered_at=now if talking else None)
                conn.execute(sa.insert(table).values(row))
                items.append(("call.ringing", live_id, _data(pbx.name, row, None), now))
                if talking:
                    items.append(("call.answered", live_id, _data(pbx.name, row, now), now))
                continue
            answered = before["answered_at"]
            if talking and answered is None:
                row["answered_at"] = answered = now
                items.append(("call.answered", live_id, _data(pbx.name, row, now), now))
            where = (table.c.pbx_id == pbx.id) & (table.c.live_id == live_id)
            conn.execute(sa.update(table).where(where).values(row))
        gone = sorted(set(known) - seen)
        if gone:
            conn.execute(sa.delete(table).where((table.c.pbx_id == pbx.id) & table.c.live_id.in_(gone)))
        write_events(conn, pbx.id, pbx.name, items, now)
    return len(active), len(items)


async def poll_live(session: PbxSession) -> PassResult:
    """One poll of the PBX's ActiveCalls: new calls and newly answered ones become events.
    Never raises for the PBX's errors (they are the stream's recorded error, as for every pass).
    Example: ``await poll_live(session)``
    """

    async def body() -> tuple[int, int]:
        now = datetime.now(timezone.utc)
        active = [row async for row in session.client.paginate("ActiveCalls")]
        return await asyncio.to_thread(_store, session.db, session.pbx, active, now)

    return await run_pass(session.db, session.pbx, "live", body())
