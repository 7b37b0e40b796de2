"""The jobs of connect: one pass over one PBX's call records, one over its directory.

Jobs are plain async functions (DESIGN.md 12): ``3cx connect sync`` runs each once, ``run``
schedules them, ``worker`` runs them as Procrastinate tasks. Database work runs in worker
threads, never on the event loop.

Exactly once, by construction: records are upserted by their natural key (PBX, record id) and
written only when their content changed; the watermark ("every record that started before it
has been fetched") advances in the same transaction as the records of each window. A pass killed
at any point leaves the database as the last committed window left it, and the next pass starts
from that watermark minus the overlap, so it refetches, never skips.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx2
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from py3cx._client import AsyncClient
from py3cx._exceptions import GatewayTimeoutError, NotFoundError, PermissionDeniedError, Py3cxError
from py3cx._http import ssl_verify
from py3cx.connect import schema
from py3cx.connect.contacts import PHONEBOOK_PHONES, store_phonebook
from py3cx.connect.db import Database, upsert
from py3cx.connect.events import SCHEMA_VERSION, emit_call_events, write_events
from py3cx.connect.records import build_call, call_log_record, content_hash, view_records
from py3cx.connect.registry import Pbx
from py3cx.connect.tokens import DatabaseTokenStore
from py3cx.connect.vault import Vault
from py3cx.reports.arguments import Period
from py3cx.reports.definitions import ReportDefinition
from py3cx.reports.resource import build_query, choose_history_report_async

__all__ = ["PassResult", "PbxSession", "pbx_client", "run_pass", "sync_calls", "sync_directory"]

log = logging.getLogger("py3cx.connect")

WINDOW = timedelta(days=31)
_MIN_WINDOW = timedelta(minutes=1)
_MAX_WINDOW = timedelta(days=366)
_CHUNK = 500
_HISTORY_SOURCE_TTL = 3600.0


@dataclass(frozen=True)
class PassResult:
    """What one pass did: rows fetched, rows inserted or changed, its error (message and hint)."""

    pbx: str
    stream: str
    records: int = 0
    changed: int = 0
    seconds: float = 0.0
    error: str | None = None
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class RateLimitedTransport(httpx2.AsyncBaseTransport):
    """Sends through ``inner`` no faster than the PBX's rate limit (a leaky bucket, aiolimiter)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, rate: float) -> None:
        from aiolimiter import AsyncLimiter

        self._inner = inner
        self._limiter = AsyncLimiter(max(rate, 0.001), 1.0)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await self._limiter.acquire()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def pbx_client(
    db: Database, vault: Vault, pbx: Pbx, *, transport: httpx2.AsyncBaseTransport | None = None
) -> AsyncClient:
    """An AsyncClient of a stored PBX whose token is the one connect keeps in the database (shared
    with every connect process, the exporter and the MCP server). ``transport`` replaces the network.
    Example: ``pbx_client(db, vault, get_pbx(db, vault, "office"))``.
    """
    settings = pbx.settings
    return AsyncClient(
        settings.url,
        settings.client_id,
        pbx.client_secret,
        verify=settings.verify_tls,
        ca_bundle=settings.ca_bundle,
        transport=transport,
        token_store=DatabaseTokenStore(db, vault, settings.url, settings.client_id),
    )


class PbxSession:
    """One PBX as connect works with it: an AsyncClient whose token lives in the database and
    whose requests keep to the PBX's rate limit. Close it with ``await session.aclose()``.

    ``transport`` replaces the network (tests pass the emulator's ASGI transport).
    """

    def __init__(
        self, db: Database, vault: Vault, pbx: Pbx, *, transport: httpx2.AsyncBaseTransport | None = None
    ) -> None:
        settings = pbx.settings
        inner = transport or httpx2.AsyncHTTPTransport(
            verify=ssl_verify(settings.verify_tls, settings.ca_bundle)
        )
        self.db = db
        self.pbx = pbx
        self.client = pbx_client(db, vault, pbx, transport=RateLimitedTransport(inner, settings.rate_limit))
        self._history: tuple[float, ReportDefinition] | None = None

    def __repr__(self) -> str:
        return f"PbxSession({self.pbx.name!r})"

    async def history_report(self, period: Period) -> ReportDefinition:
        """The PBX's history source (asked once an hour: a PBX changes build rarely)."""
        now = time.monotonic()
        if self._history is None or now - self._history[0] > _HISTORY_SOURCE_TTL:
            source = self.pbx.settings.history_source
            self._history = (now, await choose_history_report_async(self.client, period, source))
        return self._history[1]

    async def aclose(self) -> None:
        await self.client.close()


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _utc(value: datetime | None) -> datetime | None:
    # SQLite gives naive date-times back; every time connect stores is UTC
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


