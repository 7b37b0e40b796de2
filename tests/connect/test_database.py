"""The connect database on SQLite and PostgreSQL: migrations, the vault, the PBX registry and
the token every process shares."""

from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from py3cx._auth import Token
from py3cx._exceptions import ConfigError
from py3cx.connect import schema
from py3cx.connect.admin import rotate_key
from py3cx.connect.db import Database, open_database, redact_url
from py3cx.connect.outbox import add_endpoint, rotate_secret
from py3cx.connect.registry import (
    PbxSettings,
    add_pbx,
    get_pbx,
    import_pbxs,
    list_pbxs,
    remove_pbx,
    update_pbx,
)
from py3cx.connect.tokens import DatabaseTokenStore
from py3cx.connect.vault import Vault, load_vault

SECRET = "the-client-s3cret-value"


def _settings(name: str = "office", **changes: object) -> PbxSettings:
    base = PbxSettings(name=name, url="https://PBX.example.com:443/xapi/v1/", client_id="sync")
    return PbxSettings(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_a_database_of_the_first_revision_is_upgraded_keeping_its_pbxs(db_url: str, vault: Vault) -> None:
    from alembic import command
    from alembic.config import Config

    from py3cx.connect.db import _MIGRATIONS

    old = open_database(db_url, migrate=False)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with old.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.commit()
    # a PBX stored by the first release (its columns only)
    first = {c.name for c in schema.pbx.columns}
    row = _row_for_0001(vault)
    with old.engine.begin() as conn:
        conn.execute(sa.insert(schema.pbx).values({k: v for k, v in row.items() if k in first}))
    old.dispose()
    db = open_database(db_url)  # upgrades on open
    try:
        assert [p.name for p in list_pbxs(db, vault)] == ["office"]
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    finally:
        db.dispose()


def _row_for_0001(vault: Vault) -> dict[str, object]:
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    return {
        "name": "office",
        "url": "https://pbx.example.com",
        "client_id": "sync",
        "client_secret_enc": vault.encrypt(SECRET),
        "created_at": now,
        "updated_at": now,
    }


def test_migrations_build_exactly_the_documented_tables_and_run_once(db_url: str) -> None:
    db = open_database(db_url, migrate=False)
    try:
        assert db.migrate() == ["0001", "0002", "0003"]
        assert db.migrate() == []
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), schema.metadata)
            tables = set(sa.inspect(conn).get_table_names())
        assert differences == []
        assert {
            "pbx",
            "call_records",
            "calls",
            "users",
            "departments",
            "queues",
            "queue_agents",
            "sync_state",
            "webhook_endpoints",
            "events",
            "deliveries",
        } <= tables
    finally:
        db.dispose()


def test_a_database_that_cannot_be_reached_is_named_without_its_password() -> None:
    with pytest.raises(ConfigError) as info:
        open_database("postgresql+psycopg://me:hunter2@127.0.0.1:1/none")
    assert "hunter2" not in str(info.value) and "127.0.0.1" in str(info.value)
    assert "PY3CX_DB" in (info.value.hint or "")
    assert "hunter2" not in redact_url("postgresql://me:hunter2@h/d")


@pytest.mark.parametrize(
    ("url", "words"),
    [("mysql://u@h/d", "does not support"), ("sqlite://", "SQLite file"), ("not a url", "not valid")],
)
def test_unsupported_database_urls_are_refused_with_a_hint(url: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as info:
        open_database(url)
    assert info.value.hint


def test_the_key_file_is_made_private_on_first_use_and_reused(private_key: Path) -> None:
    vault = load_vault()
    assert stat.S_IMODE(private_key.stat().st_mode) == 0o600
    stored = vault.encrypt(SECRET)
    assert SECRET not in stored
    assert load_vault().decrypt(stored) == SECRET
    assert "connect.key" in repr(vault) and private_key.read_text() not in repr(vault)


def test_a_wrong_key_is_a_clear_error_that_shows_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = load_vault().encrypt(SECRET)
    monkeypatch.setenv("PY3CX_CONNECT_KEY", "A" * 43 + "=")  # a valid key, not the one used
    with pytest.raises(ConfigError) as info:
        load_vault().decrypt(stored, "the secret of PBX 'office'")
    assert "PBX 'office'" in str(info.value) and SECRET not in str(info.value)
    monkeypatch.setenv("PY3CX_CONNECT_KEY", "not-a-key")
    with pytest.raises(ConfigError, match="not a Fernet key"):
        load_vault()


def test_pbxs_are_stored_with_encrypted_secrets_and_listed_without_them(db: Database, vault: Vault) -> None:
    added = add_pbx(db, vault, _settings(country="gb", rate_limit=5), SECRET)
    assert added.settings.url == "https://pbx.example.com" and added.settings.country == "GB"
    assert SECRET not in repr(added)
    with db.engine.connect() as conn:
        stored = conn.execute(sa.select(schema.pbx)).mappings().one()
    assert SECRET not in str(dict(stored))
    assert get_pbx(db, vault, "office").client_secret == SECRET
    with pytest.raises(ConfigError, match="exists"):
        add_pbx(db, vault, _settings(), SECRET)
    update_pbx(db, vault, "office", rate_limit=2.5, client_secret="new-s3cret")
    assert get_pbx(db, vault, "office").settings.rate_limit == 2.5
    assert get_pbx(db, vault, "office").client_secret == "new-s3cret"
    remove_pbx(db, "office")
    assert list_pbxs(db, vault) == []
    with pytest.raises(ConfigError, match="no PBX named 'office'"):
        remove_pbx(db, "office")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"name": "has space"}, "bad PBX name"),
        ({"url": "ftp://pbx"}, "bad PBX URL"),
        ({"history_source": "cdr"}, "unknown history source"),
        ({"time_zone": "Mars/Base"}, "unknown time zone"),
        ({"country": "GBR"}, "bad country"),
        ({"rate_limit": 0}, "rate-limit"),
    ],
)
def test_bad_pbx_settings_are_refused_by_name(changes: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        _settings(**changes).check()


def test_rotating_the_key_re_encrypts_every_secret_and_drops_the_old_key(
    db: Database, vault: Vault, private_key: Path
) -> None:
    add_pbx(db, vault, _settings(route_point_id="8000"), SECRET, "route-s3cret")
    DatabaseTokenStore(db, vault, "https://pbx.example.com", "sync").write(
        Token("tok", time.time() + 60, time.time())
    )
    endpoint, hook_secret = add_endpoint(db, vault, "https://crm.example.com/hooks")
    rotated_hook = rotate_secret(db, vault, endpoint.id)
    old_key = private_key.read_text()
    assert rotate_key(db, vault) == 5  # two PBX secrets, a token, two webhook secrets
    new_key = private_key.read_text()
    assert new_key != old_key and len(new_key.split()) == 1
    fresh = load_vault()
    pbx = get_pbx(db, fresh, "office")
    assert (pbx.client_secret, pbx.route_point_secret) == (SECRET, "route-s3cret")
    token = DatabaseTokenStore(db, fresh, "https://pbx.example.com", "sync").read()
    assert token is not None and token.access_token == "tok"
    with pytest.raises(ConfigError):
        get_pbx(db, Vault([old_key.strip().encode()], "old"), "office")
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(schema.webhook_endpoints)).mappings().one()
    assert fresh.decrypt(row["secret_enc"]) == rotated_hook
    assert fresh.decrypt(row["previous_secret_enc"]) == hook_secret


