"""A PBX whose licence has no API access among others, on SQLite and PostgreSQL: `pbx test` names the
licence, a sync pass keeps every other PBX in sync and records the licence as that PBX's error."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from py3cx.connect.admin import check_pbx
from py3cx.connect.db import Database
from py3cx.connect.registry import PbxSettings, add_pbx, list_pbxs
from py3cx.connect.service import status_rows, sync_once
from py3cx.connect.vault import Vault
from py3cx.emulator import ApiClient, EmulatorConfig, RunningEmulator, running_emulator

OWNER = ApiClient("conn-owner", "conn-owner-s3cret", "SystemOwner")
SINCE = datetime.now(timezone.utc) - timedelta(days=100)


@pytest.fixture(scope="module")
def enterprise() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=31, calls=120, clients=[OWNER])) as emu:
        yield emu


@pytest.fixture(scope="module")
def professional() -> Iterator[RunningEmulator]:
    with running_emulator(EmulatorConfig(seed=32, calls=120, clients=[OWNER], licence="PRO")) as emu:
        yield emu


def _add(db: Database, vault: Vault, name: str, emu: RunningEmulator) -> None:
    add_pbx(
        db,
        vault,
        PbxSettings(name=name, url=emu.url, client_id=OWNER.client_id, country="GB", rate_limit=1000.0),
        OWNER.secret,
    )


def test_pbx_test_names_a_licence_without_api_access(
    db: Database, vault: Vault, enterprise: RunningEmulator, professional: RunningEmulator
) -> None:
    _add(db, vault, "hq", enterprise)
    _add(db, vault, "branch", professional)
    pbxs = {p.name: p for p in list_pbxs(db, vault)}
    good = {c.name: c for c in asyncio.run(check_pbx(db, vault, pbxs["hq"]))}
    bad = {c.name: c for c in asyncio.run(check_pbx(db, vault, pbxs["branch"]))}
    assert good["licence"].ok and good["licence"].detail.startswith("Enterprise (3CXPSENT)")
    assert all(c.ok for c in good.values()), good
    assert bad["token"].ok and not bad["licence"].ok
    assert bad["licence"].detail.startswith("Professional (3CXPSPROF), 8 simultaneous calls")
    assert "8SC+ Enterprise" in str(bad["licence"].hint)
    # what the refused history read says names the licence too, not the role
    assert not bad["role"].ok and "Professional" in str(bad["role"].hint)
    assert bad["country"].ok  # from LicenseStatus, readable even so


def test_the_other_pbxs_keep_syncing_and_the_licence_is_the_recorded_error(
    db: Database, vault: Vault, enterprise: RunningEmulator, professional: RunningEmulator
) -> None:
    _add(db, vault, "hq", enterprise)
    _add(db, vault, "branch", professional)
    results = asyncio.run(sync_once(db, vault, list_pbxs(db, vault), since=SINCE))
    by = {(r.pbx, r.stream): r for r in results}
    assert by[("hq", "calls")].ok and by[("hq", "calls")].records > 0
    assert by[("hq", "directory")].ok
    for stream in ("calls", "directory"):
        failed = by[("branch", stream)]
        assert not failed.ok and "Professional (3CXPSPROF)" in str(failed.hint)
    rows = {(r["pbx"], r["stream"]): r for r in status_rows(db)}
    assert rows[("hq", "calls")]["error"] is None
    assert "licence is Professional" in str(rows[("branch", "calls")]["error"])
