"""Webhook endpoints and the delivery of the outbox: signed, retried on schedule, in order per call.

- Endpoints: URL, PBX and event filters, a ``whsec_`` secret (stored encrypted; the previous one
  keeps signing during a rotation's overlap), enabled or disabled with a reason.
- Delivery (``deliver_due``): due ``pending`` deliveries are claimed (``claimed_until``: a sender
  that dies lets go), at most one per (endpoint, call) at a time and never before an earlier event
  of that call (so ``call.updated`` never overtakes ``call.ended``), at most ``max_in_flight`` per
  endpoint, POSTed with the Standard Webhooks headers (the same ``webhook-id`` on every attempt).
- Rate limit per endpoint (``RateLimits``): at most ``rate_limit`` requests a second, evenly spread
  with bursts of a tenth of a second's worth; a delivery without a free slot is not claimed (it
  waits, claimed by nobody). The limit and ``max_in_flight`` hold per sending process: N processes
  may send N times as much.
- Retries on network errors, timeouts and non-2xx, on the Standard Webhooks schedule (at once, 5 s,
  5 min, 30 min, 2 h, 5 h, 10 h, 10 h) with ±20 % jitter; then the delivery is ``dead`` (kept,
  listed, replayable). ``410 Gone`` disables the endpoint; an endpoint failing for 5 days is disabled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx2
import sqlalchemy as sa

from py3cx._exceptions import ConfigError
from py3cx.connect import schema
from py3cx.connect.db import Database
from py3cx.connect.events import CALL_EVENTS, endpoint_matches
from py3cx.connect.vault import Vault
from py3cx.webhooks import generate_secret, sign_headers

__all__ = [
    "SCHEDULE",
    "DeliveryPolicy",
    "DeliveryStats",
    "Endpoint",
    "RateLimits",
    "add_endpoint",
    "deliver_due",
    "deliver_forever",
    "list_deliveries",
    "list_endpoints",
    "policy_from_env",
    "remove_endpoint",
    "replay",
    "rotate_secret",
    "set_enabled",
    "set_limits",
]

log = logging.getLogger("py3cx.connect.webhooks")

# seconds before each attempt: the Standard Webhooks schedule (8 attempts in all)
SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
_FAILING_LIMIT = timedelta(days=5)
_CLAIM = timedelta(seconds=60)
_MAX_RATE = 10_000.0  # requests per second an endpoint may be given at most
_MAX_IN_FLIGHT = 1_000


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@dataclass(frozen=True)
class Endpoint:
    """One webhook endpoint as listed (never its secret)."""

    id: int
    url: str
    pbx_names: list[str] | None
    event_types: list[str] | None
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    max_in_flight: int = 4
    rate_limit: float = 50.0

    def as_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "pbxs": ",".join(self.pbx_names) if self.pbx_names else "(all)",
            "events": ",".join(self.event_types) if self.event_types else "(all)",
            "max_in_flight": self.max_in_flight,
            "rate_limit": self.rate_limit,
            "enabled": self.enabled,
            "disabled_reason": self.disabled_reason,
            "failing_since": self.failing_since.isoformat() if self.failing_since else None,
            "created_at": self.created_at.isoformat(),
        }


def _endpoint(row: Any) -> Endpoint:
    created = _utc(row["created_at"])
    assert created is not None
    return Endpoint(
        id=int(row["id"]),
        url=str(row["url"]),
        pbx_names=list(row["pbx_names"]) if row["pbx_names"] is not None else None,
        event_types=list(row["event_types"]) if row["event_types"] is not None else None,
        enabled=bool(row["enabled"]),
        disabled_reason=row["disabled_reason"],
        failing_since=_utc(row["failing_since"]),
        created_at=created,
        max_in_flight=int(row["max_in_flight"]),
        rate_limit=float(row["rate_limit"]),
    )


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"invalid endpoint URL {url!r}", hint="give an http:// or https:// URL")
    return url.strip()


def _check_limits(max_in_flight: int | None, rate_limit: float | None) -> None:
    if max_in_flight is not None and not 1 <= max_in_flight <= _MAX_IN_FLIGHT:
        raise ConfigError(
            f"max in flight {max_in_flight} is out of range", hint=f"give 1 to {_MAX_IN_FLIGHT} requests"
        )
    # not (a > 0) also refuses NaN
    if rate_limit is not None and not (0 < rate_limit <= _MAX_RATE):
        raise ConfigError(
            f"rate limit {rate_limit:g} is out of range",
            hint=f"give requests per second above 0 and up to {_MAX_RATE:g} (0.5: one every 2 s)",
        )


def _check_secret(secret: str) -> str:
    from py3cx.webhooks import WebhookVerificationError, sign

    if not secret.startswith("whsec_"):
        raise ConfigError("a webhook secret starts with whsec_", hint="omit --secret to have one made")
    try:
        sign(secret, "check", 0, b"")
    except WebhookVerificationError as exc:
        raise ConfigError(str(exc), hint="a whsec_ secret is whsec_ followed by base64") from None
    return secret


def add_endpoint(
    db: Database,
    vault: Vault,
    url: str,
    *,
    pbx_names: Sequence[str] | None = None,
    event_types: Sequence[str] | None = None,
    secret: str | None = None,
    max_in_flight: int = 4,
    rate_limit: float = 50.0,
) -> tuple[Endpoint, str]:
    """Add an endpoint; returns it and its secret (made when not given: show it once).

    Raises ConfigError for a bad URL, an unknown PBX or event type, a malformed secret, or limits
    out of range (``max_in_flight`` 1 to 1000, ``rate_limit`` above 0 and up to 10000 per second).
    """
    url = _check_url(url)
    _check_limits(max_in_flight, rate_limit)
    if event_types:
        unknown = sorted(set(event_types) - set(CALL_EVENTS))
        if unknown:
            raise ConfigError(
                f"unknown event type {', '.join(unknown)}", hint=f"known types: {', '.join(CALL_EVENTS)}"
            )
    with db.engine.begin() as conn:
        if pbx_names:
            known = set(conn.execute(sa.select(schema.pbx.c.name)).scalars())
            missing = sorted(set(pbx_names) - known)
            if missing:
                raise ConfigError(
                    f"no PBX named {', '.join(missing)}", hint="`3cx connect pbx list` shows the PBXs"
                )
        secret = _check_secret(secret) if secret else generate_secret()
        now = _now()
        row = (
            conn.execute(
                sa.insert(schema.webhook_endpoints)
                .values(
                    url=url,
                    pbx_names=sorted(set(pbx_names)) if pbx_names else None,
                    event_types=sorted(set(event_types)) if event_types else None,
                    secret_enc=vault.encrypt(secret),
                    enabled=True,
                    max_in_flight=max_in_flight,
                    rate_limit=rate_limit,
                    created_at=now,
                    updated_at=now,
                )
                .returning(*schema.webhook_endpoints.columns)
            )
            .mappings()
            .one()
        )
    return _endpoint(row), secret


def list_endpoints(db: Database) -> list[Endpoint]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.webhook_endpoints).order_by(schema.webhook_endpoints.c.id))
        return [_endpoint(r) for r in rows.mappings()]


def _require(conn: sa.Connection, endpoint_id: int) -> Any:
    row = (
        conn.execute(sa.select(schema.webhook_endpoints).where(schema.webhook_endpoints.c.id == endpoint_id))
        .mappings()
        .first()
    )
    if row is None:
        raise ConfigError(f"no endpoint {endpoint_id}", hint="`3cx connect endpoint list` shows them")
    return row


def set_enabled(db: Database, endpoint_id: int, enabled: bool, reason: str | None = None) -> Endpoint:
    """Enable or disable an endpoint (a disabled one gets no new deliveries and sends none)."""
    with db.engine.begin() as conn:
        _require(conn, endpoint_id)
        conn.execute(
            sa.update(schema.webhook_endpoints)
            .where(schema.webhook_endpoints.c.id == endpoint_id)
            .values(
                enabled=enabled,
                disabled_reason=None if enabled else (reason or "disabled by hand"),
                failing_since=None,
                updated_at=_now(),
            )
        )
        return _endpoint(_require(conn, endpoint_id))


def set_limits(
    db: Database, endpoint_id: int, *, max_in_flight: int | None = None, rate_limit: float | None = None
) -> Endpoint:
    """Change an endpoint's ``max_in_flight`` and/or ``rate_limit`` (requests per second); senders
    use them from their next round. Raises ConfigError for an unknown endpoint or a value out of range.
    Example: ``set_limits(db, 1, rate_limit=5)``
    """
    _check_limits(max_in_flight, rate_limit)
    values: dict[str, Any] = {"updated_at": _now()}
    if max_in_flight is not None:
        values["max_in_flight"] = max_in_flight
    if rate_limit is not None:
        values["rate_limit"] = rate_limit
    with db.engine.begin() as conn:
        _require(conn, endpoint_id)
        w = schema.webhook_endpoints
        conn.execute(sa.update(w).where(w.c.id == endpoint_id).values(values))
        return _endpoint(_require(conn, endpoint_id))


def remove_endpoint(db: Database, endpoint_id: int) -> None:
    """Remove an endpoint and its deliveries (the events stay)."""
    with db.engine.begin() as conn:
        _require(conn, endpoint_id)
        conn.execute(sa.delete(schema.deliveries).where(schema.deliveries.c.endpoint_id == endpoint_id))
        conn.execute(sa.delete(schema.webhook_endpoints).where(schema.webhook_endpoints.c.id == endpoint_id))


def rotate_secret(
    db: Database, vault: Vault, endpoint_id: int, *, overlap: timedelta = timedelta(hours=24)
) -> str:
    """A new secret for the endpoint; the old one keeps signing (both signatures sent) for ``overlap``."""
    secret = generate_secret()
    with db.engine.begin() as conn:
        row = _require(conn, endpoint_id)
        conn.execute(
            sa.update(schema.webhook_endpoints)
            .where(schema.webhook_endpoints.c.id == endpoint_id)
            .values(
                secret_enc=vault.encrypt(secret),
                previous_secret_enc=row["secret_enc"],
                previous_until=_now() + overlap,
                updated_at=_now(),
            )
        )
    return secret


# -- deliveries ---------------------------------------------------------------------------------


def list_deliveries(
    db: Database, *, failed: bool = False, endpoint_id: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Deliveries, newest first: ``failed`` keeps dead ones and pending ones that failed at least once."""
    d, e, p = schema.deliveries, schema.events, schema.pbx
    query = (
        sa.select(
            d.c.id,
            e.c.event_id,
            e.c.type,
            p.c.name.label("pbx"),
            e.c.call_id,
            d.c.endpoint_id,
            d.c.status,
            d.c.attempts,
            d.c.last_status,
            d.c.last_error,
            d.c.next_attempt_at,
            d.c.delivered_at,
        )
        .join(e, e.c.seq == d.c.event_seq)
        .join(p, p.c.id == e.c.pbx_id)
        .order_by(d.c.id.desc())
        .limit(limit)
    )
    if failed:
        query = query.where((d.c.status == "dead") | ((d.c.status == "pending") & (d.c.attempts > 0)))
    if endpoint_id is not None:
        query = query.where(d.c.endpoint_id == endpoint_id)
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def replay(
    db: Database,
    *,
    event_id: str | None = None,
    since: datetime | None = None,
    endpoint_id: int | None = None,
) -> int:
    """Queue events again (one event, or every event since a time) for their matching endpoints, or
    for one endpoint. The ``webhook-id`` is the event's, as on the first delivery. Returns deliveries queued.
    """
    if (event_id is None) == (since is None):
        raise ConfigError("give either an event id or a time to replay from")
    e = schema.events
    now = _now()
    with db.engine.begin() as conn:
        endpoints = [dict(r) for r in conn.execute(sa.select(schema.webhook_endpoints)).mappings()]
        if endpoint_id is not None:
            endpoints = [x for x in endpoints if x["id"] == endpoint_id]
            if not endpoints:
                raise ConfigError(f"no endpoint {endpoint_id}", hint="`3cx connect endpoint list` shows them")
        query = sa.select(e.c.seq, e.c.type, schema.pbx.c.name).join(
            schema.pbx, schema.pbx.c.id == e.c.pbx_id
        )
        query = query.where(e.c.event_id == event_id) if event_id else query.where(e.c.created_at >= since)
        found = conn.execute(query.order_by(e.c.seq)).all()
        if event_id and not found:
            raise ConfigError(f"no event {event_id}", hint="`3cx connect deliveries` lists event ids")
        rows = [
            {
                "event_seq": seq,
                "endpoint_id": x["id"],
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for seq, kind, pbx_name in found
            for x in endpoints
            # a replay sends older events too: that is its purpose
            if endpoint_matches(x, pbx_name, kind, None)
        ]
        if rows:
            conn.execute(sa.insert(schema.deliveries), rows)
    return len(rows)


@dataclass(frozen=True)
class DeliveryPolicy:
    """When to try again (``schedule``: seconds before each attempt, the first at once), the
    jitter (a share of each delay), the request timeout and the claim length."""

    schedule: tuple[float, ...] = SCHEDULE
    jitter: float = 0.2
    timeout: float = 10.0
    claim: timedelta = _CLAIM
    failing_limit: timedelta = _FAILING_LIMIT

    def delay(self, attempts: int) -> float | None:
        """Seconds before the next attempt after ``attempts`` failed ones, or None when spent."""
        if attempts >= len(self.schedule):
            return None
        base = self.schedule[attempts]
        return max(0.0, base * (1 + random.uniform(-self.jitter, self.jitter)))


@dataclass
class DeliveryStats:
    """What one ``deliver_due`` round did."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0
    disabled: list[int] = field(default_factory=list)
    # seconds until the first endpoint whose due deliveries waited for a free slot has one (None: none waited)
    throttled: float | None = None

    @property
    def attempted(self) -> int:
        return self.delivered + self.failed + self.dead


class RateLimits:
    """The request slots of each endpoint for one sending process: at most ``rate`` requests a
    second, evenly spaced, with bursts of a tenth of a second's worth (at least 1), so any second
    sees at most ``rate`` plus that burst. The generic cell rate algorithm: one time per endpoint.

    The claim step asks it, in a worker thread, whether a delivery may be claimed now without
    waiting (``take``); aiolimiter's buckets wait on the event loop instead, hence this.
    Example: ``limits = RateLimits(); limits.take(("db", 1), 5.0)``
    """

    def __init__(self) -> None:
        self._next: dict[tuple[str, int], float] = {}  # when the endpoint's next request is due
        self._lock = threading.Lock()

    @staticmethod
    def _shape(rate: float) -> tuple[float, float]:
        interval = 1.0 / rate
        burst = max(1, int(rate / 10))
        return interval, (burst - 1) * interval

    def take(self, key: tuple[str, int], rate: float) -> bool:
        """Use a slot of ``key``'s endpoint now if one is free; False when it must wait."""
        if rate <= 0:
            return True
        interval, tolerance = self._shape(rate)
        now = time.monotonic()
        with self._lock:
            due = max(self._next.get(key, now), now)
            if due - now > tolerance:
                return False
            self._next[key] = due + interval
            return True

    def wait(self, key: tuple[str, int], rate: float) -> float:
        """Seconds until ``key``'s endpoint has a free slot (0: now)."""
        if rate <= 0:
            return 0.0
        _, tolerance = self._shape(rate)
        with self._lock:
            return max(0.0, self._next.get(key, 0.0) - tolerance - time.monotonic())


# one per process: every deliver_due of this process shares the endpoints' slots
_LIMITS = RateLimits()


def _claim(
    db: Database, policy: DeliveryPolicy, limit: int, now: datetime, limits: RateLimits
) -> tuple[list[dict[str, Any]], float | None]:
    """Claim due deliveries: the earliest pending one of each (endpoint, PBX, call), never one whose
    call has an earlier pending event for that endpoint, at most ``max_in_flight`` per endpoint and
    only while the endpoint has a free slot of its rate limit. Events of no call (``user.*``) are
    ordered the same way by their ``subject`` (the user). Returns the claimed rows, and the seconds
    until a throttled endpoint has a slot again (None when none was throttled)."""
    d, e, w = schema.deliveries, schema.events, schema.webhook_endpoints
    earlier = sa.alias(d)
    earlier_event = sa.alias(e)

    def earlier_pending(same: Any) -> Any:
        return (
            sa.select(earlier.c.id)
            .join(earlier_event, earlier_event.c.seq == earlier.c.event_seq)
            .where(
                (earlier.c.endpoint_id == d.c.endpoint_id)
                & (earlier.c.status == "pending")
                & (earlier_event.c.pbx_id == e.c.pbx_id)
                & same
                & (earlier.c.event_seq < d.c.event_seq)
            )
            .exists()
        )

    # the same call: a NOT EXISTS at the top, which PostgreSQL makes an anti-join (OR-ed with the
    # users' test below, or in a CASE, it became a subplan per row: the claim of a 2,400-delivery
    # backlog took 2.2 s instead of 0.02 s, and the bench's backlog drained at 1 delivery a second)
    blocked_by_call = earlier_pending(earlier_event.c.call_id == e.c.call_id)
    # for events of no call (user.*), the same subject (the user): asked of those candidates only
    user_blocked = (
        sa.select(earlier.c.id)
        .join(earlier_event, earlier_event.c.seq == earlier.c.event_seq)
        .where(
            (earlier.c.endpoint_id == sa.bindparam("endpoint_id"))
            & (earlier.c.status == "pending")
            & (earlier_event.c.pbx_id == sa.bindparam("pbx_id"))
            & earlier_event.c.call_id.is_(None)
            & (earlier_event.c.subject == sa.bindparam("subject"))
            & (earlier.c.event_seq < sa.bindparam("event_seq"))
        )
        .limit(1)
    )
    query = (
        sa.select(
            d.c.id,
            d.c.endpoint_id,
            d.c.attempts,
            d.c.event_seq,
            e.c.pbx_id,
            e.c.call_id,
            e.c.subject,
            w.c.max_in_flight,
            w.c.rate_limit,
        )
        .join(e, e.c.seq == d.c.event_seq)
        .join(w, w.c.id == d.c.endpoint_id)
        .where(
            (d.c.status == "pending")
            & (d.c.next_attempt_at <= now)
            & ((d.c.claimed_until.is_(None)) | (d.c.claimed_until < now))
            & w.c.enabled
            & ~blocked_by_call
        )
        .order_by(d.c.event_seq, d.c.id)
        .limit(limit * 4)
    )
    claimed: list[dict[str, Any]] = []
    per_endpoint: dict[int, int] = {}
    throttled: dict[int, float] = {}
    database = db.engine.url.render_as_string(hide_password=True)
    with db.engine.begin() as conn:
        for row in conn.execute(query).mappings().all():
            endpoint_id = row["endpoint_id"]
            if len(claimed) >= limit or per_endpoint.get(endpoint_id, 0) >= row["max_in_flight"]:
                continue
            if endpoint_id in throttled:
                continue
            if (
                row["call_id"] is None
                and conn.execute(
                    user_blocked,
                    {
                        "endpoint_id": endpoint_id,
                        "pbx_id": row["pbx_id"],
                        "subject": row["subject"],
                        "event_seq": row["event_seq"],
                    },
                ).first()
            ):
                continue  # an earlier event of this user waits for this endpoint
            slot = (database, endpoint_id)
            if limits.wait(slot, row["rate_limit"]) > 0:
                throttled[endpoint_id] = limits.wait(slot, row["rate_limit"])
                continue
            # one statement decides: two senders racing for a row, one wins
            won = conn.execute(
                sa.update(d)
                .where(
                    (d.c.id == row["id"])
                    & (d.c.status == "pending")
                    & ((d.c.claimed_until.is_(None)) | (d.c.claimed_until < now))
                )
                .values(claimed_until=now + policy.claim)
            ).rowcount
            if won:
                limits.take(slot, row["rate_limit"])
                per_endpoint[endpoint_id] = per_endpoint.get(endpoint_id, 0) + 1
                claimed.append(dict(row))
    return claimed, min(throttled.values()) if throttled else None


def _load(db: Database, vault: Vault, ids: list[int], now: datetime) -> list[dict[str, Any]]:
    d, e, w = schema.deliveries, schema.events, schema.webhook_endpoints
    with db.engine.connect() as conn:
        rows = (
            conn.execute(
                sa.select(
                    d.c.id,
                    d.c.attempts,
                    d.c.endpoint_id,
                    e.c.event_id,
                    e.c.payload,
                    w.c.url,
                    w.c.secret_enc,
                    w.c.previous_secret_enc,
                    w.c.previous_until,
                )
                .join(e, e.c.seq == d.c.event_seq)
                .join(w, w.c.id == d.c.endpoint_id)
                .where(d.c.id.in_(ids))
                .order_by(d.c.event_seq)
            )
            .mappings()
            .all()
        )
    loaded = []
    for row in rows:
        secrets = [vault.decrypt(row["secret_enc"], f"the secret of endpoint {row['endpoint_id']}")]
        until = _utc(row["previous_until"])
        if row["previous_secret_enc"] and until is not None and until > now:
            secrets.append(
                vault.decrypt(row["previous_secret_enc"], f"the old secret of endpoint {row['endpoint_id']}")
            )
        loaded.append({**dict(row), "secrets": secrets})
    return loaded


async def _post(
    http: httpx2.AsyncClient, item: Mapping[str, Any], policy: DeliveryPolicy
) -> tuple[int | None, str | None]:
    body = json.dumps(item["payload"], separators=(",", ":"), ensure_ascii=False).encode()
    headers = sign_headers(item["secrets"], item["event_id"], body)
    headers.update({"content-type": "application/json", "user-agent": "py3cx-connect"})
    try:
        response = await http.post(item["url"], content=body, headers=headers, timeout=policy.timeout)
    except httpx2.TimeoutException:
        return None, "timed out"
    except httpx2.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


def _record(
    db: Database,
    item: Mapping[str, Any],
    status: int | None,
    error: str | None,
    policy: DeliveryPolicy,
    now: datetime,
    stats: DeliveryStats,
) -> None:
    d, w = schema.deliveries, schema.webhook_endpoints
    with db.engine.begin() as conn:
        if error is None:
            conn.execute(
                sa.update(d)
                .where(d.c.id == item["id"])
                .values(
                    status="delivered",
                    attempts=item["attempts"] + 1,
                    last_status=status,
                    last_error=None,
                    delivered_at=now,
                    claimed_until=None,
                )
            )
            conn.execute(sa.update(w).where(w.c.id == item["endpoint_id"]).values(failing_since=None))
            stats.delivered += 1
            return
        attempts = item["attempts"] + 1
        if status == 410:
            conn.execute(
                sa.update(w)
                .where(w.c.id == item["endpoint_id"])
                .values(enabled=False, disabled_reason="the endpoint answered 410 Gone", updated_at=now)
            )
            stats.disabled.append(item["endpoint_id"])
            log.warning("py3cx connect: endpoint %s answered 410 Gone: disabled", item["endpoint_id"])
        delay = None if status == 410 else policy.delay(attempts)
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_status": status,
            "last_error": error,
            "claimed_until": None,
        }
        if delay is None:
            values["status"] = "dead"
            stats.dead += 1
        else:
            values["next_attempt_at"] = now + timedelta(seconds=delay)
            stats.failed += 1
        conn.execute(sa.update(d).where(d.c.id == item["id"]).values(values))
        endpoint = conn.execute(
            sa.select(w.c.failing_since, w.c.enabled).where(w.c.id == item["endpoint_id"])
        ).first()
        if endpoint is not None and endpoint.enabled:
            since = _utc(endpoint.failing_since)
            if since is None:
                conn.execute(sa.update(w).where(w.c.id == item["endpoint_id"]).values(failing_since=now))
            elif now - since >= policy.failing_limit:
                conn.execute(
                    sa.update(w)
                    .where(w.c.id == item["endpoint_id"])
                    .values(
                        enabled=False,
                        disabled_reason=f"failing since {since.isoformat()} (5 days)",
                        updated_at=now,
                    )
                )
                stats.disabled.append(item["endpoint_id"])
                log.warning("py3cx connect: endpoint %s failing for 5 days: disabled", item["endpoint_id"])


