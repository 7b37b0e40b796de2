"""Contacts for CRM-ready call events: loaded from CSV/XLSX or synced from each PBX's phonebook,
matched to calls by E.164 number.

Two sources, kept apart by ``contacts.source``:

- **imported** (``source`` NULL): ``3cx connect contacts import``. The file's columns (header names, any case): ``name``, ``company``, ``phones`` (several separated
by ``,`` or ``;``; also ``phone``, ``mobile``), ``email``, ``crm_id``. Numbers are put in E.164 with
the given country as default region. An import is all or none: a row with no usable phone, or a
repeated ``crm_id``, stops it with the row's line. A re-import updates contacts by ``crm_id``
and never touches a phonebook contact.
- **phonebook** (``source`` ``"phonebook:<pbx name>"``, ``source_key`` the PBX's contact ``Id``):
  the PBX's company phonebook (XAPI ``/Contacts``), synced by each directory pass
  (``store_phonebook``): its numbers (``PhoneNumber``, ``Mobile2``, ``Business``, ``Business2``,
  ``Home``, ``Other``) in E.164 with the PBX's country as default region; an entry gone from the
  phonebook (or left without a phone number) is removed. It never touches an imported contact.

Match rule: the caller's number for an inbound call, the number called for an outbound one,
in E.164, equal to one of a contact's phones. Only imported contacts and the phonebook of the
call's own PBX are candidates (another PBX's phonebook never names a call). Several candidates:
an imported contact (the CRM's own) wins over a phonebook one; among the same source, the one
updated last wins. ``matches`` says how many candidates there were, ``source`` which one won.
Example: ``match_contacts(conn, "office", ["+442079460123"])``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from py3cx._exceptions import ConfigError
from py3cx.connect import schema
from py3cx.connect.db import Database
from py3cx.connect.records import to_e164

__all__ = ["PHONEBOOK_PHONES", "import_contacts", "match_contacts", "phonebook_source", "store_phonebook"]

_PHONE_COLUMNS = ("phones", "phone", "mobile", "telephone")
# the numbers of a PBX phonebook entry (Pbx.Contact in the XAPI spec) that a call can come from
PHONEBOOK_PHONES = ("PhoneNumber", "Mobile2", "Business", "Business2", "Home", "Other")


def _cells(values: Mapping[str, str]) -> dict[str, str]:
    return {key.strip().lower().replace(" ", "_"): value.strip() for key, value in values.items()}


def import_contacts(db: Database, path: str | Path, *, country: str | None) -> int:
    """Load the contacts of a CSV or XLSX file (all or none); returns how many were stored.

    Raises ConfigError naming the file and line of the first bad row.
    """
    from py3cx.provisioning.source import read_rows

    rows = read_rows(path)
    region = country.upper() if country else None
    contacts: list[tuple[dict[str, Any], list[str]]] = []
    seen: dict[str, int | None] = {}
    for row in rows:
        cells = _cells(row.values)
        raw = [p for column in _PHONE_COLUMNS for p in re.split(r"[;,]", cells.get(column, "")) if p.strip()]
        phones = sorted({e for e in (to_e164(p.strip(), region) for p in raw) if e})
        where = f"{path}, line {row.line}"
        if not phones:
            raise ConfigError(
                f"{where}: no phone number that reads as one ({', '.join(raw) or 'empty'})",
                hint="give numbers in international form (+44...) or set --country for national ones",
            )
        crm_id = cells.get("crm_id") or None
        if crm_id is not None:
            if crm_id in seen:
                raise ConfigError(f"{where}: crm_id {crm_id!r} again (first on line {seen[crm_id]})")
            seen[crm_id] = row.line
        contact = {
            "crm_id": crm_id,
            "name": cells.get("name") or None,
            "company": cells.get("company") or None,
            "email": cells.get("email") or None,
            "phones": ", ".join(raw),
        }
        contacts.append((contact, phones))
    now = datetime.now(timezone.utc)
    table, phones_table = schema.contacts, schema.contact_phones
    with db.engine.begin() as conn:
        for contact, phones in contacts:
            existing = None
            if contact["crm_id"] is not None:
                # phonebook contacts have no crm_id; the source test says so in the query too
                existing = conn.execute(
                    sa.select(table.c.id).where(
                        (table.c.crm_id == contact["crm_id"]) & table.c.source.is_(None)
                    )
                ).scalar()
            if existing is None:
                contact_id = conn.execute(
                    sa.insert(table).values(**contact, updated_at=now).returning(table.c.id)
                ).scalar_one()
            else:
                contact_id = existing
                conn.execute(sa.update(table).where(table.c.id == existing).values(**contact, updated_at=now))
                conn.execute(sa.delete(phones_table).where(phones_table.c.contact_id == existing))
            conn.execute(sa.insert(phones_table), [{"e164": e, "contact_id": contact_id} for e in phones])
    return len(contacts)


def phonebook_source(pbx_name: str) -> str:
    """The ``contacts.source`` of a PBX's phonebook entries. Example: ``phonebook_source("office")``."""
    return f"phonebook:{pbx_name}"