def test_the_shared_token_lock_lets_one_holder_in_at_a_time(db: Database, vault: Vault) -> None:
    first = DatabaseTokenStore(db, vault, "https://pbx.example.com", "sync")
    second = DatabaseTokenStore(db, vault, "https://pbx.example.com", "sync")
    other = DatabaseTokenStore(db, vault, "https://other.example.com", "sync")
    assert first.acquire(1.0)
    try:
        assert not second.acquire(0.2)
        assert other.acquire(0.2)
        other.release()
        got: list[bool] = []
        waiter = threading.Thread(target=lambda: got.append(second.acquire(10.0)))
        waiter.start()
        first.write(Token("shared-token", time.time() + 3600, time.time(), "fp"))
    finally:
        first.release()
    waiter.join()
    assert got == [True]
    try:
        token = second.read()
    finally:
        second.release()
    assert token is not None and (token.access_token, token.fingerprint) == ("shared-token", "fp")
    with db.engine.connect() as conn:
        assert "shared-token" not in str(conn.execute(sa.select(schema.pbx_tokens)).all())


def test_importing_a_pbx_list_adds_all_or_none(db: Database, vault: Vault) -> None:
    entries = [
        {
            "name": f"pbx-{i}",
            "url": f"http://127.0.0.1:{6000 + i}",
            "client_id": "owner",
            "client_secret": f"s{i}",
        }
        for i in range(3)
    ]
    added = import_pbxs(db, vault, entries, backfill_days=90)
    assert [p.name for p in added] == ["pbx-0", "pbx-1", "pbx-2"]
    assert get_pbx(db, vault, "pbx-2").client_secret == "s2" and added[0].settings.backfill_days == 90
    bad = [{**entries[0], "name": "pbx-9"}, {"name": "pbx-10", "url": "http://x", "client_id": "o"}]
    with pytest.raises(ConfigError, match=r"entry 2 \('pbx-10'\) lacks client_secret"):
        import_pbxs(db, vault, bad)
    with pytest.raises(ConfigError, match="already stored: pbx-0"):
        import_pbxs(db, vault, entries[:1])
    assert [p.name for p in list_pbxs(db, vault)] == ["pbx-0", "pbx-1", "pbx-2"]


def test_token_holders_need_no_second_connection_so_a_small_pool_never_stalls(
    db: Database, vault: Vault
) -> None:
    """Many clients fetching their tokens at once (50 Call Control followers starting together)
    each held a pooled connection for the lock, and a holder needed a second one to read and write
    the token: once the holders had taken the whole pool, every one waited forever. Locks now live
    on connections outside the pool, and the token is read and written on the lock's own. Here
    four fetches of four client ids hold their locks together over a pool of two connections."""
    import concurrent.futures

    small = Database(db.url, sa.create_engine(db.engine.url, pool_size=2, max_overflow=0, pool_timeout=5))
    barrier = threading.Barrier(2)

    def fetch(identity: str) -> str:
        store = DatabaseTokenStore(small, vault, "https://pbx.example.com", identity)
        assert store.acquire(30.0)
        try:
            if identity in ("a", "b"):
                barrier.wait(10)  # both pooled connections are held by lock holders now
            assert store.read() is None
            store.write(Token(f"tok-{identity}", time.time() + 60, time.time()))
        finally:
            store.release()
        found = DatabaseTokenStore(small, vault, "https://pbx.example.com", identity).read()
        assert found is not None
        return found.access_token

    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            tokens = sorted(pool.map(fetch, ["a", "b", "c", "d"]))
    finally:
        small.dispose()
    assert tokens == ["tok-a", "tok-b", "tok-c", "tok-d"]