# -- sync_state ---------------------------------------------------------------------------------


def _state_key(pbx_id: int, stream: str) -> Any:
    return (schema.sync_state.c.pbx_id == pbx_id) & (schema.sync_state.c.stream == stream)


def _ensure_state(conn: Connection, pbx_id: int, stream: str) -> None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    conn.execute(insert(schema.sync_state).values(pbx_id=pbx_id, stream=stream).on_conflict_do_nothing())


def _begin_pass(db: Database, pbx_id: int, stream: str, now: datetime) -> datetime | None:
    with db.engine.begin() as conn:
        _ensure_state(conn, pbx_id, stream)
        conn.execute(
            sa.update(schema.sync_state).where(_state_key(pbx_id, stream)).values(last_attempt_at=now)
        )
        watermark = conn.execute(
            sa.select(schema.sync_state.c.watermark).where(_state_key(pbx_id, stream))
        ).scalar()
    return _utc(watermark)


def _end_pass(db: Database, pbx_id: int, stream: str, result: PassResult, now: datetime) -> None:
    table = schema.sync_state
    values: dict[str, Any] = {"last_pass_seconds": result.seconds}
    if result.ok:
        values.update(
            last_success_at=now,
            passes=table.c.passes + 1,
            last_pass_records=result.records,
            last_pass_changed=result.changed,
        )
    else:
        values.update(last_error=(result.error or "")[:2000], last_error_at=now, errors=table.c.errors + 1)
    with db.engine.begin() as conn:
        _ensure_state(conn, pbx_id, stream)
        if result.ok and stream == "calls":
            values["records_total"] = conn.execute(
                sa.select(sa.func.count())
                .select_from(schema.call_records)
                .where(schema.call_records.c.pbx_id == pbx_id)
            ).scalar_one()
        conn.execute(sa.update(table).where(_state_key(pbx_id, stream)).values(values))


async def run_pass(db: Database, pbx: Pbx, stream: str, body: Any) -> PassResult:
    """Run one pass of a stream and record its outcome in ``sync_state`` (never raises for the PBX)."""
    started = time.monotonic()
    now = _utcnow()
    try:
        records, changed = await body
        result = PassResult(pbx.name, stream, records, changed, time.monotonic() - started)
    except Py3cxError as exc:
        result = PassResult(
            pbx.name, stream, seconds=time.monotonic() - started, error=str(exc), hint=exc.hint
        )
        log.warning("py3cx connect: %s %s pass failed: %s", pbx.name, stream, exc)
    await asyncio.to_thread(_end_pass, db, pbx.id, stream, result, now)
    return result


# -- call records -------------------------------------------------------------------------------


async def sync_calls(
    session: PbxSession, *, since: datetime | None = None, window: timedelta = WINDOW
) -> PassResult:
    """One pass over the call records of ``session``'s PBX: from the watermark minus the overlap
    (or ``since``, or the PBX's ``backfill_days`` back on the first pass) to now, a window at a time (an empty window
    doubles the next, up to a year).

    Never raises for the PBX's errors: they are in the result and in ``sync_state``.
    Example: ``result = await sync_calls(session)``
    """
    return await run_pass(session.db, session.pbx, "calls", _sync_calls(session, since, window))


async def _sync_calls(session: PbxSession, since: datetime | None, window: timedelta) -> tuple[int, int]:
    db, pbx = session.db, session.pbx
    now = _utcnow()
    watermark = await asyncio.to_thread(_begin_pass, db, pbx.id, "calls", now)
    if since is not None:
        start = _utc(since)
    elif watermark is not None:
        start = watermark - timedelta(seconds=pbx.settings.overlap_seconds)
    else:
        start = now - timedelta(days=pbx.settings.backfill_days)
    assert start is not None
    start = min(start, now - _MIN_WINDOW)
    definition = await session.history_report(Period(start, now))
    fetched = changed = 0
    cursor, size = start, window
    while cursor < now:
        end = min(cursor + size, now)
        got, moved = await _sync_span(session, definition, Period(cursor, end))
        fetched, changed = fetched + got, changed + moved
        cursor = end
        # years before the first record cost one request each, not one per window
        size = min(size * 2, _MAX_WINDOW) if got == 0 else window
    return fetched, changed


