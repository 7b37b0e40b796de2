"""Looking after connect: checking a PBX (`pbx test`) and rotating the key of the stored secrets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from py3cx._exceptions import APIError, PermissionDeniedError, Py3cxError
from py3cx.connect import schema
from py3cx.connect.db import Database
from py3cx.connect.registry import Pbx
from py3cx.connect.sync import PbxSession
from py3cx.connect.vault import Vault
from py3cx.licence import Licence
from py3cx.reports.arguments import Period
from py3cx.reports.resource import choose_history_report_async

__all__ = ["Check", "check_pbx", "rotate_key"]


@dataclass(frozen=True)
class Check:
    """One line of `pbx test`: what was checked, whether it works, what was found, what to do."""

    name: str
    ok: bool
    detail: str
    hint: str | None = None

    def as_row(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail, "hint": self.hint}


def _failed(name: str, exc: Py3cxError) -> Check:
    return Check(name, False, str(exc).splitlines()[0], exc.hint)


async def check_pbx(db: Database, vault: Vault, pbx: Pbx) -> list[Check]:
    """Token, build, licence, role (call records), time zone and history source of a PBX.

    Never raises for the PBX's answers: each failure is a Check with a hint.
    Example: ``[c.as_row() for c in await check_pbx(db, vault, pbx)]``
    """
    session = PbxSession(db, vault, pbx)
    try:
        return await _checks(session)
    finally:
        await session.aclose()


async def _checks(session: PbxSession) -> list[Check]:
    client = session.client
    checks: list[Check] = []
    # SystemStatus and LicenseStatus first: a PBX whose licence has no API access may still
    # answer them (the emulator's guess), so the licence can be named even then
    try:
        status = await client.get("SystemStatus")
    except APIError as exc:
        checks.append(_failed("token", exc))
        return checks
    status = status if isinstance(status, Mapping) else {}
    checks.append(Check("token", True, f"client {session.pbx.settings.client_id!r} got a token"))
    checks.append(Check("build", bool(status.get("Version")), str(status.get("Version") or "unknown")))
    body: Mapping[str, Any] = {}
    try:
        found = await client.get("LicenseStatus")
        body = found if isinstance(found, Mapping) else {}
        licence = Licence.from_status(body)
        access = licence.api_access()
        checks.append(
            Check(
                "licence",
                access is not False,
                licence.describe() + ("" if access is not None else " (edition not recognised)"),
                licence.refusal_hint(),
            )
        )
    except APIError as exc:
        checks.append(_failed("licence", exc))
    now = datetime.now(timezone.utc)
    period = Period(now - timedelta(hours=1), now)
    try:
        definition = await choose_history_report_async(client, period, session.pbx.settings.history_source)
        where = "the call log" if definition.function is not None else "CallHistoryView"
        checks.append(Check("history source", True, where))
        checks.append(await _role_check(session, definition.name))
    except PermissionDeniedError as exc:
        checks.append(
            # the error's own hint: the role, or the licence when LicenseStatus showed it is the cause
            Check(
                "role", False, str(exc).splitlines()[0], exc.hint or "call records need the System Owner role"
            )
        )
    except APIError as exc:
        checks.append(_failed("history source", exc))
    checks.append(await _zone_check(session))
    country = session.pbx.settings.country or body.get("CountryCode")
    checks.append(
        Check(
            "country",
            bool(country),
            f"{country or 'unknown'} (E.164 default region)",
            None if country else "set it: --country GB",
        )
    )
    return checks


async def _role_check(session: PbxSession, report: str) -> Check:
    from py3cx.reports.resource import build_query

    now = datetime.now(timezone.utc)
    query = build_query(report, start=now - timedelta(minutes=5), end=now, tz=timezone.utc)
    path, options = query.request(None)
    try:
        await session.client.get(path, top=1, **options)
    except PermissionDeniedError as exc:
        return Check(
            "role", False, str(exc).splitlines()[0], exc.hint or "call records need the System Owner role"
        )
    except APIError as exc:
        return _failed("role", exc)
    return Check("role", True, "reads call records")


async def _zone_check(session: PbxSession) -> Check:
    configured = session.pbx.settings.time_zone
    if configured:
        return Check("time zone", True, f"{configured} (set with --tz)")
    try:
        hours = await session.client.get("OfficeHours")
        zone_id = hours.get("TimeZoneId") if isinstance(hours, Mapping) else None
        # seen as an IANA name (the emulator) and as an id of Defs/TimeZones: accept both
        name = str(zone_id) if zone_id and _is_zone(str(zone_id)) else None
        if zone_id and name is None:
            zones = [z async for z in session.client.paginate("Defs/TimeZones")]
            name = next(
                (z.get("IanaName") or z.get("Name") for z in zones if str(z.get("Id")) == str(zone_id)), None
            )
    except APIError as exc:
        return _failed("time zone", exc)
    if not name:
        return Check("time zone", False, "not found in OfficeHours", "set it: --tz Europe/London")
    return Check("time zone", True, f"{name} (the PBX's office hours)")


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def rotate_key(db: Database, vault: Vault) -> int:
    """Re-encrypt every secret and stored token with a new key; save it. Returns how many were re-encrypted.

    Crash-safe: the key file first holds the new and the old key, then the rows change in one
    transaction, then the old key is dropped. Raises ConfigError when the key is from the environment
    and has only one key (put the new one first there).
    """
    if vault.file is not None:
        rotated = vault.with_new_key()
        rotated.save()
    else:
        rotated = vault  # PY3CX_CONNECT_KEY: the first key listed there is the new one
    count = 0
    with db.engine.begin() as conn:
        for row in conn.execute(sa.select(schema.pbx)).mappings().all():
            values = {"client_secret_enc": rotated.rotate(row["client_secret_enc"])}
            if row["route_point_secret_enc"]:
                values["route_point_secret_enc"] = rotated.rotate(row["route_point_secret_enc"])
            conn.execute(sa.update(schema.pbx).where(schema.pbx.c.id == row["id"]).values(values))
            count += len(values)
        for token in conn.execute(sa.select(schema.pbx_tokens)).mappings().all():
            where = (schema.pbx_tokens.c.url == token["url"]) & (
                schema.pbx_tokens.c.identity == token["identity"]
            )
            try:
                new = rotated.rotate(token["access_token_enc"])
            except Py3cxError:
                conn.execute(sa.delete(schema.pbx_tokens).where(where))  # a token is fetched again
                continue
            conn.execute(sa.update(schema.pbx_tokens).where(where).values(access_token_enc=new))
            count += 1
        endpoints = schema.webhook_endpoints
        for row in conn.execute(sa.select(endpoints)).mappings().all():
            values = {"secret_enc": rotated.rotate(row["secret_enc"])}
            if row["previous_secret_enc"]:
                values["previous_secret_enc"] = rotated.rotate(row["previous_secret_enc"])
            conn.execute(sa.update(endpoints).where(endpoints.c.id == row["id"]).values(values))
            count += len(values)
    if vault.file is not None:
        rotated.save(only_first=True)
    return count
