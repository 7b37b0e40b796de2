"""Call events derived from the call records, written with their deliveries in the records' transaction.

Each call gets one ``call.ended`` (the first time its records are stored) and a ``call.updated``
each time its records change afterwards (a recording, a record that came late). The event and one
``deliveries`` row per matching endpoint are written in the transaction that stored the records,
so a crash loses neither: the outbox pattern. An endpoint gets the events of calls that ended after
it was added; ``replay`` sends older ones.

Payload (schema ``docs/webhooks/call.ended.v1.json``): ``{"type", "timestamp", "data": {"pbx",
"call_id", ...}}``, ``call_id`` being the PBX's own id of the call.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from py3cx.connect import schema
from py3cx.connect.contacts import match_contacts
from py3cx.connect.recordings import RecordingLinks, current_links, recording_entries
from py3cx.connect.records import DN_EXTENSION, DN_QUEUE

__all__ = [
    "CALL_EVENTS",
    "ONCE",
    "SCHEMA_VERSION",
    "call_data",
    "emit_call_events",
    "endpoint_matches",
    "live_call_ended",
    "new_event_id",
    "once_key",
    "write_events",
]

CALL_EVENTS = (
    "call.ended",
    "call.updated",
    "call.missed",
    "queue.abandoned",
    "recording.ready",
    "call.ringing",
    "call.answered",
    "user.created",
    "user.updated",
    "user.deleted",
)
# events a call has at most once (call.updated is the one that repeats); the live ones too, since
# two sources (Call Control, ActiveCalls polls) and a restarted process may both see them
ONCE = ("call.ended", "call.missed", "queue.abandoned", "recording.ready", "call.ringing", "call.answered")
SCHEMA_VERSION = 1
_CHUNK = 500


def new_event_id() -> str:
    """A new webhook-id: ``evt_`` and 32 hex digits."""
    return f"evt_{uuid.uuid4().hex}"


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def party_number(call: Mapping[str, Any]) -> str | None:
    """The other party's E.164 number: the number called for an outbound call, else the caller's."""
    outbound = str(call.get("direction") or "").lower().startswith("out")
    first, second = ("to_e164", "from_e164") if outbound else ("from_e164", "to_e164")
    found = call.get(first) or call.get(second)
    return str(found) if found else None


def call_data(
    pbx_name: str,
    call: Mapping[str, Any],
    agent: Mapping[str, Any] | None,
    queue_name: str | None,
    contact: Mapping[str, Any] | None = None,
    source: str = "records",
    links: RecordingLinks | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``data`` of a call event: numbers as dialled and in E.164, the agent, the queue, and the
    recordings with their signed URLs (made with ``links``, valid from ``now``; url null without).
    ``source``: ``records`` (the call log) or ``callcontrol`` (the live stream, before the log)."""
    recordings = (call.get("recording_ids") or "").split()
    return {
        "schema_version": SCHEMA_VERSION,
        "pbx": pbx_name,
        "call_id": str(call["call_id"]),
        "status": call["status"],
        "direction": call.get("direction"),
        "started_at": _iso(call["start_time"]),
        "ended_at": _iso(call.get("end_time")),
        "ringing_seconds": call["ringing_seconds"],
        "talking_seconds": call["talking_seconds"],
        "from": {
            "number": call.get("from_number"),
            "e164": call.get("from_e164"),
            "name": call.get("from_name"),
        },
        "to": {"number": call.get("to_number"), "e164": call.get("to_e164")},
        "agent": None
        if not call.get("answered_by_dn")
        else {
            "extension": call["answered_by_dn"],
            "name": call.get("answered_by_name") or _full_name(agent),
            "email": (agent or {}).get("email"),
        },
        "queue": None if not call.get("queue") else {"number": call["queue"], "name": queue_name},
        "recording_ids": recordings,
        "recordings": recording_entries(pbx_name, recordings, links, now),
        "records": call["records"],
        "contact": dict(contact) if contact else None,
        "source": source,
    }


def _full_name(user: Mapping[str, Any] | None) -> str | None:
    if not user:
        return None
    name = " ".join(str(user[k]) for k in ("first_name", "last_name") if user.get(k))
    return name or None


def endpoint_matches(
    endpoint: Mapping[str, Any], pbx_name: str, event_type: str, occurred: datetime | None
) -> bool:
    """Whether an enabled endpoint subscribes to this event: its PBX and type, and the endpoint was
    added before the event happened (``occurred``; None, as for a replay, skips that rule)."""
    if not endpoint["enabled"]:
        return False
    names, types = endpoint["pbx_names"], endpoint["event_types"]
    if names is not None and pbx_name not in names:
        return False
    if types is not None and event_type not in types:
        return False
    if occurred is None:
        return True
    created = endpoint["created_at"]
    created = created.replace(tzinfo=timezone.utc) if created.tzinfo is None else created
    return bool(created <= occurred)


