"""The exporter's HTTP side: ``/probe?target=NAME`` (the multi-target pattern of blackbox_exporter
and snmp_exporter: one exporter, Prometheus names the PBX) and ``/metrics`` for the exporter itself.

A target is a `3cx config` profile or, with a connect database, a connect PBX. Each target keeps
one client between probes, so the token is reused (a PBX keeps one active token per client), and
a transport that counts its token requests and error answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx2
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from py3cx import AsyncClient
from py3cx._exceptions import AuthenticationError, ConfigError, Py3cxError, TokenError
from py3cx._http import ssl_verify
from py3cx.exporter.probe import ProbeCounters, probe

__all__ = ["Target", "TargetSource", "create_app"]

log = logging.getLogger("py3cx.exporter")

# Prometheus sends its scrape timeout in this header; a probe answers this much sooner (as
# blackbox_exporter does) so the answer arrives in time. Without the header: Prometheus' default.
TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
DEFAULT_TIMEOUT = 10.0
TIMEOUT_OFFSET = 0.5
MIN_TIMEOUT = 0.5


def probe_timeout(header: str | None) -> float:
    """How long a probe may read the PBX, from Prometheus' scrape timeout header (bad text: default)."""
    try:
        scrape = float(header) if header else DEFAULT_TIMEOUT
    except ValueError:
        scrape = DEFAULT_TIMEOUT
    if not scrape > 0 or scrape == float("inf"):  # NaN, 0, negatives, inf
        scrape = DEFAULT_TIMEOUT
    return max(scrape - TIMEOUT_OFFSET, MIN_TIMEOUT)


class CountingTransport(httpx2.AsyncBaseTransport):
    """Counts token requests and error answers (by status) of one target, then sends through ``inner``."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, counters: ProbeCounters) -> None:
        self._inner = inner
        self._counters = counters

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/connect/token"):
            self._counters.token_requests += 1
        response = await self._inner.handle_async_request(request)
        if response.status_code >= 400:
            self._counters.error(str(response.status_code))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class Target:
    """One PBX the exporter probes: its client (kept between probes) and its counters."""

    name: str
    client: AsyncClient
    counters: ProbeCounters
    users: int = 0  # probes using the client now


# builds the client of a target name (its transport is given), or raises ConfigError for an unknown name
TargetSource = Callable[[str, Callable[[bool, str | None], httpx2.AsyncBaseTransport]], AsyncClient]


def profile_source(
    name: str, transport: Callable[[bool, str | None], httpx2.AsyncBaseTransport]
) -> AsyncClient:
    """A target from `3cx config`: the profile ``name``."""
    from py3cx._config import resolve_profile

    profile = resolve_profile(name)
    return AsyncClient(
        profile.url,
        profile.client_id,
        profile.secret,
        verify=profile.verify,
        ca_bundle=profile.ca_bundle,
        transport=transport(profile.verify, profile.ca_bundle),
    )


def connect_source(db_url: str | None) -> TargetSource:
    """Targets from a py3cx connect database (its PBXs by name), sharing connect's stored tokens."""
    from py3cx.connect.db import open_database
    from py3cx.connect.registry import get_pbx
    from py3cx.connect.sync import pbx_client
    from py3cx.connect.vault import load_vault

    db = open_database(db_url)
    vault = load_vault()

    def build(name: str, transport: Callable[[bool, str | None], httpx2.AsyncBaseTransport]) -> AsyncClient:
        pbx = get_pbx(db, vault, name)
        return pbx_client(
            db, vault, pbx, transport=transport(pbx.settings.verify_tls, pbx.settings.ca_bundle)
        )

    return build


