"""The connect database: where it is, how to open it, how to bring its tables up to date.

``--db URL`` or ``PY3CX_DB`` name it; the default is a SQLite file in the user data folder
(``~/.local/share/py3cx/connect.db`` on Linux). PostgreSQL is ``postgresql+psycopg://user@host/db``.
Migrations are Alembic revisions shipped in the package (``py3cx/connect/migrations``), applied by
``3cx connect migrate`` and by every command that opens the database.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import platformdirs
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from py3cx._exceptions import ConfigError

__all__ = [
    "Database",
    "default_db_url",
    "open_database",
    "redact_url",
    "upsert",
]

_MIGRATIONS = Path(__file__).parent / "migrations"
_migrate_lock = threading.Lock()


def default_db_url() -> str:
    """``PY3CX_DB``, else a SQLite file in the user data folder. Example: ``default_db_url()``."""
    override = os.environ.get("PY3CX_DB")
    if override:
        return override
    folder = Path(platformdirs.user_data_dir("py3cx"))
    return f"sqlite:///{folder / 'connect.db'}"


def redact_url(url: str) -> str:
    """The URL with any password hidden, fit for a message. Example: ``redact_url("postgresql://u:p@h/d")``."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparsable database URL>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (status, metrics, Grafana) read while a pass writes; foreign keys on
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """An open connect database: the engine, its dialect, its file (SQLite) and its key folder.

    Example: ``db = open_database("sqlite:///connect.db"); db.engine``
    """

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine

    def __repr__(self) -> str:
        return f"Database({redact_url(self.url)!r})"

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None for PostgreSQL."""
        if self.engine.dialect.name != "sqlite":
            return None
        database = self.engine.url.database
        return Path(database) if database else None

    def migrate(self) -> list[str]:
        """Apply every Alembic revision not yet applied; return the revisions applied (oldest first).

        Raises ConfigError when the database cannot be reached.
        """
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with _migrate_lock, self.connect_or_fail() as conn:
            before = MigrationContext.configure(conn).get_current_revision()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
            after = MigrationContext.configure(conn).get_current_revision()
        if before == after or after is None:
            return []
        from alembic.script import ScriptDirectory

        applied = ScriptDirectory.from_config(config).iterate_revisions(after, before)  # newest first
        return [r.revision for r in reversed(list(applied)) if r is not None and r.revision != before]

    def connect_or_fail(self) -> Connection:
        """A connection, or ConfigError naming the database (password hidden) and a hint."""
        try:
            return self.engine.connect()
        except sa.exc.OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "cannot connect"
            raise ConfigError(
                f"cannot open the connect database {redact_url(self.url)}: {reason}",
                hint="check --db / PY3CX_DB; for PostgreSQL that the server runs and the database exists",
            ) from None

    @functools.cached_property
    def lock_engine(self) -> Engine:
        """An engine of the same database without a pool: each connection is opened for a lock
        (``tokens.DatabaseTokenStore``) and closed with it, never taken from ``engine``'s pool."""
        return sa.create_engine(self.engine.url, poolclass=sa.pool.NullPool)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if "lock_engine" in self.__dict__:
            self.lock_engine.dispose()


def open_database(url: str | None = None, *, migrate: bool = True) -> Database:
    """Open (and by default migrate) the database at ``url`` (default: ``default_db_url()``).

    SQLite files get their folder made (0700) and WAL mode. Raises ConfigError for a bad URL, a
    missing driver or an unreachable server. Example: ``open_database("sqlite:///x.db")``.
    """
    url = url or default_db_url()
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(
            "the connect database URL is not valid",
            hint="use sqlite:///path/file.db or postgresql+psycopg://user@host/database",
        ) from None
    options: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ConfigError(
                "connect needs a SQLite file, not an in-memory database", hint="--db sqlite:///connect.db"
            )
        Path(parsed.database).expanduser().parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": 30}
    elif parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() in ("psycopg2", "default") or parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        options.update(pool_size=10, max_overflow=20)
    else:
        raise ConfigError(
            f"connect does not support {parsed.get_backend_name()!r} databases",
            hint="use SQLite (the default) or PostgreSQL (postgresql+psycopg://...)",
        )
    try:
        engine = sa.create_engine(parsed, **options)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the database driver is not installed ({exc.name})",
            hint="pip install 'py3cx[connect]'",
        ) from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    db = Database(url, engine)
    if migrate:
        db.migrate()
    return db


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    keep: Iterable[str] = (),
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows``, or update the existing row with the same primary key when its
    ``content_hash`` differs; return the ``returning`` columns (default: the key) of each row
    inserted or changed.

    Columns named in ``keep`` keep their stored value on update (``first_seen``...). A row whose
    hash is unchanged is not written at all: a pass with nothing new changes nothing.
    """
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(table)
    key = [c.name for c in table.primary_key.columns]
    kept = set(keep) | set(key)
    updates = {
        c.name: statement.excluded[c.name] for c in table.columns if c.name not in kept and c.name in rows[0]
    }
    statement = statement.on_conflict_do_update(
        index_elements=key,
        set_=updates,
        where=table.c.content_hash != statement.excluded.content_hash,
    )
    # RETURNING gives one row per insert or real update: batched, and countable on both databases
    columns = [table.c[name] for name in returning] or list(table.primary_key.columns)
    result = conn.execute(statement.returning(*columns), [dict(row) for row in rows])
    return [tuple(row) for row in result.all()]


def fit_to(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with each text cut to its column's length in ``table``: a PBX's fields may be longer
    than ours, and one over-long value must not stop every pass (PostgreSQL refuses it; SQLite
    would keep it whole, so both databases store the same). Returns ``row``, changed in place."""
    for name, value in row.items():
        column = table.c.get(name)
        length = getattr(column.type, "length", None) if column is not None else None
        if isinstance(value, str) and length is not None and len(value) > length:
            row[name] = value[:length]
    return row