def _lookup(conn: Connection, table: sa.Table, pbx_id: int, numbers: set[str]) -> dict[str, dict[str, Any]]:
    if not numbers:
        return {}
    rows = conn.execute(
        sa.select(table).where((table.c.pbx_id == pbx_id) & table.c.number.in_(sorted(numbers)))
    ).mappings()
    return {str(r["number"]): dict(r) for r in rows}


def _missed_parties(
    conn: Connection, pbx_id: int, calls: Sequence[Mapping[str, Any]]
) -> dict[str, list[tuple[str, str, str | None]]]:
    """Per call id, the parties that let the call ring out, in order: ``(kind, number, name)``,
    kind ``extension`` (a record to the extension that nobody answered) or ``queue`` (a queue
    record of a call nobody answered)."""
    records = schema.call_records
    unanswered = {str(c["call_id"]): c["status"] != "answered" for c in calls}
    ids = sorted(unanswered)
    found: dict[str, list[tuple[str, str, str | None]]] = {}
    for i in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            sa.select(records.c.call_id, records.c.dst_type, records.c.dst_dn, records.c.dst_name)
            .where(
                (records.c.pbx_id == pbx_id)
                & records.c.call_id.in_(ids[i : i + _CHUNK])
                & records.c.dst_type.in_((DN_EXTENSION, DN_QUEUE))
                & ~sa.func.coalesce(records.c.answered, sa.false())
            )
            .order_by(records.c.start_time, records.c.record_id)
        ).all()
        for call_id, dst_type, dst_dn, dst_name in rows:
            if not dst_dn or (dst_type == DN_QUEUE and not unanswered[str(call_id)]):
                continue  # a queue that passed the call to an agent who answered did not miss it
            party = ("queue" if dst_type == DN_QUEUE else "extension", str(dst_dn), dst_name)
            parties = found.setdefault(str(call_id), [])
            if all(p[1] != party[1] for p in parties):
                parties.append(party)
    return found


def emit_call_events(
    conn: Connection, pbx_id: int, pbx_name: str, calls: Sequence[Mapping[str, Any]], now: datetime
) -> int:
    """Write ``call.ended`` (or ``call.updated``) for each changed call, with ``call.missed``
    (one per extension or queue that let it ring out), ``queue.abandoned`` and ``recording.ready``
    once each when they apply, and their deliveries.

    ``calls`` are ``calls`` rows that this transaction inserted or changed. Returns the events written.
    """
    if not calls:
        return 0
    events = schema.events
    ids = sorted({str(c["call_id"]) for c in calls})
    # (type, call id, subject) of the once-per-call events already written
    sent: set[tuple[str, str, str]] = set()
    for i in range(0, len(ids), _CHUNK):
        sent.update(
            (str(kind), str(call_id), str(subject or ""))
            for kind, call_id, subject in conn.execute(
                sa.select(events.c.type, events.c.call_id, events.c.subject).where(
                    (events.c.pbx_id == pbx_id)
                    & events.c.type.in_(ONCE)
                    & events.c.call_id.in_(ids[i : i + _CHUNK])
                )
            )
        )
    missed = _missed_parties(conn, pbx_id, calls)
    agents = _lookup(
        conn,
        schema.users,
        pbx_id,
        {str(c["answered_by_dn"]) for c in calls if c.get("answered_by_dn")}
        | {number for parties in missed.values() for kind, number, _ in parties if kind == "extension"},
    )
    queues = _lookup(
        conn,
        schema.queues,
        pbx_id,
        {str(c["queue"]) for c in calls if c.get("queue")}
        | {number for parties in missed.values() for kind, number, _ in parties if kind == "queue"},
    )
    contacts = match_contacts(conn, pbx_name, [n for n in (party_number(c) for c in calls) if n])
    links = current_links()  # the public URL and signing key of recording links (recordings.py)
    items: list[tuple[Any, ...]] = []
    for call in sorted(calls, key=lambda c: (c["start_time"], str(c["call_id"]))):
        call_id = str(call["call_id"])
        first = ("call.ended", call_id, "") not in sent
        occurred = call.get("end_time") or call["start_time"]
        agent = agents.get(str(call.get("answered_by_dn")))
        queue = queues.get(str(call.get("queue")))
        contact = contacts.get(party_number(call) or "")
        data = call_data(
            pbx_name, call, agent, queue.get("name") if queue else None, contact, links=links, now=now
        )
        items.append(("call.ended" if first else "call.updated", call_id, data, occurred))
        # the outcome events, once each, after the call's call.ended (the same data and whom it
        # concerns, so a CRM needs one handler)
        parties = missed.get(call_id, [])
        if not parties and call["status"] == "missed":
            parties = [("", "", None)]  # missed, but by no extension or queue: the call itself
        for kind, number, name in parties:
            if ("call.missed", call_id, number) in sent:
                continue
            who = (agents if kind == "extension" else queues).get(number) if kind else None
            missed_by = None
            if kind == "extension":
                missed_by = {
                    "type": kind,
                    "number": number,
                    "name": _full_name(who) or name,
                    "email": (who or {}).get("email"),
                }
            elif kind == "queue":
                missed_by = {"type": kind, "number": number, "name": (who or {}).get("name") or name}
            items.append(("call.missed", call_id, {**data, "missed_by": missed_by}, occurred, number or None))
        if call["status"] == "abandoned" and ("queue.abandoned", call_id, "") not in sent:
            items.append(("queue.abandoned", call_id, data, occurred))
        if data["recording_ids"] and ("recording.ready", call_id, "") not in sent:
            items.append(("recording.ready", call_id, data, occurred))
    return write_events(conn, pbx_id, pbx_name, items, now)


