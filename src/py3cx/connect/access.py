"""Per-PBX access keys for click-to-call (``/webapi/{key}/makecall``, ``POST /api/pbx/{name}/calls``).

A key is ``pk_`` and 43 random URL-safe characters (``secrets.token_urlsafe``), shown once; the
database keeps its SHA-256 (hex, unique), its first characters (to tell keys apart) and its dates.
A key is found by its hash (an index lookup: nothing compares the key itself character by
character), and holds while it is neither revoked (``revoked_at`` in the past) nor expired.
Rotating makes a new key and revokes the old one at the end of the overlap.

Example:
    key, secret = add_key(db, "office", label="CRM")
    match = authenticate(db, secret)  # -> KeyMatch(pbx_id, pbx_name, key_id) or None
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from py3cx._exceptions import ConfigError
from py3cx.connect import schema
from py3cx.connect.db import Database

__all__ = [
    "AccessKey",
    "KeyMatch",
    "add_key",
    "authenticate",
    "hash_key",
    "list_keys",
    "revoke_key",
    "rotate_key",
]

KEY_PREFIX = "pk_"
_SHOWN = 10  # characters of the key kept to tell keys apart ("pk_" and 7 of the 43 random ones)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def hash_key(key: str) -> str:
    """The SHA-256 (hex) of a key: what the database stores. Example: ``hash_key("pk_...")``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AccessKey:
    """A stored key, never the key itself: its id, PBX, prefix, label and dates."""

    id: int
    pbx: str
    prefix: str
    label: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime | None = None) -> str:
        """``active``, ``revoked``, ``expired``, or ``rotating`` (revoked at the end of an overlap)."""
        now = now or _now()
        if self.revoked_at is not None and self.revoked_at <= now:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "rotating" if self.revoked_at is not None else "active"

    def as_row(self) -> dict[str, Any]:
        def text(value: datetime | None) -> str | None:
            return value.isoformat(timespec="seconds") if value else None

        return {
            "id": self.id,
            "pbx": self.pbx,
            "prefix": self.prefix,
            "label": self.label,
            "state": self.state(),
            "created_at": text(self.created_at),
            "expires_at": text(self.expires_at),
            "last_used_at": text(self.last_used_at),
            "revoked_at": text(self.revoked_at),
        }


@dataclass(frozen=True)
class KeyMatch:
    """Whom a key admits: one PBX (id and name) through one key (id)."""

    pbx_id: int
    pbx_name: str
    key_id: int


def _select() -> Any:
    keys = schema.pbx_access_keys
    return sa.select(keys, schema.pbx.c.name.label("pbx_name")).select_from(
        keys.join(schema.pbx, schema.pbx.c.id == keys.c.pbx_id)
    )


def _to_key(row: Any) -> AccessKey:
    created = _utc(row["created_at"])
    assert created is not None
    return AccessKey(
        id=row["id"],
        pbx=row["pbx_name"],
        prefix=row["prefix"],
        label=row["label"],
        created_at=created,
        expires_at=_utc(row["expires_at"]),
        last_used_at=_utc(row["last_used_at"]),
        revoked_at=_utc(row["revoked_at"]),
    )


def _pbx_id(conn: Connection, name: str) -> int:
    found = conn.execute(sa.select(schema.pbx.c.id).where(schema.pbx.c.name == name)).scalar()
    if found is None:
        raise ConfigError(f"no PBX named {name!r}", hint="`3cx connect pbx list` shows them")
    return int(found)


