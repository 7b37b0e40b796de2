"""Contacts from CSV/XLSX matched to call events by E.164 number, on SQLite and PostgreSQL: the
import is all or none with the bad line named, a re-import updates by crm_id, inbound calls match
the caller and outbound ones the number called, and the payload still fits its JSON Schema."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import sqlalchemy as sa

from clirun import run_3cx
from py3cx._exceptions import ConfigError
from py3cx.connect import schema
from py3cx.connect.contacts import import_contacts
from py3cx.connect.db import Database
from py3cx.connect.events import emit_call_events
from py3cx.connect.registry import PbxSettings, add_pbx
from py3cx.connect.vault import Vault

CSV = """crm_id,Name,Company,Phones,Email
c-1,Ann Buyer,Acme Ltd,"+44 20 7946 0123; 020 7946 0999",ann@acme.example
c-2,Bob Seller,Bolt plc,+49 30 1234 5678,bob@bolt.example
"""


def _write(tmp_path: Path, text: str, name: str = "contacts.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _call(call_id: str, direction: str, **changes: Any) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    return {
        "call_id": call_id,
        "start_time": now - timedelta(minutes=3),
        "end_time": now,
        "direction": direction,
        "status": "answered",
        "answered": True,
        "from_number": None,
        "from_e164": None,
        "from_name": None,
        "to_number": None,
        "to_e164": None,
        "answered_by_dn": None,
        "answered_by_name": None,
        "queue": None,
        "ringing_seconds": 3.0,
        "talking_seconds": 60.0,
        "records": 1,
        "recording_ids": None,
        **changes,
    }


def _payloads(db: Database) -> dict[str, dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.events.c.call_id, schema.events.c.payload)).all()
    return {str(call_id): payload for call_id, payload in rows}


def test_imported_contacts_name_the_other_party_of_calls(db: Database, vault: Vault, tmp_path: Path) -> None:
    assert import_contacts(db, _write(tmp_path, CSV), country="GB") == 2
    pbx = add_pbx(
        db, vault, PbxSettings(name="office", url="http://127.0.0.1:9", client_id="x"), "secret-value"
    )
    calls = [
        _call("in-1", "Inbound", from_number="02079460999", from_e164="+442079460999", to_number="100"),
        _call("out-1", "Outbound", from_number="100", to_number="+493012345678", to_e164="+493012345678"),
        _call("in-2", "Inbound", from_number="+12125550100", from_e164="+12125550100"),
    ]
    with db.engine.begin() as conn:
        emit_call_events(conn, pbx.id, pbx.name, calls, datetime.now(timezone.utc))
    payloads = _payloads(db)
    assert payloads["in-1"]["data"]["contact"] == {
        "name": "Ann Buyer",
        "company": "Acme Ltd",
        "email": "ann@acme.example",
        "crm_id": "c-1",
        "source": "import",
        "phonebook_id": None,
        "matches": 1,
    }
    assert payloads["out-1"]["data"]["contact"]["crm_id"] == "c-2"  # outbound: the number called
    assert payloads["in-2"]["data"]["contact"] is None
    shipped = json.loads((resources.files("py3cx.connect") / "schemas" / "call.v1.json").read_text())
    validator = jsonschema_rs.Draft202012Validator(shipped)
    for payload in payloads.values():
        validator.validate(payload)


def test_a_bad_row_stops_the_import_and_stores_nothing(db: Database, tmp_path: Path) -> None:
    bad = CSV + "c-3,No Phone,Nowhere,,none@example.com\n"
    with pytest.raises(ConfigError) as caught:
        import_contacts(db, _write(tmp_path, bad), country="GB")
    assert "line 4" in str(caught.value)
    twice = CSV + "c-1,Ann Again,Acme,+44 20 7946 0555,ann2@acme.example\n"
    with pytest.raises(ConfigError) as repeated:
        import_contacts(db, _write(tmp_path, twice), country="GB")
    assert "crm_id 'c-1' again (first on line 2)" in str(repeated.value)
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.contacts)).scalar_one() == 0


def test_a_re_import_updates_contacts_by_crm_id(db: Database, tmp_path: Path) -> None:
    import_contacts(db, _write(tmp_path, CSV), country="GB")
    changed = "crm_id,Name,Company,Phones,Email\nc-1,Ann Buyer,Acme Group,+44 20 7946 0777,ann@acme.example\n"
    import_contacts(db, _write(tmp_path, changed, "changed.csv"), country="GB")
    with db.engine.connect() as conn:
        ann = (
            conn.execute(sa.select(schema.contacts).where(schema.contacts.c.crm_id == "c-1")).mappings().one()
        )
        numbers = set(
            conn.execute(
                sa.select(schema.contact_phones.c.e164).where(schema.contact_phones.c.contact_id == ann["id"])
            ).scalars()
        )
        total = conn.execute(sa.select(sa.func.count()).select_from(schema.contacts)).scalar_one()
    assert ann["company"] == "Acme Group" and numbers == {"+442079460777"} and total == 2


def test_the_command_imports_and_names_a_bad_file(tmp_path: Path, db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(PY3CX_DB=db_url, PY3CX_CONNECT_KEY_FILE=str(tmp_path / "connect.key"))
    done = run_3cx(["connect", "contacts", "import", str(_write(tmp_path, CSV)), "--country", "GB"], env)
    assert done.returncode == 0 and "2 contacts stored" in done.stderr
    missing = run_3cx(["connect", "contacts", "import", str(tmp_path / "none.csv")], env)
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr


def test_a_number_of_several_contacts_names_the_one_updated_last(
    db: Database, vault: Vault, tmp_path: Path
) -> None:
    import_contacts(db, _write(tmp_path, CSV), country="GB")
    later = "crm_id,Name,Company,Phones,Email\nc-9,Ann Newer,Acme Group,+44 20 7946 0123,ann@group.example\n"
    import_contacts(db, _write(tmp_path, later, "later.csv"), country="GB")
    pbx = add_pbx(
        db, vault, PbxSettings(name="office", url="http://127.0.0.1:9", client_id="x"), "secret-value"
    )
    with db.engine.begin() as conn:
        emit_call_events(
            conn,
            pbx.id,
            pbx.name,
            [_call("in-9", "Inbound", from_e164="+442079460123")],
            datetime.now(timezone.utc),
        )
    contact = _payloads(db)["in-9"]["data"]["contact"]
    assert (contact["crm_id"], contact["matches"]) == ("c-9", 2)
