"""One probe of one PBX: read its status over XAPI and turn it into Prometheus metric families.

XAPI has no live queue statistics: calls waiting in a queue are the ``ActiveCalls`` whose callee is
the queue and that nobody answered yet (what the admin console's active-calls view shows), and the
longest wait is the oldest of them. Agents logged in are a queue's agents whose user is
``QueueStatus: LoggedIn``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric

from py3cx import AsyncClient
from py3cx._durations import parse_datetime
from py3cx._exceptions import APIError, APIStatusError, TokenError
from py3cx._queues_now import queues_now
from py3cx.licence import Licence

__all__ = ["PREFIX", "ProbeCounters", "probe"]

PREFIX = "threecx"


@dataclass
class ProbeCounters:
    """What the exporter counts for a target across probes (token requests, API errors by status)."""

    token_requests: int = 0
    api_errors: dict[str, int] = field(default_factory=dict)

    def error(self, status: str) -> None:
        self.api_errors[status] = self.api_errors.get(status, 0) + 1


def _seconds(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = parse_datetime(text, default_tz=timezone.utc)
    except ValueError:
        return None
    return None if moment.year < 1971 else moment.timestamp()


def _gauge(
    name: str, doc: str, value: float | None, labels: Mapping[str, str] | None = None
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=list(labels or {}))
    if value is not None:
        family.add_metric(list((labels or {}).values()), value)
    return family


async def _read(client: AsyncClient) -> dict[str, Any]:
    """Each read's answer, or the exception it ended with.

    Every read ends before the probe answers (none is left running to count its error after the
    scrape), and one refused read does not hide the others: a PBX whose licence has no API access
    still shows its licence and status.
    """
    names = ("status", "licence", "trunks", "services", "active", "queues", "users")
    answers = await asyncio.gather(
        client.get("SystemStatus"),
        client.get("LicenseStatus"),
        _all(client, "Trunks", select=["Number", "IsOnline"]),
        _all(client, "Services", select=["Name", "Status"]),
        _all(client, "ActiveCalls"),
        _all(client, "Queues", select=["Number", "Name"], expand="Agents($select=Number)"),
        _all(client, "Users", select=["Number", "QueueStatus"]),
        return_exceptions=True,
    )
    return dict(zip(names, answers, strict=True))


async def _all(client: AsyncClient, path: str, **query: Any) -> list[dict[str, Any]]:
    return [row async for row in client.paginate(path, **query)]


def _queue_families(data: Mapping[str, Any], now: float) -> Iterable[GaugeMetricFamily]:
    labels = ["queue", "name"]
    waiting = GaugeMetricFamily(
        f"{PREFIX}_queue_calls_waiting", "Calls in the queue nobody answered yet.", labels=labels
    )
    longest = GaugeMetricFamily(
        f"{PREFIX}_queue_longest_wait_seconds",
        "How long the oldest waiting call has waited (0: none).",
        labels=labels,
    )
    agents = GaugeMetricFamily(
        f"{PREFIX}_queue_agents_logged_in", "The queue's agents who are logged in to queues.", labels=labels
    )
    for queue in queues_now(data["queues"], data["active"], data["users"], now):
        waiting.add_metric([queue.number, queue.name], queue.waiting)
        longest.add_metric([queue.number, queue.name], queue.longest_wait)
        agents.add_metric([queue.number, queue.name], queue.agents_logged_in)
    return (waiting, longest, agents)


def families(data: Mapping[str, Any], now: float | None = None) -> list[Metric]:
    """The metric families of what one probe read (``now``: the clock for wait times).

    A read that failed (an exception in ``data``) leaves out the families made from it, and only them.
    """
    now = time.time() if now is None else now
    ok = {name for name, answer in data.items() if not isinstance(answer, BaseException)}
    out: list[Metric] = []
    if "status" in ok:
        out.extend(_status_families(data["status"]))
    if "licence" in ok:
        out.extend(_licence_families(Licence.from_status(data["licence"])))
    if "trunks" in ok:
        out.extend(_trunk_families(data["trunks"]))
    if "active" in ok:
        out.append(_gauge("calls_active", "Calls in progress (ActiveCalls).", len(data["active"])))
    if {"active", "queues", "users"} <= ok:
        out.extend(_queue_families(data, now))
    if "services" in ok:
        out.extend(_service_families(data["services"]))
    return out


def _status_families(status: Mapping[str, Any]) -> list[Metric]:
    out: list[Metric] = []
    build = InfoMetricFamily(f"{PREFIX}_build", "The PBX's version.", labels=[])
    build.add_metric([], {"version": str(status.get("Version") or "unknown")})
    out.append(build)
    out.append(
        _gauge(
            "extensions_registered", "Extensions with a registered phone.", status.get("ExtensionsRegistered")
        )
    )
    out.append(_gauge("extensions_total", "Extensions configured.", status.get("ExtensionsTotal")))
    out.append(
        _gauge(
            "last_backup_timestamp_seconds",
            "When the last backup ran (absent: never).",
            _seconds(status.get("LastBackupDateTime")),
        )
    )
    disk = status.get("DiskUsage")
    out.append(
        _gauge(
            "disk_used_ratio",
            "Share of the PBX's disk in use (0 to 1).",
            disk / 100 if isinstance(disk, (int, float)) else None,
        )
    )
    return out


def _licence_families(licence: Licence) -> list[Metric]:
    out: list[Metric] = []
    info = InfoMetricFamily(f"{PREFIX}_license", "The PBX's licence edition.", labels=[])
    info.add_metric([], {"edition": licence.edition, "product_code": licence.product_code or ""})
    out.append(info)
    expiry = licence.expires_at.timestamp() if licence.expires_at else None
    out.append(
        _gauge(
            "license_expiry_timestamp_seconds", "When the licence expires (absent: no expiry date).", expiry
        )
    )
    out.append(
        _gauge(
            "license_max_simultaneous_calls", "Simultaneous calls the licence allows.", licence.max_sim_calls
        )
    )
    access = licence.api_access()
    out.append(
        _gauge(
            "license_api_access",
            "1 when the licence includes API access (active Enterprise).",
            None if access is None else float(access),
        )
    )
    return out


def _trunk_families(trunks: list[dict[str, Any]]) -> list[Metric]:
    out: list[Metric] = []
    out.append(
        _gauge(
            "trunks_registered",
            "Trunks registered with their provider now.",
            sum(1 for t in trunks if t.get("IsOnline")),
        )
    )
    out.append(_gauge("trunks_total", "Trunks configured.", len(trunks)))
    per_trunk = GaugeMetricFamily(
        f"{PREFIX}_trunk_registered", "1 when this trunk is registered.", labels=["trunk"]
    )
    for trunk in trunks:
        per_trunk.add_metric([str(trunk.get("Number"))], 1.0 if trunk.get("IsOnline") else 0.0)
    out.append(per_trunk)
    return out


def _service_families(services: list[dict[str, Any]]) -> list[Metric]:
    out: list[Metric] = []
    running = sum(1 for s in services if s.get("Status") == "Running")
    out.append(_gauge("services_running", "PBX services running.", running))
    out.append(_gauge("services_total", "PBX services.", len(services)))
    per_service = GaugeMetricFamily(
        f"{PREFIX}_service_running", "1 when this service runs.", labels=["service"]
    )
    for service in services:
        per_service.add_metric([str(service.get("Name"))], 1.0 if service.get("Status") == "Running" else 0.0)
    out.append(per_service)
    return out


async def probe(
    client: AsyncClient, counters: ProbeCounters, timeout: float | None = None
) -> tuple[list[Metric], Exception | None]:
    """Read one PBX. Returns its families (with ``threecx_up``) and what failed, if anything.

    Never raises for the PBX's answers: a failed read is ``threecx_up 0`` and an error counted.
    ``timeout`` bounds the whole read: a PBX that stops answering gives ``threecx_up 0`` (status
    ``timeout``) while Prometheus still waits, rather than a scrape Prometheus abandons.
    """
    started = time.monotonic()
    error: Exception | None = None
    found: list[Metric] = []
    try:
        data = await asyncio.wait_for(_read(client), timeout)
        found = families(data)
        failed = next((a for a in data.values() if isinstance(a, BaseException)), None)
        if failed is not None:
            raise failed  # the first failed read is the probe's error
    except asyncio.TimeoutError:
        counters.error("timeout")
        error = TimeoutError(f"no answer within {timeout:g} s")
    except APIStatusError as exc:
        error = exc  # its status was counted by the target's transport, as every error answer
    except TokenError as exc:
        if exc.status_code is None or exc.status_code < 400:
            counters.error("token")  # an answer the transport did not count as an error
        error = exc
    except APIError as exc:
        counters.error("connection")
        error = exc
    out = [_gauge("up", "1 when the last probe read the PBX.", 0.0 if error else 1.0), *found]
    out.append(_gauge("probe_duration_seconds", "How long the probe took.", time.monotonic() - started))
    tokens = CounterMetricFamily(f"{PREFIX}_token_requests", "Token requests the exporter made to this PBX.")
    tokens.add_metric([], counters.token_requests)
    errors = CounterMetricFamily(
        f"{PREFIX}_api_errors", "API requests that failed, by HTTP status (or connection).", labels=["status"]
    )
    for status, count in sorted(counters.api_errors.items()):
        errors.add_metric([status], count)
    out.extend([tokens, errors])
    return out, error