async def _sync_span(session: PbxSession, definition: ReportDefinition, span: Period) -> tuple[int, int]:
    """Fetch and store one window; a 504 (the PBX gave up on the range) halves it."""
    try:
        rows = await _fetch(session.client, definition, span)
    except GatewayTimeoutError:
        if span.end - span.start <= _MIN_WINDOW:
            raise
        middle = span.start + (span.end - span.start) / 2
        first = await _sync_span(session, definition, Period(span.start, middle))
        second = await _sync_span(session, definition, Period(middle, span.end))
        return first[0] + second[0], first[1] + second[1]
    pbx = session.pbx
    return await asyncio.to_thread(
        _store_records, session.db, pbx, definition.function is not None, rows, span.end
    )


async def _fetch(client: AsyncClient, definition: ReportDefinition, span: Period) -> list[dict[str, Any]]:
    query = build_query(definition, start=span.start, end=span.end, tz=timezone.utc)
    path, options = query.request(None)
    return [row async for row in client.paginate(path, page_size=1000, **options)]


def _earlier_call(conn: Connection, pbx_id: int) -> Any:
    table = schema.call_records

    def lookup(record_id: str) -> tuple[str, str | None, int | None] | None:
        row = conn.execute(
            sa.select(table.c.call_id, table.c.src_number, table.c.raw).where(
                (table.c.pbx_id == pbx_id) & (table.c.record_id == record_id)
            )
        ).first()
        if row is None:
            return None
        raw = row.raw if isinstance(row.raw, Mapping) else {}
        return row.call_id, row.src_number, raw.get("SegmentActionId")

    return lookup


def _store_records(
    db: Database, pbx: Pbx, call_log: bool, rows: Sequence[Mapping[str, Any]], watermark: datetime
) -> tuple[int, int]:
    now = _utcnow()
    region = pbx.settings.country
    with db.engine.begin() as conn:
        if call_log:
            records = [r for r in (call_log_record(row, region, now) for row in rows) if r is not None]
        else:
            records = view_records(rows, region, now, _earlier_call(conn, pbx.id))
        for record in records:
            record["pbx_id"] = pbx.id
        touched: set[str] = set()
        changed = 0
        for i in range(0, len(records), _CHUNK):
            chunk = records[i : i + _CHUNK]
            done = upsert(conn, schema.call_records, chunk, keep=("first_synced_at",), returning=("call_id",))
            changed += len(done)
            touched.update(call_id for (call_id,) in done)
        # only the calls whose records changed are built again: a quiet pass writes nothing
        _rebuild_calls(conn, pbx.id, pbx.name, sorted(touched), now)
        state = schema.sync_state
        current = _utc(conn.execute(sa.select(state.c.watermark).where(_state_key(pbx.id, "calls"))).scalar())
        if current is None or watermark > current:
            conn.execute(sa.update(state).where(_state_key(pbx.id, "calls")).values(watermark=watermark))
    return len(records), changed


def _rebuild_calls(conn: Connection, pbx_id: int, pbx_name: str, call_ids: list[str], now: datetime) -> int:
    table = schema.call_records
    changed = 0
    for i in range(0, len(call_ids), _CHUNK):
        chunk = call_ids[i : i + _CHUNK]
        wanted = [c for c in table.columns if c.name not in ("raw", "content_hash")]
        where = (table.c.pbx_id == pbx_id) & table.c.call_id.in_(chunk)
        rows = conn.execute(sa.select(*wanted).where(where)).mappings().all()
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            record = dict(row)
            record["start_time"] = _utc(record["start_time"])
            record["end_time"] = _utc(record["end_time"])
            grouped.setdefault(record["call_id"], []).append(record)
        built = [build_call(records, now) | {"pbx_id": pbx_id} for records in grouped.values()]
        done = {str(call_id) for (_pbx, call_id) in upsert(conn, schema.calls, built)}
        changed += len(done)
        # the events of the calls that changed, and their deliveries, in this same transaction
        emit_call_events(conn, pbx_id, pbx_name, [c for c in built if str(c["call_id"]) in done], now)
    return changed


# -- directory ----------------------------------------------------------------------------------


