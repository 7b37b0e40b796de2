"""The one token of a (PBX, client id), kept in the connect database for every process and machine.

A PBX keeps one active token per client id: when two connect processes (or two machines) each
fetched their own, they would knock each other out. So the token lives in ``pbx_tokens``
(encrypted) and whoever finds it stale fetches a new one while holding a lock that every other
process waits for: a PostgreSQL advisory lock (which dies with its connection, so a killed worker
never leaves it held), or for SQLite, one machine by nature, a file lock beside the database.
The client's in-process single-flight (``py3cx._auth``) sits in front, so one process asks the
database only when its own copy is stale.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import filelock
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from py3cx._auth import Token
from py3cx.connect.db import Database
from py3cx.connect.schema import pbx_tokens
from py3cx.connect.vault import Vault

__all__ = ["DatabaseTokenStore"]

log = logging.getLogger("py3cx.connect")
_POLL = 0.05


def _lock_key(url: str, identity: str) -> int:
    # a signed 64-bit key for pg_advisory_lock, the same on every machine
    digest = hashlib.sha256(f"py3cx-token\n{url}\n{identity}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class DatabaseTokenStore:
    """A ``py3cx._auth.TokenStore`` in the connect database. Pass it as ``Client(token_store=...)``.

    One instance per client; ``acquire``/``release`` may run on different threads.
    Example: ``AsyncClient(url, cid, secret, token_store=DatabaseTokenStore(db, vault, url, cid))``
    """

    def __init__(self, db: Database, vault: Vault, url: str, identity: str) -> None:
        self._db = db
        self._vault = vault
        self._url = url
        self._identity = identity
        self._key = _lock_key(url, identity)
        self._held: Connection | None = None
        self._file_lock: filelock.BaseFileLock | None = None
        self._guard = threading.Lock()
        path = db.sqlite_path
        if path is not None:
            self._file_lock = filelock.FileLock(
                f"{path}.token-{self._key & 0xFFFFFFFF:08x}.lock", thread_local=False
            )

    def __repr__(self) -> str:
        return f"DatabaseTokenStore(url={self._url!r}, identity={self._identity!r})"

    def acquire(self, timeout: float) -> bool:
        """Take the lock of this (PBX, client id) across processes; False after ``timeout`` seconds.

        On PostgreSQL the lock lives on a connection of its own, outside the pool
        (``Database.lock_engine``), held until ``release``, and the token is read and written on it:
        token fetches never wait on the pool the passes use. (Taking the lock's connection from
        that pool let a crowd of fetches, every PBX's clients starting together, fill it with lock
        holders that each waited for a second connection: connect stalled for good.)
        """
        if self._file_lock is not None:
            try:
                self._file_lock.acquire(timeout=timeout)
            except filelock.Timeout:
                return False
            return True
        conn = self._db.lock_engine.connect()
        deadline = time.monotonic() + timeout
        try:
            while True:
                got = conn.execute(sa.select(sa.func.pg_try_advisory_lock(self._key))).scalar()
                conn.commit()
                if got:
                    with self._guard:
                        self._held = conn
                    return True
                if time.monotonic() >= deadline:
                    conn.close()
                    return False
                time.sleep(_POLL)
        except BaseException:
            conn.close()
            raise

    def release(self) -> None:
        """Let go of the lock taken by ``acquire``."""
        if self._file_lock is not None:
            self._file_lock.release()
            return
        with self._guard:
            conn, self._held = self._held, None
        if conn is None:
            return
        try:
            conn.execute(sa.select(sa.func.pg_advisory_unlock(self._key)))
            conn.commit()
        finally:
            conn.close()

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """The connection holding the lock while it is held, else a pooled one; committed after.

        Inside the lock, reading and writing on the lock's own connection needs no second one: with
        many clients fetching at once (50 Call Control followers starting together), lock holders
        each waiting for a second pooled connection exhausted the pool and stalled every one.
        """
        with self._guard:
            held = self._held
        if held is not None:
            try:
                yield held
                held.commit()
            except BaseException:
                held.rollback()
                raise
            return
        with self._db.engine.begin() as conn:
            yield conn

    def read(self) -> Token | None:
        """The stored token, or None (none yet, or not decryptable with this machine's key)."""
        where = (pbx_tokens.c.url == self._url) & (pbx_tokens.c.identity == self._identity)
        with self._connection() as conn:
            row = conn.execute(sa.select(pbx_tokens).where(where)).first()
        if row is None:
            return None
        try:
            access = self._vault.decrypt(row.access_token_enc, "a stored token")
        except Exception:  # a token we cannot read is one we fetch again
            log.warning(
                "py3cx connect: the stored token of %s cannot be decrypted; fetching a new one", self._url
            )
            return None
        return Token(access, row.expires_at, row.obtained_at, row.fingerprint)

    def write(self, token: Token) -> None:
        """Store ``token`` (encrypted) for every other process."""
        row = {
            "url": self._url,
            "identity": self._identity,
            "access_token_enc": self._vault.encrypt(token.access_token),
            "expires_at": token.expires_at,
            "obtained_at": token.obtained_at,
            "fingerprint": token.fingerprint,
        }
        with self._connection() as conn:
            conn.execute(
                sa.delete(pbx_tokens).where(
                    (pbx_tokens.c.url == self._url) & (pbx_tokens.c.identity == self._identity)
                )
            )
            conn.execute(sa.insert(pbx_tokens).values(row))