def once_key(pbx_id: int, kind: str, key: str | None, subject: str | None = None) -> str | None:
    """The key that keeps an event a call has at most once unique (None for the repeating ones)."""
    if kind not in ONCE or key is None:
        return None
    return f"{pbx_id}:{key}:{kind}:{subject or ''}"


def _insert_new(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert events; one whose ``once_key`` is already stored is dropped (another source or
    process wrote it first), on SQLite and PostgreSQL alike."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(schema.events).on_conflict_do_nothing(index_elements=["once_key"])
    for i in range(0, len(rows), _CHUNK):
        conn.execute(statement, rows[i : i + _CHUNK])


def live_call_ended(
    conn: Connection, pbx_id: int, pbx_name: str, call: Mapping[str, Any], now: datetime
) -> int:
    """Write a ``call.ended`` seen live (Call Control) with its deliveries, unless the call has one
    already; ``call`` is shaped like a ``calls`` row (``records`` 0). The record sync sends what
    the call log adds as ``call.updated``. Returns the events written (0 or 1)."""
    agents = _lookup(
        conn, schema.users, pbx_id, {str(call["answered_by_dn"])} if call.get("answered_by_dn") else set()
    )
    queues = _lookup(conn, schema.queues, pbx_id, {str(call["queue"])} if call.get("queue") else set())
    number = party_number(call)
    contact = match_contacts(conn, pbx_name, [number]).get(number) if number else None
    queue = queues.get(str(call.get("queue")))
    data = call_data(
        pbx_name,
        call,
        agents.get(str(call.get("answered_by_dn"))),
        queue.get("name") if queue else None,
        contact,
        source="callcontrol",
    )
    occurred = call.get("end_time") or call["start_time"]
    return write_events(conn, pbx_id, pbx_name, [("call.ended", str(call["call_id"]), data, occurred)], now)


def write_events(
    conn: Connection,
    pbx_id: int,
    pbx_name: str,
    items: Sequence[tuple[Any, ...]],
    now: datetime,
) -> int:
    """Write events ``(type, key, data, when it happened[, subject])`` and one delivery per
    matching endpoint, in ``conn``'s transaction (the outbox). An event a call has at most once
    (``ONCE``) that is already stored is dropped with its deliveries. Returns the events written."""
    events, deliveries = schema.events, schema.deliveries
    endpoints = [dict(r) for r in conn.execute(sa.select(schema.webhook_endpoints)).mappings()]
    rows: list[dict[str, Any]] = []
    wanted: dict[str, list[int]] = {}
    for item in items:
        kind, key, data, occurred = item[:4]
        subject = item[4] if len(item) > 4 else None
        occurred = occurred.replace(tzinfo=timezone.utc) if occurred.tzinfo is None else occurred
        event_id = new_event_id()
        rows.append(
            {
                "event_id": event_id,
                "pbx_id": pbx_id,
                "call_id": key,
                "type": kind,
                "subject": subject,
                "once_key": once_key(pbx_id, kind, key, subject),
                "payload": {"type": kind, "timestamp": _iso(now), "data": data},
                "occurred_at": occurred,
                "created_at": now,
            }
        )
        matching = [e["id"] for e in endpoints if endpoint_matches(e, pbx_name, kind, occurred)]
        if matching:
            wanted[event_id] = matching
    _insert_new(conn, rows)
    keys = sorted(r["event_id"] for r in rows)
    stored: list[tuple[int, str]] = []
    for i in range(0, len(keys), _CHUNK):
        stored.extend(
            (int(seq), str(event_id))
            for seq, event_id in conn.execute(
                sa.select(events.c.seq, events.c.event_id).where(events.c.event_id.in_(keys[i : i + _CHUNK]))
            )
        )
    outbox = [
        {
            "event_seq": seq,
            "endpoint_id": endpoint_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for seq, event_id in stored
        for endpoint_id in wanted.get(event_id, ())
    ]
    for i in range(0, len(outbox), _CHUNK):
        conn.execute(sa.insert(deliveries), outbox[i : i + _CHUNK])
    return len(stored)