def _phonebook_entry(entry: Mapping[str, Any], region: str | None) -> tuple[dict[str, Any], list[str]] | None:
    """The contact row and E.164 phones of one phonebook entry; None without an id or a usable phone."""
    if entry.get("Id") is None:
        return None
    raw = [
        str(entry[f]).strip() for f in PHONEBOOK_PHONES if isinstance(entry.get(f), str) and entry[f].strip()
    ]
    phones = sorted({e for e in (to_e164(p, region) for p in raw) if e})
    if not phones:
        return None
    names = [str(entry[f]).strip() for f in ("FirstName", "LastName") if entry.get(f)]
    contact = {
        "source_key": str(entry["Id"]),
        "name": " ".join(n for n in names if n) or None,
        "company": entry.get("CompanyName") or None,
        "email": entry.get("Email") or None,
        "phones": ", ".join(raw),
    }
    return _fitted(contact), phones


def _fitted(contact: dict[str, Any]) -> dict[str, Any]:
    """``contact`` with each text cut to its column's length: the PBX's fields are longer than
    ours may be, and one over-long entry must not stop every directory pass (PostgreSQL refuses it)."""
    columns = schema.contacts.c
    for name, value in contact.items():
        length = getattr(columns[name].type, "length", None)
        if isinstance(value, str) and length is not None and len(value) > length:
            contact[name] = value[:length]
    return contact


def store_phonebook(
    conn: Connection, pbx_name: str, entries: Sequence[Mapping[str, Any]], region: str | None, now: datetime
) -> int:
    """Make the contacts of ``pbx_name``'s phonebook those of ``entries`` (its ``/Contacts`` rows), in
    ``conn``'s transaction: new entries added, changed ones updated (``updated_at`` moves only then),
    gone ones removed. Imported contacts and other PBXs' phonebooks are never touched.

    Returns the contacts added, changed or removed. Example:
    ``store_phonebook(conn, "office", [{"Id": 1, "FirstName": "Ann", "PhoneNumber": "+442079460123"}], "GB", now)``
    """
    table, phones_table = schema.contacts, schema.contact_phones
    source = phonebook_source(pbx_name)
    wanted: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for entry in entries:
        found = _phonebook_entry(entry, region)
        if found is not None:
            wanted[found[0]["source_key"]] = found
    stored: dict[str, tuple[int, tuple[Any, ...], list[str]]] = {}
    rows = conn.execute(
        sa.select(
            table.c.id, table.c.source_key, table.c.name, table.c.company, table.c.email, table.c.phones
        ).where(table.c.source == source)
    ).all()
    numbers: dict[int, list[str]] = {}
    for contact_id, e164 in conn.execute(
        sa.select(phones_table.c.contact_id, phones_table.c.e164)
        .join(table, table.c.id == phones_table.c.contact_id)
        .where(table.c.source == source)
        .order_by(phones_table.c.e164)
    ):
        numbers.setdefault(int(contact_id), []).append(str(e164))
    for contact_id, key, *columns in rows:
        stored[str(key)] = (int(contact_id), tuple(columns), numbers.get(int(contact_id), []))
    changed = 0
    for key, (contact, phones) in wanted.items():
        values = (contact["name"], contact["company"], contact["email"], contact["phones"])
        known = stored.get(key)
        if known is not None and known[1] == values and known[2] == phones:
            continue
        if known is None:
            contact_id = conn.execute(
                sa.insert(table).values(**contact, source=source, updated_at=now).returning(table.c.id)
            ).scalar_one()
        else:
            contact_id = known[0]
            conn.execute(sa.update(table).where(table.c.id == contact_id).values(**contact, updated_at=now))
            conn.execute(sa.delete(phones_table).where(phones_table.c.contact_id == contact_id))
        conn.execute(sa.insert(phones_table), [{"e164": e, "contact_id": contact_id} for e in phones])
        changed += 1
    gone = [known[0] for key, known in stored.items() if key not in wanted]
    if gone:
        conn.execute(sa.delete(phones_table).where(phones_table.c.contact_id.in_(gone)))
        conn.execute(sa.delete(table).where(table.c.id.in_(gone)))
    return changed + len(gone)


def match_contacts(conn: Connection, pbx_name: str, numbers: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The contact of each E.164 number of a call of ``pbx_name`` that has one, by the module's match
    rule (imported first, then the one updated last; only this PBX's phonebook), with ``source``
    (``import`` or ``phonebook``), ``phonebook_id`` and ``matches``.
    Example: ``match_contacts(conn, "office", ["+442079460123"])["+442079460123"]["name"]``
    """
    wanted = sorted({n for n in numbers if n})
    if not wanted:
        return {}
    table, phones = schema.contacts, schema.contact_phones
    imported_first = sa.case((table.c.source.is_(None), 0), else_=1)
    rows = conn.execute(
        sa.select(phones.c.e164, table)
        .join(table, table.c.id == phones.c.contact_id)
        .where(
            phones.c.e164.in_(wanted)
            & (table.c.source.is_(None) | (table.c.source == phonebook_source(pbx_name)))
        )
        .order_by(phones.c.e164, imported_first, table.c.updated_at.desc(), table.c.id.desc())
    ).mappings()
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        number = str(row["e164"])
        if number in found:
            found[number]["matches"] += 1
            continue
        imported = row["source"] is None
        found[number] = {
            "name": row["name"],
            "company": row["company"],
            "email": row["email"],
            "crm_id": row["crm_id"],
            "source": "import" if imported else "phonebook",
            "phonebook_id": None if imported else row["source_key"],
            "matches": 1,
        }
    return found
