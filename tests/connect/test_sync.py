"""Sync passes against the emulator over HTTP, on SQLite and PostgreSQL: every record exactly
once, a pass with nothing new changes nothing, faults and expiring tokens only delay convergence,
and the directory is diffed into snapshots."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa

from py3cx import Client
from py3cx.connect import schema
from py3cx.connect.db import Database
from py3cx.connect.registry import Pbx, PbxSettings, add_pbx
from py3cx.connect.sync import PassResult, PbxSession, sync_calls, sync_directory
from py3cx.connect.vault import Vault
from py3cx.emulator import EmulatorConfig, FaultSpec, RunningEmulator, running_emulator

# the emulator's history covers the 90 days before the current hour
SINCE = datetime.now(timezone.utc) - timedelta(days=100)


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=11, calls=400)) as emu:
        yield emu


def owner(emu: RunningEmulator) -> Any:
    return next(c for c in emu.clients if c.role == "SystemOwner")


def add(db: Database, vault: Vault, emu: RunningEmulator, **settings: Any) -> Pbx:
    client = owner(emu)
    options = {"country": "GB", "rate_limit": 1000.0, **settings}
    return add_pbx(
        db,
        vault,
        PbxSettings(name="office", url=emu.url, client_id=client.client_id, **options),
        client.secret,
    )


def truth(emu: RunningEmulator) -> dict[str, str]:
    """Every call-log record of the emulator: SegmentId -> CallId, read with a plain client."""
    client = owner(emu)
    with Client(emu.url, client.client_id, client.secret) as pbx:
        start = datetime(2000, 1, 1, tzinfo=timezone.utc)
        rows = pbx.reports.rows(
            "call-log", start=start, end=datetime.now(timezone.utc) + timedelta(days=1), tz="UTC"
        )
        return {str(r["SegmentId"]): str(r["CallId"]) for r in rows}


def run_pass(db: Database, vault: Vault, pbx: Pbx, stream: str = "calls", **options: Any) -> PassResult:
    async def go() -> PassResult:
        session = PbxSession(db, vault, pbx)
        try:
            if stream == "calls":
                return await sync_calls(session, **options)
            return await sync_directory(session)
        finally:
            await session.aclose()

    return asyncio.run(go())


def dump(db: Database, table: sa.Table) -> list[tuple[Any, ...]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()]


def stored_records(db: Database) -> dict[str, str]:
    rows = dump(db, schema.call_records)
    columns = list(schema.call_records.columns.keys())
    ids = [dict(zip(columns, r, strict=True)) for r in rows]
    assert len({r["record_id"] for r in ids}) == len(ids)
    return {r["record_id"]: r["call_id"] for r in ids}


def test_a_first_pass_stores_every_record_once_and_a_second_changes_nothing(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    pbx = add(db, vault, emulator)
    expected = truth(emulator)
    first = run_pass(db, vault, pbx, since=SINCE, window=timedelta(days=20))
    assert first.ok and first.changed == len(expected) == first.records
    assert stored_records(db) == expected
    assert len(dump(db, schema.calls)) == len(set(expected.values()))
    before = [dump(db, schema.call_records), dump(db, schema.calls)]
    second = run_pass(db, vault, pbx, since=SINCE)
    assert second.ok and second.records == len(expected) and second.changed == 0
    assert [dump(db, schema.call_records), dump(db, schema.calls)] == before
    # the next pass starts at the watermark minus the overlap: nothing new, nothing fetched twice
    assert run_pass(db, vault, pbx).changed == 0


def test_records_are_mapped_to_utc_seconds_e164_and_calls(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    pbx = add(db, vault, emulator)
    run_pass(db, vault, pbx, since=SINCE)
    with db.engine.connect() as conn:
        record = (
            conn.execute(sa.select(schema.call_records).where(schema.call_records.c.src_type == 9).limit(1))
            .mappings()
            .one()
        )
        call = (
            conn.execute(sa.select(schema.calls).where(schema.calls.c.call_id == record["call_id"]))
            .mappings()
            .one()
        )
        queued = conn.execute(
            sa.select(sa.func.count()).select_from(schema.calls).where(schema.calls.c.queue.is_not(None))
        ).scalar()
    raw = record["raw"]
    assert record["src_number"] == raw["SourceCallerId"] and record["src_e164"].startswith("+")
    assert record["talking_seconds"] == pytest.approx(_seconds(raw["TalkingDuration"]))
    start = record["start_time"].replace(tzinfo=None)
    assert start.isoformat(timespec="milliseconds") == raw["StartTime"].rstrip("Z").ljust(23, "0")[:23]
    assert call["from_e164"] == record["src_e164"] and call["records"] >= 1
    assert call["status"] in ("answered", "missed", "abandoned")
    assert queued > 0


def _seconds(iso: str) -> float:
    from py3cx._durations import parse_duration

    return parse_duration(iso).total_seconds()


def test_passes_under_faults_and_two_second_tokens_converge_to_every_record_once(
    db: Database, vault: Vault
) -> None:
    faults = FaultSpec.parse("500=0.04,503=0.04,429=0.04,504=0.04,reset=0.04")
    with running_emulator(EmulatorConfig(seed=12, calls=300, token_ttl=2, faults=faults)) as emu:
        pbx = add(db, vault, emu)
        # the first pass starts at SINCE; each later one where the last committed window ended
        results = [run_pass(db, vault, pbx, since=SINCE, window=timedelta(days=7))]
        while not results[-1].ok and len(results) < 40:
            results.append(run_pass(db, vault, pbx, window=timedelta(days=7)))
        assert results[-1].ok, [r.error for r in results]
        stats = httpx2.get(f"{emu.url}/_emulator/stats").json()
        assert sum(stats["faults"].values()) > 0
        with running_emulator(EmulatorConfig(seed=12, calls=300)) as calm:
            expected = truth(calm)
    assert stored_records(db) == expected


def test_a_pbx_error_is_recorded_in_sync_state_and_never_raised(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    client = owner(emulator)
    pbx = add_pbx(
        db, vault, PbxSettings(name="wrong", url=emulator.url, client_id=client.client_id), "not-the-secret"
    )
    result = run_pass(db, vault, pbx, since=SINCE)
    assert not result.ok and "token" in (result.error or "") and result.hint
    assert "not-the-secret" not in (result.error or "")
    with db.engine.connect() as conn:
        state = conn.execute(sa.select(schema.sync_state)).mappings().one()
    assert state["errors"] == 1 and state["last_success_at"] is None and state["watermark"] is None


def test_the_directory_is_diffed_into_snapshots(db: Database, vault: Vault) -> None:
    with running_emulator(EmulatorConfig(seed=13, calls=0)) as emu:
        pbx = add(db, vault, emu)
        first = run_pass(db, vault, pbx, "directory")
        assert first.ok and first.changed == first.records > 0
        users = dump(db, schema.users)
        assert run_pass(db, vault, pbx, "directory").changed == 0
        client = owner(emu)
        with Client(emu.url, client.client_id, client.secret) as api:
            listed = api.get("Users", orderby="Id")["value"]
            api.patch(f"Users({listed[0]['Id']})", json={"FirstName": "Renamed"})
            api.delete(f"Users({listed[1]['Id']})")
        third = run_pass(db, vault, pbx, "directory")
    assert third.ok and third.changed >= 2  # the deleted user may have left a queue too
    with db.engine.connect() as conn:
        rows = {r["user_id"]: r for r in conn.execute(sa.select(schema.users)).mappings().all()}
    renamed, gone = rows[listed[0]["Id"]], rows[listed[1]["Id"]]
    assert renamed["first_name"] == "Renamed" and renamed["deleted_at"] is None
    assert gone["deleted_at"] is not None and gone["first_name"] == listed[1]["FirstName"]
    untouched = [r for r in rows.values() if r["user_id"] not in (listed[0]["Id"], listed[1]["Id"])]
    before = {u[1]: u for u in users}
    columns = list(schema.users.columns.keys())
    for row in untouched:
        old = dict(zip(columns, before[row["user_id"]], strict=True))
        assert row["changed_at"] == old["changed_at"] and row["first_seen"] == old["first_seen"]
        assert row["last_seen"] > old["last_seen"]


def test_a_pbx_before_update_6_is_read_from_call_history_view(db: Database, vault: Vault) -> None:
    with running_emulator(EmulatorConfig(seed=14, calls=150, spec_version="20.0.4")) as emu:
        pbx = add(db, vault, emu)
        result = run_pass(db, vault, pbx, since=SINCE, window=timedelta(days=10))
        client = owner(emu)
        with Client(emu.url, client.client_id, client.secret) as api:
            segments = {str(r["SegmentId"]) for r in api.paginate("CallHistoryView")}
    assert result.ok and result.changed == len(segments)
    with db.engine.connect() as conn:
        sources = set(conn.execute(sa.select(schema.call_records.c.source)).scalars())
        calls = conn.execute(sa.select(sa.func.count()).select_from(schema.calls)).scalar()
    assert sources == {"view"} and set(stored_records(db)) == segments
    assert calls == 150