def _insert(
    conn: Connection, pbx_id: int, label: str | None, expires_at: datetime | None, now: datetime
) -> tuple[int, str]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    new_id = conn.execute(
        sa.insert(schema.pbx_access_keys)
        .values(
            pbx_id=pbx_id,
            key_hash=hash_key(key),
            prefix=key[:_SHOWN],
            label=label,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(schema.pbx_access_keys.c.id)
    ).scalar_one()
    return int(new_id), key


def _get(conn: Connection, key_id: int) -> AccessKey:
    row = conn.execute(_select().where(schema.pbx_access_keys.c.id == key_id)).mappings().first()
    if row is None:
        raise ConfigError(f"no access key {key_id}", hint="`3cx connect key list` shows them")
    return _to_key(row)


def add_key(
    db: Database, pbx_name: str, *, label: str | None = None, expires: timedelta | None = None
) -> tuple[AccessKey, str]:
    """A new key for one PBX: the stored row and the key (shown once; only its hash is kept).

    Raises ConfigError for an unknown PBX. Example: ``row, key = add_key(db, "office", label="CRM")``
    """
    now = _now()
    with db.engine.begin() as conn:
        pbx_id = _pbx_id(conn, pbx_name)
        key_id, key = _insert(conn, pbx_id, label, now + expires if expires else None, now)
        return _get(conn, key_id), key


def list_keys(db: Database, pbx_name: str | None = None) -> list[AccessKey]:
    """The keys (of one PBX when named; ConfigError if it is unknown), oldest first."""
    with db.engine.connect() as conn:
        query = _select().order_by(schema.pbx_access_keys.c.id)
        if pbx_name is not None:
            query = query.where(schema.pbx_access_keys.c.pbx_id == _pbx_id(conn, pbx_name))
        return [_to_key(row) for row in conn.execute(query).mappings()]


def revoke_key(db: Database, key_id: int) -> AccessKey:
    """Revoke a key now (one already revoked keeps its date). Raises ConfigError for an unknown id."""
    now = _now()
    table = schema.pbx_access_keys
    with db.engine.begin() as conn:
        current = _get(conn, key_id)
        if current.revoked_at is None or current.revoked_at > now:
            conn.execute(sa.update(table).where(table.c.id == key_id).values(revoked_at=now))
        return _get(conn, key_id)


def rotate_key(
    db: Database, key_id: int, *, overlap: timedelta = timedelta(hours=24)
) -> tuple[AccessKey, str]:
    """A new key for the same PBX and label (with the old key's lifetime, from now); the old key
    works until the overlap ends, then is revoked. Returns the new row and key (shown once).

    Raises ConfigError for an unknown, revoked or expired key.
    Example: ``row, key = rotate_key(db, 3, overlap=timedelta(hours=1))``
    """
    now = _now()
    table = schema.pbx_access_keys
    with db.engine.begin() as conn:
        old = _get(conn, key_id)
        if old.state(now) != "active":
            raise ConfigError(
                f"access key {key_id} is {old.state(now)}", hint="`3cx connect key add PBX` makes a new one"
            )
        lifetime = old.expires_at - old.created_at if old.expires_at else None
        pbx_id = conn.execute(sa.select(table.c.pbx_id).where(table.c.id == key_id)).scalar_one()
        new_id, key = _insert(conn, pbx_id, old.label, now + lifetime if lifetime else None, now)
        conn.execute(sa.update(table).where(table.c.id == key_id).values(revoked_at=now + overlap))
        return _get(conn, new_id), key


def authenticate(db: Database, key: str, now: datetime | None = None) -> KeyMatch | None:
    """Whom ``key`` admits, or None for a key that is unknown, revoked or expired (one answer for
    the three). Notes when it was used. Example: ``authenticate(db, "pk_...")``
    """
    now = now or _now()
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    digest = hash_key(key)
    table = schema.pbx_access_keys
    with db.engine.begin() as conn:
        row = conn.execute(_select().where(table.c.key_hash == digest)).mappings().first()
        if row is None or not hmac.compare_digest(str(row["key_hash"]), digest):
            return None
        if _to_key(row).state(now) not in ("active", "rotating"):
            return None
        conn.execute(sa.update(table).where(table.c.id == row["id"]).values(last_used_at=now))
        return KeyMatch(int(row["pbx_id"]), str(row["pbx_name"]), int(row["id"]))
