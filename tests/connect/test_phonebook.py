"""The PBX's phonebook (XAPI /Contacts) as a contact source, against the emulator, on SQLite and
PostgreSQL: entries become contacts with E.164 numbers (the PBX's country as region), follow the
PBX's additions, changes and removals, name the calls of their own PBX only, lose to an imported
contact with the same number, and the phonebook sync and `contacts import` never touch each
other's contacts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import httpx2
import jsonschema_rs
import pytest
import sqlalchemy as sa

from py3cx import Client
from py3cx.connect import schema
from py3cx.connect.contacts import import_contacts
from py3cx.connect.db import Database
from py3cx.connect.events import emit_call_events
from py3cx.connect.registry import Pbx, PbxSettings, add_pbx
from py3cx.connect.sync import PbxSession, sync_directory
from py3cx.connect.vault import Vault
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

OWNER = ApiClient("book-owner", "book-owner-s3cret", "SystemOwner")
SOURCE = "phonebook:office"


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    # one per test: the tests change the PBX's phonebook
    with running_emulator(EmulatorConfig(seed=33, calls=0, clients=[OWNER])) as emu:
        yield emu


def _add_pbx(db: Database, vault: Vault, emu: RunningEmulator, name: str = "office") -> Pbx:
    settings = PbxSettings(name=name, url=emu.url, client_id=OWNER.client_id, country="GB", rate_limit=1000.0)
    return add_pbx(db, vault, settings, OWNER.secret)


def _pass(db: Database, vault: Vault, pbx: Pbx, transport: httpx2.AsyncBaseTransport | None = None) -> None:
    async def go() -> None:
        session = PbxSession(db, vault, pbx, transport=transport)
        try:
            result = await sync_directory(session)
            assert result.ok, result.error
        finally:
            await session.aclose()

    asyncio.run(go())


class PhonebookRefused(httpx2.AsyncBaseTransport):
    """The network to the emulator, but /Contacts answers 403, as a PBX does to a client whose role
    may not read the phonebook."""

    def __init__(self) -> None:
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/Contacts"):
            body = {"error": {"code": "", "message": "Access to Contacts requires another role."}}
            return httpx2.Response(403, json=body)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _api(emu: RunningEmulator) -> Client:
    return Client(emu.url, OWNER.client_id, OWNER.secret)


def _contacts(db: Database) -> dict[tuple[str | None, str | None], dict[str, Any]]:
    """Every contact by (source, source_key or crm_id or #id), with its set of E.164 phones."""
    table, phones = schema.contacts, schema.contact_phones
    with db.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(table)).mappings()]
        numbers: dict[int, set[str]] = {}
        for contact_id, e164 in conn.execute(sa.select(phones.c.contact_id, phones.c.e164)):
            numbers.setdefault(contact_id, set()).add(e164)
    return {
        (r["source"], r["source_key"] or r["crm_id"] or f"#{r['id']}"): {
            **r,
            "e164": numbers.get(r["id"], set()),
        }
        for r in rows
    }


def _phonebook(db: Database) -> dict[str, dict[str, Any]]:
    return {str(key): row for (source, key), row in _contacts(db).items() if source == SOURCE}


def _call(call_id: str, from_e164: str) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    return {
        "call_id": call_id,
        "start_time": now - timedelta(minutes=3),
        "end_time": now,
        "direction": "Inbound",
        "status": "answered",
        "answered": True,
        "from_number": from_e164,
        "from_e164": from_e164,
        "from_name": None,
        "to_number": "100",
        "to_e164": None,
        "answered_by_dn": None,
        "answered_by_name": None,
        "queue": None,
        "ringing_seconds": 3.0,
        "talking_seconds": 60.0,
        "records": 1,
        "recording_ids": None,
    }


def _contact_of(db: Database, pbx: Pbx, call_id: str, number: str) -> Any:
    with db.engine.begin() as conn:
        emit_call_events(conn, pbx.id, pbx.name, [_call(call_id, number)], datetime.now(timezone.utc))
        payload = conn.execute(
            sa.select(schema.events.c.payload).where(
                (schema.events.c.call_id == call_id) & (schema.events.c.pbx_id == pbx.id)
            )
        ).scalar_one()
    shipped = json.loads((resources.files("py3cx.connect") / "schemas" / "call.v1.json").read_text())
    jsonschema_rs.Draft202012Validator(shipped).validate(payload)
    return payload["data"]["contact"]


