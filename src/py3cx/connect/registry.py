"""The PBXs connect keeps in sync: add, list, change, remove; their secrets stay encrypted.

Example:
    db = open_database(); vault = load_vault()
    add_pbx(db, vault, PbxSettings(name="office", url="https://pbx.example.com", client_id="sync"), "s3cret")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from py3cx._auth import normalize_url
from py3cx._exceptions import ConfigError
from py3cx.connect.db import Database
from py3cx.connect.schema import pbx as pbx_table
from py3cx.connect.vault import Vault

__all__ = [
    "HISTORY_SOURCES",
    "Pbx",
    "PbxSettings",
    "add_pbx",
    "get_pbx",
    "import_pbxs",
    "list_pbxs",
    "remove_pbx",
    "update_pbx",
]

HISTORY_SOURCES = ("auto", "view", "calllog")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class PbxSettings:
    """What connect knows of one PBX, without its secrets.

    ``rate_limit`` is requests per second to that PBX (all of connect's work together);
    intervals are seconds; ``overlap_seconds`` is how far before the watermark each pass looks
    again (records of calls still in progress change); ``backfill_days`` is how far back the
    first pass reads; ``live_interval`` is how often ActiveCalls is polled for live events (0: never).
    """

    name: str
    url: str
    client_id: str
    route_point_id: str | None = None
    time_zone: str | None = None
    country: str | None = None
    rate_limit: float = 10.0
    history_source: str = "auto"
    calls_interval: int = 60
    directory_interval: int = 3600
    overlap_seconds: int = 7200
    backfill_days: int = 30
    live_interval: int = 10
    verify_tls: bool = True
    ca_bundle: str | None = None
    enabled: bool = True

    def check(self) -> PbxSettings:
        """These settings, normalised; ConfigError naming the first bad one."""
        if not _NAME.match(self.name):
            raise ConfigError(
                f"bad PBX name {self.name!r}", hint="letters, digits, '.', '_' and '-', up to 100 characters"
            )
        url = normalize_url(self.url)
        if not url.startswith(("https://", "http://")) or url.endswith("://"):
            raise ConfigError(
                f"bad PBX URL {self.url!r}", hint="give the PBX root, such as https://pbx.example.com"
            )
        if self.history_source not in HISTORY_SOURCES:
            raise ConfigError(f"unknown history source {self.history_source!r}", hint="auto, view or calllog")
        if self.time_zone:
            try:
                ZoneInfo(self.time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(
                    f"unknown time zone {self.time_zone!r}", hint="an IANA name such as Europe/London"
                ) from None
        country = self.country.upper() if self.country else None
        if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
            raise ConfigError(f"bad country {self.country!r}", hint="a two-letter ISO code such as GB")
        for name in ("rate_limit", "calls_interval", "directory_interval", "backfill_days"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.replace('_', '-')} must be more than 0")
        if self.overlap_seconds < 0:
            raise ConfigError("overlap must be 0 or more seconds")
        if self.live_interval < 0:
            raise ConfigError("live-every must be 0 (off) or more seconds")
        return replace(self, url=url, country=country)


@dataclass(frozen=True)
class Pbx:
    """A stored PBX: its id, settings and (decrypted on demand) secrets. The repr hides the secrets."""

    id: int
    settings: PbxSettings
    client_secret: str = field(repr=False)
    route_point_secret: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.settings.name


_SETTING_NAMES = [f.name for f in fields(PbxSettings)]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _to_pbx(row: Any, vault: Vault) -> Pbx:
    mapping = row._mapping
    settings = PbxSettings(**{name: mapping[name] for name in _SETTING_NAMES})
    secret = vault.decrypt(mapping["client_secret_enc"], f"the client secret of PBX {settings.name!r}")
    route = mapping["route_point_secret_enc"]
    route_secret = vault.decrypt(route, f"the route point secret of PBX {settings.name!r}") if route else None
    return Pbx(mapping["id"], settings, secret, route_secret)


def add_pbx(
    db: Database,
    vault: Vault,
    settings: PbxSettings,
    client_secret: str,
    route_point_secret: str | None = None,
) -> Pbx:
    """Store a new PBX. Raises ConfigError for bad settings, an empty secret or a name in use."""
    settings = settings.check()
    if not client_secret:
        raise ConfigError(
            "the client secret is empty", hint="type it at the prompt or set PY3CX_CLIENT_SECRET"
        )
    if settings.route_point_id and not route_point_secret:
        raise ConfigError(
            "the route point's secret is missing",
            hint="type it at the prompt or set PY3CX_ROUTE_POINT_SECRET",
        )
    values = _row(settings, vault, client_secret, route_point_secret)
    with db.engine.begin() as conn:
        if conn.execute(sa.select(pbx_table.c.id).where(pbx_table.c.name == settings.name)).first():
            raise ConfigError(
                f"a PBX named {settings.name!r} exists",
                hint="pick another name or `3cx connect pbx remove` it",
            )
        new_id = conn.execute(sa.insert(pbx_table).values(values).returning(pbx_table.c.id)).scalar_one()
    return Pbx(new_id, settings, client_secret, route_point_secret)


def import_pbxs(db: Database, vault: Vault, entries: Any, **settings: Any) -> list[Pbx]:
    """Add every PBX of ``entries`` (a list of ``{name, url, client_id, client_secret}`` plus any
    setting), in one transaction: all or none. ``settings`` apply to each unless the entry has them.

    Raises ConfigError naming the first bad entry (by position and name, never its secret).
    """
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            "the file holds no list of PBXs", hint="a JSON list of {name, url, client_id, client_secret}"
        )
    known = set(_SETTING_NAMES)
    prepared = []
    for position, entry in enumerate(entries, start=1):
        where = f"entry {position}" + (
            f" ({entry.get('name')!r})" if isinstance(entry, dict) and entry.get("name") else ""
        )
        if not isinstance(entry, dict):
            raise ConfigError(
                f"{where} is not an object", hint="each entry is {name, url, client_id, client_secret}"
            )
        missing = [k for k in ("name", "url", "client_id", "client_secret") if not entry.get(k)]
        unknown = sorted(set(entry) - known - {"client_secret", "route_point_secret"})
        if missing or unknown:
            problem = f"lacks {', '.join(missing)}" if missing else f"has unknown keys {', '.join(unknown)}"
            raise ConfigError(
                f"{where} {problem}", hint="each entry is {name, url, client_id, client_secret}"
            )
        values = {**settings, **{k: v for k, v in entry.items() if k in known}}
        try:
            checked = PbxSettings(**values).check()
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}", hint=exc.hint) from None
        prepared.append((checked, str(entry["client_secret"]), entry.get("route_point_secret")))
    names = [p[0].name for p in prepared]
    if len(set(names)) != len(names):
        raise ConfigError("the file names a PBX twice", hint="PBX names must be unique")
    with db.engine.begin() as conn:
        taken = set(conn.execute(sa.select(pbx_table.c.name).where(pbx_table.c.name.in_(names))).scalars())
        if taken:
            raise ConfigError(
                f"PBXs already stored: {', '.join(sorted(taken))}",
                hint="nothing was added; remove them or rename",
            )
        added = []
        for checked, secret, route_secret in prepared:
            new_id = conn.execute(
                sa.insert(pbx_table)
                .values(_row(checked, vault, secret, route_secret))
                .returning(pbx_table.c.id)
            ).scalar_one()
            added.append(Pbx(new_id, checked, secret, route_secret))
    return added


def _row(settings: PbxSettings, vault: Vault, secret: str, route_secret: str | None) -> dict[str, Any]:
    now = _now()
    values: dict[str, Any] = {name: getattr(settings, name) for name in _SETTING_NAMES}
    values.update(
        client_secret_enc=vault.encrypt(secret),
        route_point_secret_enc=vault.encrypt(route_secret) if route_secret else None,
        created_at=now,
        updated_at=now,
    )
    return values


def list_pbxs(
    db: Database, vault: Vault, *, names: list[str] | None = None, enabled_only: bool = False
) -> list[Pbx]:
    """Stored PBXs by name (only ``names`` when given: ConfigError for one not stored)."""
    query = sa.select(pbx_table).order_by(pbx_table.c.name)
    if enabled_only:
        query = query.where(pbx_table.c.enabled.is_(True))
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
    found = [_to_pbx(row, vault) for row in rows if not names or row._mapping["name"] in names]
    missing = sorted(set(names or ()) - {p.name for p in found})
    if missing:
        raise ConfigError(
            f"no PBX named {', '.join(map(repr, missing))}", hint="`3cx connect pbx list` shows them"
        )
    return found


def get_pbx(db: Database, vault: Vault, name: str) -> Pbx:
    """One stored PBX. Raises ConfigError when there is none of that name."""
    return list_pbxs(db, vault, names=[name])[0]


def update_pbx(db: Database, vault: Vault, name: str, **changes: Any) -> Pbx:
    """Change settings of a stored PBX (``client_secret=`` re-encrypts it). Raises ConfigError."""
    current = get_pbx(db, vault, name)
    secret = changes.pop("client_secret", None)
    settings = replace(current.settings, **changes).check()
    values: dict[str, Any] = {n: getattr(settings, n) for n in _SETTING_NAMES}
    values["updated_at"] = _now()
    if secret:
        values["client_secret_enc"] = vault.encrypt(secret)
    with db.engine.begin() as conn:
        conn.execute(sa.update(pbx_table).where(pbx_table.c.id == current.id).values(values))
    return Pbx(current.id, settings, secret or current.client_secret, current.route_point_secret)


def remove_pbx(db: Database, name: str) -> None:
    """Delete a PBX and everything stored for it (records, snapshots, state). ConfigError if unknown."""
    with db.engine.begin() as conn:
        pbx_id = conn.execute(sa.select(pbx_table.c.id).where(pbx_table.c.name == name)).scalar()
        if pbx_id is None:
            raise ConfigError(f"no PBX named {name!r}", hint="`3cx connect pbx list` shows them")
        from py3cx.connect import schema

        # explicit, not only ON DELETE CASCADE: SQLite enforces it only with foreign keys on
        for table in (
            schema.call_records,
            schema.calls,
            schema.users,
            schema.departments,
            schema.queues,
            schema.queue_agents,
            schema.sync_state,
        ):
            conn.execute(sa.delete(table).where(table.c.pbx_id == pbx_id))
        conn.execute(sa.delete(pbx_table).where(pbx_table.c.id == pbx_id))