_USER_FIELDS = ["Id", "Number", "FirstName", "LastName", "EmailAddress", "Mobile"]
_CONTACT_FIELDS = ["Id", "FirstName", "LastName", "CompanyName", "Email", *PHONEBOOK_PHONES]
# the fields of a user whose change is a user.updated (a change elsewhere only updates the snapshot)
USER_TRACKED = ("number", "first_name", "last_name", "email", "mobile", "department")


async def sync_directory(session: PbxSession) -> PassResult:
    """One pass over the PBX's users, departments, queues and queue agents, diffed into the
    snapshot tables (``first_seen``, ``last_seen``, ``deleted_at``), and over its phonebook, synced
    into ``contacts`` (``contacts.store_phonebook``). Never raises for the PBX's errors.

    In the snapshot's transaction (the outbox), user changes become events: ``user.created`` (a new
    user, or one back after a deletion), ``user.updated`` (a change of ``USER_TRACKED``, with the
    fields' old and new values), ``user.deleted``. The PBX's first pass is the initial load: its
    users make no events. Example: ``await sync_directory(session)``
    """
    return await run_pass(session.db, session.pbx, "directory", _sync_directory(session))


async def _sync_directory(session: PbxSession) -> tuple[int, int]:
    client = session.client
    now = _utcnow()
    await asyncio.to_thread(_begin_pass, session.db, session.pbx.id, "directory", now)
    users = [u async for u in client.paginate("Users", select=_USER_FIELDS, expand="Groups")]
    groups = [g async for g in client.paginate("Groups", select=["Id", "Name"])]
    queues = [q async for q in client.paginate("Queues", select=["Id", "Number", "Name"], expand="Agents")]
    phonebook = await _phonebook(client, session.pbx.name)
    snapshot = _directory_rows(users, groups, queues)
    return await asyncio.to_thread(_store_directory, session.db, session.pbx, snapshot, phonebook, now)


async def _phonebook(client: AsyncClient, pbx_name: str) -> list[dict[str, Any]] | None:
    """The PBX's phonebook entries, or None when this client may not read them (a refusal must not
    stop the users' sync; the phonebook's contacts then stay as the last pass left them)."""
    try:
        return [c async for c in client.paginate("Contacts", select=_CONTACT_FIELDS)]
    except (PermissionDeniedError, NotFoundError) as exc:
        log.warning("py3cx connect: %s: phonebook not read, its contacts kept: %s", pbx_name, exc)
        return None


def _department(user: Mapping[str, Any]) -> str | None:
    groups = user.get("Groups")
    names = [g.get("Name") for g in groups if isinstance(g, Mapping)] if isinstance(groups, list) else []
    return next((str(n) for n in names if n), None)