class _Snapshot(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Any:
        return iter(self._families)


class Exporter:
    """The targets, their clients and the exporter's own metrics."""

    def __init__(self, source: TargetSource, *, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self.source = source
        self._inner = inner
        self.targets: dict[str, Target] = {}
        self._counters: dict[str, ProbeCounters] = {}  # by target name, kept when a client is rebuilt
        self._lock = asyncio.Lock()
        self.registry = CollectorRegistry(auto_describe=False)
        self.probes = Counter(
            "threecx_exporter_probes",
            "Probes served, by target and result.",
            ["target", "result"],
            registry=self.registry,
        )
        self.durations = Histogram(
            "threecx_exporter_probe_duration_seconds", "Time to answer a probe.", registry=self.registry
        )

    def _transport(self, counters: ProbeCounters) -> Callable[[bool, str | None], httpx2.AsyncBaseTransport]:
        def make(verify: bool, ca_bundle: str | None) -> httpx2.AsyncBaseTransport:
            inner = self._inner or httpx2.AsyncHTTPTransport(verify=ssl_verify(verify, ca_bundle))
            return CountingTransport(inner, counters)

        return make

    async def target(self, name: str) -> Target:
        """The target ``name``, made on first use, for one probe (which then calls :meth:`release`).

        Raises ConfigError for an unknown one."""
        async with self._lock:
            found = self.targets.get(name)
            if found is None:
                counters = self._counters.get(name) or ProbeCounters()
                client = await asyncio.to_thread(self.source, name, self._transport(counters))
                self._counters[name] = counters  # a known name only: unknown ones raised above
                found = self.targets[name] = Target(name, client, counters)
            found.users += 1
            return found

    async def release(self, target: Target, *, forget: bool = False) -> None:
        """A probe is done with ``target`` (from :meth:`target`).

        ``forget`` drops its client, so the next probe builds it again from its profile or connect
        PBX: after a secret is rotated there, the exporter picks the new one up without a restart.
        Its counters stay (they count across probes); the client closes once no probe uses it.
        """
        async with self._lock:
            target.users -= 1
            if forget and self.targets.get(target.name) is target:
                del self.targets[target.name]
            done = target.users == 0 and self.targets.get(target.name) is not target
        if done:
            await target.client.close()

    async def close(self) -> None:
        for target in self.targets.values():
            await target.client.close()


def create_app(source: TargetSource, *, transport: httpx2.AsyncBaseTransport | None = None) -> Starlette:
    """The exporter as an ASGI app (``transport`` replaces the network: tests pass the emulator's)."""
    exporter = Exporter(source, inner=transport)

    async def probe_route(request: Request) -> Response:
        name = request.query_params.get("target", "").strip()
        if not name:
            return PlainTextResponse("missing ?target=NAME (a 3cx config profile or a connect PBX)\n", 400)
        started = time.monotonic()
        try:
            target = await exporter.target(name)
        except Py3cxError as exc:
            # one series for every unknown name: whoever can reach /probe cannot grow /metrics
            exporter.probes.labels("", "unknown").inc()
            hint = f" ({exc.hint})" if isinstance(exc, ConfigError) and exc.hint else ""
            return PlainTextResponse(
                f"unknown target {name!r}: {exc.message if isinstance(exc, ConfigError) else exc}{hint}\n",
                404,
            )
        except Exception as exc:  # the lookup failed (a connect database down), not the name
            exporter.probes.labels("", "lookup_error").inc()
            # the type only: a database error's text may carry connection details
            log.warning("py3cx exporter: looking up target %r failed: %s", name, type(exc).__name__)
            return PlainTextResponse(
                f"could not look up target {name!r} ({type(exc).__name__}): is the connect database up?\n",
                503,
            )
        timeout = probe_timeout(request.headers.get(TIMEOUT_HEADER))
        error: Exception | None = None
        try:
            found, error = await probe(target.client, target.counters, timeout)
        finally:
            # refused credentials: read them again next time
            await exporter.release(target, forget=isinstance(error, (AuthenticationError, TokenError)))
        exporter.probes.labels(name, "error" if error else "ok").inc()
        exporter.durations.observe(time.monotonic() - started)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Snapshot(found))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def metrics_route(_request: Request) -> Response:
        from prometheus_client import REGISTRY

        body = generate_latest(exporter.registry) + generate_latest(REGISTRY)  # the process's own metrics too
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def index(_request: Request) -> Response:
        return PlainTextResponse("py3cx exporter: /probe?target=NAME, /metrics\n")

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await exporter.close()

    app = Starlette(
        routes=[Route("/", index), Route("/probe", probe_route), Route("/metrics", metrics_route)],
        lifespan=lifespan,
    )
    app.state.exporter = exporter
    return app
