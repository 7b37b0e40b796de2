"""The emulator's state: configuration, database, spec index, tokens, faults, clock and RNG."""

from __future__ import annotations

import contextlib
import json
import os
import random
import tempfile
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request

from .auth import Identity, TokenService
from .config import EmulatorConfig
from .faults import FaultInjector
from .licence import apply_licence
from .rowsets import RowsetEngine
from .spec import SpecIndex, load_spec_index
from .store import EntityTable, build_tables
from .synthesis import Synthesizer
from .synthetic import calls_table, seed_all, singletons


@dataclass
class Stats:
    """Request counters shown by ``GET /_emulator/stats``."""

    requests: int = 0
    xapi_requests: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    # XAPI requests being answered at this moment, and the most there ever were at once
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Count one XAPI request as in flight while its handler runs."""
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self.lock:
                self.in_flight -= 1

    def count(self, status: int, xapi: bool) -> None:
        with self.lock:
            self.requests += 1
            if xapi:
                self.xapi_requests += 1
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1

    def reset(self) -> None:
        with self.lock:
            self.requests = 0
            self.xapi_requests = 0
            self.statuses.clear()
            self.most_in_flight = self.in_flight


class EmulatorState:
    """Everything the routes and the extension modules share.

    Fields:

    - ``config``: the :class:`EmulatorConfig` this PBX was built from;
    - ``spec``: the :class:`SpecIndex` of ``config.spec_version`` (entity sets, types, operations);
    - ``engine``: the SQLAlchemy engine of the SQLite file (one table per served entity set,
      plus ``_calls`` and ``_singletons``);
    - ``tables``: entity set name → :class:`EntityTable` (the table and its JSON mapping);
    - ``calls``: the ``_calls`` table (see ``synthetic.py`` for its columns);
    - ``tokens``: the :class:`TokenService` (issuing, checking, per-client counters);
    - ``faults``: the :class:`FaultInjector`;
    - ``rowsets``: scratch SQLite for query options on function results and navigation lists;
    - ``anchor``: the aware UTC datetime the synthetic data ends at (``config.now``);
    - ``rng``: a ``random.Random`` seeded from ``config.seed``, for extensions that need draws;
    - ``synthesizer``: builds schema-valid values from the spec (answers no handler models);
    - ``stats``: request counters;
    - ``background``: coroutine factories started with the server (extensions append to it);
    - ``lock``: serialises writes that must read-then-write atomically.

    Methods: ``now()`` (the wall clock, aware UTC), ``authenticate(request)`` (the caller's
    :class:`Identity`, raises XapiError 401/403), ``singleton(name)`` / ``set_singleton(name, body)``,
    ``close()``. Example: ``EmulatorState(EmulatorConfig(calls=100))``.
    """

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.spec: SpecIndex = load_spec_index(config.spec_version)
        self.anchor: datetime = config.anchor
        self.synthesizer = Synthesizer(self.spec.schemas, self.anchor)
        self.rng = random.Random(f"state:{config.seed}")
        self.stats = Stats()
        self.lock = threading.RLock()
        self.background: list[Callable[[], Awaitable[None]]] = []
        self._clock = clock
        self.tokens = TokenService(config, clock)
        self.faults = FaultInjector(config.faults, config.seed)
        self.rowsets = RowsetEngine()
        self._temp_path: str | None = None
        if config.db_path is None:
            fd, path = tempfile.mkstemp(prefix="py3cx-emulator-", suffix=".sqlite")
            os.close(fd)
            self._temp_path = path
        else:
            path = config.db_path
            if os.path.exists(path):
                os.remove(path)  # a fresh PBX every start: same seed, same data
        self.db_path = path
        # an app that is never closed (create_app in a script or a test) still leaves no files:
        # the finalizer runs when the state is collected or the interpreter exits
        self._remove_files = weakref.finalize(self, _remove_database, self._temp_path)
        self.engine = sa.create_engine(f"sqlite:///{path}")
        sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.metadata = sa.MetaData()
        self.tables: dict[str, EntityTable] = build_tables(self.spec, self.metadata)
        self.calls = calls_table(self.metadata)
        self.singletons_table = sa.Table(
            "_singletons",
            self.metadata,
            sa.Column("name", sa.Text, primary_key=True),
            sa.Column("body", sa.Text, nullable=False),
        )
        self._seed()

    def _seed(self) -> None:
        # indexes come after the bulk insert: building them once is faster than maintaining them
        indexes = [ix for t in self.metadata.sorted_tables for ix in t.indexes]
        with self.engine.begin() as conn:
            for table in self.metadata.sorted_tables:
                conn.execute(sa.schema.CreateTable(table))
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA synchronous=OFF")
            seed_all(self.config, self.tables, cursor)
            raw.commit()
        finally:
            raw.close()
        for index in indexes:
            index.create(self.engine)
        with self.engine.begin() as conn:
            users = conn.execute(
                sa.select(sa.func.count()).select_from(self.tables["Users"].table)
            ).scalar_one()
            active = conn.execute(
                sa.select(sa.func.count()).select_from(self.tables["ActiveCalls"].table)
            ).scalar_one()
        bodies = singletons(self.config, users, active)
        apply_licence(self.config, bodies)
        for name, body in bodies.items():
            self.set_singleton(name, body)

    def live_status(self) -> dict[str, Any]:
        """What SystemStatus reports live on a PBX: calls in progress and trunks registered now.

        Read on every GET of ``SystemStatus`` (the seeded body keeps the rest). Example:
        ``state.live_status()["CallsActive"]``.
        """
        calls, trunks = self.tables["ActiveCalls"].table, self.tables["Trunks"].table
        with self.engine.connect() as conn:
            active = conn.execute(sa.select(sa.func.count()).select_from(calls)).scalar_one()
            total = conn.execute(sa.select(sa.func.count()).select_from(trunks)).scalar_one()
            online = conn.execute(
                sa.select(sa.func.count()).select_from(trunks).where(trunks.c.IsOnline.is_(True))
            ).scalar_one()
        return {"CallsActive": int(active), "TrunksTotal": int(total), "TrunksRegistered": int(online)}

    # -- shared services ------------------------------------------------------------------------
    def now(self) -> datetime:
        """The wall clock as an aware UTC datetime (token expiry, ``ServerNow``)."""
        return datetime.fromtimestamp(self._clock(), timezone.utc)

    def authenticate(self, request: Request) -> Identity:
        """The caller behind the request's bearer token. Raises XapiError(401)."""
        return self.tokens.authenticate(request)

    def singleton(self, name: str) -> dict[str, Any] | None:
        """The stored wire body of a singleton (``"Defs"``), or None when it was never set."""
        with self.engine.connect() as conn:
            body = conn.execute(
                sa.select(self.singletons_table.c.body).where(self.singletons_table.c.name == name)
            ).scalar_one_or_none()
        return json.loads(body) if body is not None else None

    def set_singleton(self, name: str, body: dict[str, Any]) -> None:
        """Store the wire body of a singleton."""
        text = json.dumps(body, ensure_ascii=False)
        with self.engine.begin() as conn:
            conn.execute(sa.delete(self.singletons_table).where(self.singletons_table.c.name == name))
            conn.execute(sa.insert(self.singletons_table).values(name=name, body=text))

    def close(self) -> None:
        """Dispose of the engine and remove the temporary database file."""
        self.engine.dispose()
        self._remove_files()
        self._temp_path = None


def _remove_database(path: str | None) -> None:
    if path is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path + suffix)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