def _directory_rows(
    users: list[dict[str, Any]], groups: list[dict[str, Any]], queues: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    agents = [
        {
            "queue_number": str(q.get("Number")),
            "agent_number": str(a.get("Number")),
            "skill_group": a.get("SkillGroup"),
            "raw": a,
        }
        for q in queues
        for a in (q.get("Agents") or [])
        if isinstance(a, Mapping) and a.get("Number") is not None and q.get("Number") is not None
    ]
    return {
        "users": [
            {
                "user_id": u["Id"],
                "number": u.get("Number"),
                "first_name": u.get("FirstName"),
                "last_name": u.get("LastName"),
                "email": u.get("EmailAddress"),
                "mobile": u.get("Mobile"),
                "department": _department(u),
                "raw": u,
            }
            for u in users
            if isinstance(u.get("Id"), int)
        ],
        "departments": [
            {"department_id": g["Id"], "name": g.get("Name"), "raw": g}
            for g in groups
            if isinstance(g.get("Id"), int)
        ],
        "queues": [
            {
                "queue_id": q["Id"],
                "number": q.get("Number"),
                "name": q.get("Name"),
                "raw": {k: v for k, v in q.items() if k != "Agents"},
            }
            for q in queues
            if isinstance(q.get("Id"), int)
        ],
        "queue_agents": agents,
    }


def _store_directory(
    db: Database,
    pbx: Pbx,
    snapshot: dict[str, list[dict[str, Any]]],
    phonebook: list[dict[str, Any]] | None,
    now: datetime,
) -> tuple[int, int]:
    pbx_id = pbx.id
    fetched = changed = 0
    with db.engine.begin() as conn:
        before = _stored_users(conn, pbx_id)
        for name, rows in snapshot.items():
            table = schema.metadata.tables[name]
            for row in rows:
                row.update(pbx_id=pbx_id, first_seen=now, last_seen=now, changed_at=now, deleted_at=None)
                row["content_hash"] = content_hash(
                    {
                        k: v
                        for k, v in row.items()
                        if k not in ("first_seen", "last_seen", "changed_at", "deleted_at")
                    }
                )
            changed += len(upsert(conn, table, rows, keep=("first_seen",)))
            changed += _mark_presence(conn, table, pbx_id, rows, now)
            fetched += len(rows)
        # no stored user at all: the PBX's first pass, the initial load, is no news
        if before:
            _write_user_events(conn, pbx, _user_events(pbx.name, before, snapshot["users"], now), now)
        if phonebook is not None:
            changed += store_phonebook(conn, pbx.name, phonebook, pbx.settings.country, now)
            fetched += len(phonebook)
    return fetched, changed


def _stored_users(conn: Connection, pbx_id: int) -> dict[int, dict[str, Any]]:
    table = schema.users
    columns = [table.c.user_id, *(table.c[name] for name in USER_TRACKED), table.c.deleted_at]
    rows = conn.execute(sa.select(*columns).where(table.c.pbx_id == pbx_id)).mappings()
    return {int(r["user_id"]): dict(r) for r in rows}


def _user_data(pbx_name: str, user: Mapping[str, Any]) -> dict[str, Any]:
    fields = {name: user.get(name) for name in USER_TRACKED}
    return {"schema_version": SCHEMA_VERSION, "pbx": pbx_name, "user": {"id": user["user_id"], **fields}}


def _user_events(
    pbx_name: str, before: Mapping[int, Mapping[str, Any]], users: Sequence[Mapping[str, Any]], now: datetime
) -> list[tuple[str, str, dict[str, Any], datetime]]:
    """(type, user id, data, when) of each user created, changed or deleted since ``before``."""
    items: list[tuple[str, str, dict[str, Any], datetime]] = []
    seen = set()
    for user in sorted(users, key=lambda u: int(u["user_id"])):
        user_id = int(user["user_id"])
        seen.add(user_id)
        old = before.get(user_id)
        if old is None or old["deleted_at"] is not None:
            items.append(("user.created", str(user_id), _user_data(pbx_name, user), now))
            continue
        changes = {
            name: {"old": old[name], "new": user.get(name)}
            for name in USER_TRACKED
            if old[name] != user.get(name)
        }
        if changes:
            items.append(
                ("user.updated", str(user_id), _user_data(pbx_name, user) | {"changes": changes}, now)
            )
    for user_id, old in sorted(before.items()):
        if user_id not in seen and old["deleted_at"] is None:
            items.append(("user.deleted", str(user_id), _user_data(pbx_name, old), now))
    return items


def _write_user_events(
    conn: Connection, pbx: Pbx, items: Sequence[tuple[str, str, dict[str, Any], datetime]], now: datetime
) -> None:
    """Write user events and their deliveries (``events.write_events``): no ``call_id`` (they
    belong to no call), ``subject`` the user id, which orders one user's events in the outbox."""
    if items:
        keyed = [(kind, None, data, occurred, subject) for kind, subject, data, occurred in items]
        write_events(conn, pbx.id, pbx.name, keyed, now)


def _mark_presence(
    conn: Connection, table: sa.Table, pbx_id: int, rows: list[dict[str, Any]], now: datetime
) -> int:
    """Set ``deleted_at`` on rows gone from the PBX, clear it on rows back, move ``last_seen``."""
    keys = [c for c in table.primary_key.columns if c.name != "pbx_id"]
    seen = {tuple(row[c.name] for c in keys) for row in rows}
    stored = conn.execute(sa.select(*keys, table.c.deleted_at).where(table.c.pbx_id == pbx_id)).all()
    gone = [tuple(r[:-1]) for r in stored if r[-1] is None and tuple(r[:-1]) not in seen]
    back = [tuple(r[:-1]) for r in stored if r[-1] is not None and tuple(r[:-1]) in seen]
    for group, deleted in ((gone, now), (back, None)):
        for key in group:
            where = (table.c.pbx_id == pbx_id) & sa.and_(*(c == v for c, v in zip(keys, key, strict=True)))
            conn.execute(sa.update(table).where(where).values(deleted_at=deleted, changed_at=now))
    conn.execute(
        sa.update(table)
        .where((table.c.pbx_id == pbx_id) & table.c.deleted_at.is_(None))
        .values(last_seen=now)
    )
    return len(gone) + len(back)
