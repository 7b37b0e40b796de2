"""Contacts for CRM-ready call events: loaded from CSV/XLSX, matched to calls by E.164 number.

The file's columns (header names, any case): ``name``, ``company``, ``phones`` (several separated
by ``,`` or ``;``; also ``phone``, ``mobile``), ``email``, ``crm_id``. Numbers are put in E.164 with
the given country as default region. An import is all or none: a row with no usable phone, or a
repeated ``crm_id``, stops it with the row's line. A re-import updates contacts by ``crm_id``.

Match rule: the caller's number for an inbound call, the number called for an outbound one,
in E.164, equal to one of a contact's phones. Several contacts with that number: the one updated
last wins (and ``matches`` says how many there were).
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

__all__ = ["import_contacts", "match_contacts"]

_PHONE_COLUMNS = ("phones", "phone", "mobile", "telephone")


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
                existing = conn.execute(
                    sa.select(table.c.id).where(table.c.crm_id == contact["crm_id"])
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


def match_contacts(conn: Connection, numbers: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The contact of each E.164 number that has one (the one updated last), with ``matches``."""
    wanted = sorted({n for n in numbers if n})
    if not wanted:
        return {}
    table, phones = schema.contacts, schema.contact_phones
    rows = conn.execute(
        sa.select(phones.c.e164, table)
        .join(table, table.c.id == phones.c.contact_id)
        .where(phones.c.e164.in_(wanted))
        .order_by(phones.c.e164, table.c.updated_at.desc(), table.c.id.desc())
    ).mappings()
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        number = str(row["e164"])
        if number in found:
            found[number]["matches"] += 1
            continue
        found[number] = {
            "name": row["name"],
            "company": row["company"],
            "email": row["email"],
            "crm_id": row["crm_id"],
            "matches": 1,
        }
    return found
