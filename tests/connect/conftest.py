"""Fixtures of the connect tests: a real SQLite file and a real PostgreSQL database per test
(never skipped in CI: ``PY3CX_REQUIRE_POSTGRES=1`` turns a missing server into a failure), a
private key file, and emulators on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from py3cx._auth import forget_tokens
from py3cx.connect.db import Database, open_database
from py3cx.connect.vault import Vault, load_vault

# the server this machine (and CI) runs; override with PY3CX_TEST_POSTGRES
POSTGRES = os.environ.get("PY3CX_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _postgres_problem() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"no PostgreSQL at {sa.make_url(POSTGRES).render_as_string(hide_password=True)}: {exc}"
    return None


@pytest.fixture(autouse=True)
def private_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every connect test has its own key file and no database from the environment."""
    key = tmp_path / "keys" / "connect.key"
    monkeypatch.setenv("PY3CX_CONNECT_KEY_FILE", str(key))
    for var in ("PY3CX_CONNECT_KEY", "PY3CX_DB", "PY3CX_CLIENT_SECRET", "PY3CX_ROUTE_POINT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    forget_tokens()
    return key


def new_database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of ``kind`` (sqlite or postgresql); dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'connect.db'}"
        return
    problem = _postgres_problem()
    if problem:
        if os.environ.get("PY3CX_REQUIRE_POSTGRES"):
            pytest.fail(problem)
        pytest.skip(problem)
    name = f"py3cx_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh database, once SQLite and once PostgreSQL."""
    yield from new_database_url(request.param, tmp_path)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def vault(private_key: Path) -> Vault:
    return load_vault()