def test_phonebook_entries_become_contacts_and_follow_the_pbx(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    with _api(emulator) as api:
        entries = api.get("Contacts", orderby="Id")["value"]
    pbx = _add_pbx(db, vault, emulator)
    _pass(db, vault, pbx)
    book = _phonebook(db)
    assert set(book) == {str(e["Id"]) for e in entries}
    first = entries[0]
    stored = book[str(first["Id"])]
    assert stored["name"] == f"{first['FirstName']} {first['LastName']}"
    assert (stored["company"], stored["email"], stored["crm_id"]) == (
        first["CompanyName"],
        first["Email"],
        None,
    )
    numbers = {first[f] for f in ("PhoneNumber", "Mobile2", "Business") if first.get(f)}
    assert stored["e164"] == numbers
    # an identical pass changes nothing, not even updated_at
    _pass(db, vault, pbx)
    assert _phonebook(db) == book
    with _api(emulator) as api:
        made = api.post("Contacts", json={"FirstName": "Nat", "LastName": "Ional", "Home": "020 7946 0555"})
        api.patch(f"Contacts({entries[1]['Id']})", json={"Email": "changed@example.com"})
        api.delete(f"Contacts({entries[2]['Id']})")
    _pass(db, vault, pbx)
    after = _phonebook(db)
    assert set(after) == (set(book) | {str(made["Id"])}) - {str(entries[2]["Id"])}
    assert after[str(made["Id"])]["e164"] == {"+442079460555"}  # national, read with the PBX's country
    assert after[str(entries[1]["Id"])]["email"] == "changed@example.com"
    assert after[str(entries[1]["Id"])]["updated_at"] > book[str(entries[1]["Id"])]["updated_at"]
    assert after[str(entries[3]["Id"])] == book[str(entries[3]["Id"])]
    with db.engine.connect() as conn:
        orphans = conn.execute(
            sa.select(sa.func.count())
            .select_from(schema.contact_phones)
            .where(~schema.contact_phones.c.contact_id.in_(sa.select(schema.contacts.c.id)))
        ).scalar_one()
    assert orphans == 0


def test_a_call_from_a_phonebook_number_carries_the_contact_of_its_own_pbx_only(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    with _api(emulator) as api:
        entry = api.get("Contacts", orderby="Id")["value"][0]
    office = _add_pbx(db, vault, emulator)
    branch = _add_pbx(db, vault, emulator, "branch")  # the same PBX under another name, not synced
    _pass(db, vault, office)
    contact = _contact_of(db, office, "in-1", entry["PhoneNumber"])
    assert contact == {
        "name": f"{entry['FirstName']} {entry['LastName']}",
        "company": entry["CompanyName"],
        "email": entry["Email"],
        "crm_id": None,
        "source": "phonebook",
        "phonebook_id": str(entry["Id"]),
        "matches": 1,
    }
    assert _contact_of(db, branch, "in-2", entry["PhoneNumber"]) is None  # another PBX's phonebook
    with _api(emulator) as api:
        api.delete(f"Contacts({entry['Id']})")
    _pass(db, vault, office)
    assert _contact_of(db, office, "in-3", entry["PhoneNumber"]) is None  # removed from the phonebook


def test_an_imported_contact_with_the_same_number_wins(
    db: Database, vault: Vault, emulator: RunningEmulator, tmp_path: Path
) -> None:
    with _api(emulator) as api:
        entry = api.get("Contacts", orderby="Id")["value"][0]
    csv = tmp_path / "crm.csv"
    csv.write_text(
        f"crm_id,name,company,phones\nc-1,Crm Person,Crm Ltd,{entry['PhoneNumber']}\n", encoding="utf-8"
    )
    import_contacts(db, csv, country="GB")
    pbx = _add_pbx(db, vault, emulator)
    _pass(db, vault, pbx)  # the phonebook contact is the one updated last: the import still wins
    contact = _contact_of(db, pbx, "in-1", entry["PhoneNumber"])
    assert (contact["crm_id"], contact["source"], contact["phonebook_id"], contact["matches"]) == (
        "c-1",
        "import",
        None,
        2,
    )


def test_the_phonebook_sync_and_the_import_leave_each_other_alone(
    db: Database, vault: Vault, emulator: RunningEmulator, tmp_path: Path
) -> None:
    with _api(emulator) as api:
        entries = api.get("Contacts", orderby="Id")["value"]
    pbx = _add_pbx(db, vault, emulator)
    _pass(db, vault, pbx)
    book = _phonebook(db)
    # an import (and a re-import) with the phonebook's numbers, and with no crm_id, leaves it as it was
    csv = tmp_path / "crm.csv"
    text = "crm_id,name,phones\nc-1,Crm One,{}\n,No Id,{}\n"
    csv.write_text(text.format(entries[0]["PhoneNumber"], entries[1]["PhoneNumber"]), encoding="utf-8")
    import_contacts(db, csv, country="GB")
    csv.write_text(text.format(entries[0]["Business"], entries[1]["Business"]), encoding="utf-8")
    import_contacts(db, csv, country="GB")
    assert _phonebook(db) == book
    imported = {k: v for k, v in _contacts(db).items() if k[0] is None}
    assert len(imported) == 3  # c-1 updated in place; the row without crm_id added each time
    # the PBX's phonebook emptied: its contacts go, the imported ones stay as they were
    with _api(emulator) as api:
        for entry in entries:
            api.delete(f"Contacts({entry['Id']})")
    _pass(db, vault, pbx)
    assert _phonebook(db) == {}
    assert {k: v for k, v in _contacts(db).items() if k[0] is None} == imported


def test_a_refused_phonebook_keeps_its_contacts_and_the_users_still_sync(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    pbx = _add_pbx(db, vault, emulator)
    _pass(db, vault, pbx)
    book = _phonebook(db)
    assert book
    with _api(emulator) as api:
        user = api.get("Users", orderby="Id")["value"][0]
        api.patch(f"Users({user['Id']})", json={"LastName": "Still Synced"})
    _pass(db, vault, pbx, PhonebookRefused())
    assert _phonebook(db) == book
    with db.engine.connect() as conn:
        last = conn.execute(
            sa.select(schema.users.c.last_name).where(schema.users.c.user_id == user["Id"])
        ).scalar()
    assert last == "Still Synced"


def test_an_over_long_phonebook_entry_is_cut_to_fit_and_stops_nothing(
    db: Database, vault: Vault, emulator: RunningEmulator
) -> None:
    company = "Very Long Company " * 30  # 540 characters: contacts.company holds 300
    with _api(emulator) as api:
        made = api.post(
            "Contacts", json={"FirstName": "Long", "CompanyName": company, "Business": "+442079460777"}
        )
    pbx = _add_pbx(db, vault, emulator)
    _pass(db, vault, pbx)
    stored = _phonebook(db)[str(made["Id"])]
    assert stored["company"] == company[:300] and stored["e164"] == {"+442079460777"}
    _pass(db, vault, pbx)
    assert _phonebook(db)[str(made["Id"])] == stored  # cut the same way each pass: no change