async def deliver_due(
    db: Database,
    vault: Vault,
    http: httpx2.AsyncClient,
    *,
    policy: DeliveryPolicy | None = None,
    limit: int = 200,
    limits: RateLimits | None = None,
) -> DeliveryStats:
    """One round: claim due deliveries (within each endpoint's rate limit: ``limits``, by default
    the process's), POST them (concurrently across calls and endpoints), record the outcome. Call it
    in a loop; it returns at once when nothing is due (``stats.throttled``: when a slot frees).
    """
    policy = policy or DeliveryPolicy()
    stats = DeliveryStats()
    now = _now()
    claimed, stats.throttled = await asyncio.to_thread(_claim, db, policy, limit, now, limits or _LIMITS)
    if not claimed:
        return stats
    items = await asyncio.to_thread(_load, db, vault, [c["id"] for c in claimed], now)

    async def one(item: Mapping[str, Any]) -> None:
        status, error = await _post(http, item, policy)
        await asyncio.to_thread(_record, db, item, status, error, policy, _now(), stats)

    await asyncio.gather(*(one(item) for item in items))
    return stats


def policy_from_env() -> DeliveryPolicy:
    """The delivery policy, with ``PY3CX_WEBHOOK_SCHEDULE`` (seconds, comma-separated: "0,5,300")
    replacing the standard schedule and ``PY3CX_WEBHOOK_TIMEOUT`` (seconds) the request timeout
    when set (tests and impatient setups).

    Raises ConfigError for a malformed value.
    """
    import os

    values: dict[str, Any] = {}
    text = os.environ.get("PY3CX_WEBHOOK_SCHEDULE", "").strip()
    if text:
        try:
            schedule = tuple(float(part) for part in text.split(","))
        except ValueError:
            raise ConfigError(
                f"PY3CX_WEBHOOK_SCHEDULE={text!r} is not a list of seconds", hint="such as 0,5,300,1800"
            ) from None
        if not schedule or any(s < 0 for s in schedule):
            raise ConfigError("PY3CX_WEBHOOK_SCHEDULE needs one or more delays of 0 seconds or more")
        values["schedule"] = schedule
    timeout = os.environ.get("PY3CX_WEBHOOK_TIMEOUT", "").strip()
    if timeout:
        try:
            values["timeout"] = float(timeout)
        except ValueError:
            values["timeout"] = -1.0
        if not values["timeout"] > 0:
            raise ConfigError(f"PY3CX_WEBHOOK_TIMEOUT={timeout!r} is not a number of seconds above 0")
    return DeliveryPolicy(**values)


async def deliver_forever(
    db: Database,
    vault: Vault,
    stop: asyncio.Event,
    *,
    policy: DeliveryPolicy | None = None,
    idle: float = 0.5,
) -> None:
    """Deliver until ``stop`` is set: at once while work is due, every ``idle`` seconds otherwise.

    Used by `3cx connect run` and by every `3cx connect worker` (claims keep several apart). A
    database error is logged and retried after ``idle``; it never ends the loop.
    """
    policy = policy or policy_from_env()
    async with httpx2.AsyncClient(follow_redirects=False) as http:
        while not stop.is_set():
            try:
                stats = await deliver_due(db, vault, http, policy=policy)
            except sa.exc.SQLAlchemyError as exc:
                log.warning("py3cx connect: webhook delivery round failed: %s", exc)
                stats = DeliveryStats()
            if stats.attempted:
                continue
            # a delivery waiting for its endpoint's rate limit goes when its slot frees, not after idle
            wait = idle if stats.throttled is None else min(idle, max(stats.throttled, 0.001))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
