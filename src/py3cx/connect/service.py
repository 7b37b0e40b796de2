"""`3cx connect sync` (one pass, for cron) and `3cx connect run` (a service on one machine).

``run`` schedules the same job functions (``sync.sync_calls``, ``sync.sync_directory``) per PBX on
each PBX's intervals, at most ``concurrency`` at once and one per (PBX, stream); it picks up PBXs
added or changed while it runs (every 30 s), serves ``/healthz`` and Prometheus ``/metrics``
(read from ``sync_state`` at scrape time, so they are what the database says), and on SIGTERM or
Ctrl-C stops: passes in flight are cancelled, which loses nothing (each window commits whole).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from py3cx.connect import schema
from py3cx.connect.callcontrol_live import follow_callcontrol, stop_follower
from py3cx.connect.db import Database
from py3cx.connect.live import poll_live
from py3cx.connect.outbox import deliver_forever, policy_from_env
from py3cx.connect.registry import Pbx, list_pbxs
from py3cx.connect.sync import PassResult, PbxSession, sync_calls, sync_directory
from py3cx.connect.vault import Vault

__all__ = ["metrics_text", "run_service", "status_rows", "sync_once"]

log = logging.getLogger("py3cx.connect")
_RELOAD_EVERY = 30.0
_TICK = 0.5
_FOLLOWER_SPACING = 0.1  # seconds between the starts of the Call Control followers


async def sync_once(
    db: Database,
    vault: Vault,
    pbxs: list[Pbx],
    *,
    since: datetime | None = None,
    calls: bool = True,
    directory: bool = True,
    concurrency: int = 10,
) -> list[PassResult]:
    """One pass of each stream over each PBX, ``concurrency`` PBXs at once; results by PBX name.

    Example: ``asyncio.run(sync_once(db, vault, list_pbxs(db, vault)))``
    """
    gate = asyncio.Semaphore(concurrency)

    async def one(pbx: Pbx) -> list[PassResult]:
        async with gate:
            session = PbxSession(db, vault, pbx)
            try:
                results = []
                if directory:
                    results.append(await sync_directory(session))
                if calls:
                    results.append(await sync_calls(session, since=since))
                return results
            finally:
                await session.aclose()

    done = await asyncio.gather(*(one(p) for p in pbxs))
    return [r for results in done for r in results]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def status_rows(db: Database, now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per (PBX, stream): last success, lag (seconds behind now), records, errors, the
    current error (when the last attempt failed). PBXs never synced show with empty values.
    """
    now = now or datetime.now(timezone.utc)
    state = schema.sync_state
    query = (
        sa.select(schema.pbx.c.name, schema.pbx.c.enabled, state)
        .select_from(schema.pbx.outerjoin(state, state.c.pbx_id == schema.pbx.c.id))
        .order_by(schema.pbx.c.name, state.c.stream)
    )
    with db.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    out = []
    for row in rows:
        success, error_at = _utc(row["last_success_at"]), _utc(row["last_error_at"])
        mark = _utc(row["watermark"]) if row["stream"] == "calls" else success
        failing = error_at is not None and (success is None or error_at > success)
        out.append(
            {
                "pbx": row["name"],
                "stream": row["stream"],
                "enabled": row["enabled"],
                "last_success": success.isoformat(timespec="seconds") if success else None,
                "lag_seconds": round((now - mark).total_seconds(), 1) if mark else None,
                "records": row["records_total"] if row["stream"] == "calls" else None,
                "last_pass_fetched": row["last_pass_records"],
                "last_pass_changed": row["last_pass_changed"],
                "passes": row["passes"],
                "errors": row["errors"],
                "error": row["last_error"] if failing else None,
            }
        )
    return out


def metrics_text(db: Database) -> bytes:
    """Prometheus exposition text of connect's state (prometheus-client builds and escapes it)."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    rows = status_rows(db)

    class _StateCollector:
        def collect(self) -> Iterator[GaugeMetricFamily]:
            labels = ["pbx", "stream"]
            success = GaugeMetricFamily(
                "py3cx_connect_last_success_timestamp_seconds",
                "When the last pass succeeded (Unix time).",
                labels=labels,
            )
            lag = GaugeMetricFamily(
                "py3cx_connect_lag_seconds",
                "How far the stream is behind now (calls: the watermark).",
                labels=labels,
            )
            records = GaugeMetricFamily(
                "py3cx_connect_records", "Call records stored for the PBX.", labels=["pbx"]
            )
            errors = GaugeMetricFamily(
                "py3cx_connect_errors", "Passes that failed, since the stream began.", labels=labels
            )
            failing = GaugeMetricFamily(
                "py3cx_connect_failing", "1 when the last pass of the stream failed.", labels=labels
            )
            for row in rows:
                if row["stream"] is None:
                    continue
                key = [row["pbx"], row["stream"]]
                if row["last_success"]:
                    success.add_metric(key, datetime.fromisoformat(row["last_success"]).timestamp())
                if row["lag_seconds"] is not None:
                    lag.add_metric(key, row["lag_seconds"])
                if row["stream"] == "calls":
                    records.add_metric([row["pbx"]], row["records"] or 0)
                errors.add_metric(key, row["errors"] or 0)
                failing.add_metric(key, 1.0 if row["error"] else 0.0)
            yield from (success, lag, records, errors, failing)

    registry = CollectorRegistry()
    registry.register(_StateCollector())
    return generate_latest(registry)


class _Scheduler:
    """Which (PBX, stream) is due; one pass per (PBX, stream) at a time, ``concurrency`` in all."""

    def __init__(self, db: Database, vault: Vault, concurrency: int) -> None:
        self.db = db
        self.vault = vault
        self.gate = asyncio.Semaphore(concurrency)
        self.pbxs: dict[str, Pbx] = {}
        self.sessions: dict[str, PbxSession] = {}
        self.due: dict[tuple[str, str], float] = {}
        self.running: dict[tuple[str, str], asyncio.Task[PassResult]] = {}
        # PBXs with a route point: their Call Control followers (task, stop, healthy)
        self.followers: dict[str, tuple[asyncio.Task[None], asyncio.Event, asyncio.Event]] = {}
        self.last_tick = time.monotonic()

    async def reload(self) -> None:
        found = await asyncio.to_thread(list_pbxs, self.db, self.vault, enabled_only=True)
        current = {p.name: p for p in found}
        for name in list(self.pbxs):
            if name not in current or current[name] != self.pbxs[name]:
                await self._drop(name)
        for name, pbx in current.items():
            if name not in self.pbxs:
                self.pbxs[name] = pbx
                self.sessions[name] = PbxSession(self.db, self.vault, pbx)
                now = time.monotonic()
                self.due.setdefault((name, "directory"), now)
                self.due.setdefault((name, "calls"), now)
                if pbx.settings.live_interval > 0:
                    self.due.setdefault((name, "live"), now)
                if pbx.settings.route_point_id and pbx.route_point_secret:
                    stop, healthy = asyncio.Event(), asyncio.Event()
                    # spread out: 50 followers starting at once would fetch 50 tokens at once
                    start_after = _FOLLOWER_SPACING * len(self.followers)
                    task = asyncio.ensure_future(
                        follow_callcontrol(
                            self.db, self.vault, pbx, stop, healthy=healthy, start_after=start_after
                        )
                    )
                    self.followers[name] = (task, stop, healthy)

    async def _drop(self, name: str) -> None:
        follower = self.followers.pop(name, None)
        if follower is not None:
            await stop_follower(name, follower[0], follower[1])
        for stream in ("calls", "directory", "live"):
            task = self.running.pop((name, stream), None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            self.due.pop((name, stream), None)
        self.pbxs.pop(name, None)
        session = self.sessions.pop(name, None)
        if session is not None:
            await session.aclose()

    def start_due(self) -> None:
        now = time.monotonic()
        self.last_tick = now
        for (name, stream), when in list(self.due.items()):
            key = (name, stream)
            if when > now or key in self.running or name not in self.sessions:
                continue
            pbx = self.pbxs[name]
            follower = self.followers.get(name)
            if stream == "live" and follower is not None and follower[2].is_set():
                # Call Control is live: no ActiveCalls poll while it stays so
                self.due[key] = now + pbx.settings.live_interval
                continue
            interval = {
                "calls": pbx.settings.calls_interval,
                "directory": pbx.settings.directory_interval,
                "live": pbx.settings.live_interval,
            }[stream]
            self.due[key] = now + interval
            job: Callable[[PbxSession], Awaitable[PassResult]] = {
                "calls": sync_calls,
                "directory": sync_directory,
                "live": poll_live,
            }[stream]
            task = asyncio.ensure_future(self._gated(job, self.sessions[name]))
            self.running[key] = task
            task.add_done_callback(self._finished(key))

    def _finished(self, key: tuple[str, str]) -> Callable[[asyncio.Task[PassResult]], None]:
        def forget(_task: asyncio.Task[PassResult]) -> None:
            self.running.pop(key, None)

        return forget

    async def _gated(
        self, job: Callable[[PbxSession], Awaitable[PassResult]], session: PbxSession
    ) -> PassResult:
        async with self.gate:
            return await job(session)

    async def stop(self) -> None:
        for name in list(self.pbxs):
            await self._drop(name)


@contextmanager
def _stop_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _http_app(db: Database, vault: Vault, scheduler: _Scheduler) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def healthz(_request: Request) -> Response:
        stalled = time.monotonic() - scheduler.last_tick > 30
        try:
            await asyncio.to_thread(_ping, db)
        except Exception:
            return JSONResponse({"status": "database unreachable"}, status_code=503)
        if stalled:
            return JSONResponse({"status": "scheduler stalled"}, status_code=503)
        return JSONResponse({"status": "ok", "pbxs": len(scheduler.pbxs), "running": len(scheduler.running)})

    async def metrics(_request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        body = await asyncio.to_thread(metrics_text, db)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    from py3cx.connect.web import web_routes  # recordings and click-to-call (docs/webhooks.md)

    routes = [Route("/healthz", healthz), Route("/metrics", metrics)]
    return Starlette(routes=[*routes, *web_routes(db, vault, scheduler.sessions)])


def _ping(db: Database) -> None:
    with db.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


async def run_service(
    db: Database,
    vault: Vault,
    *,
    host: str,
    port: int,
    concurrency: int = 20,
    public_url: str | None = None,
) -> None:
    """Run until SIGTERM/SIGINT: the scheduler and the HTTP server (``/healthz``, ``/metrics``,
    recordings and click-to-call). Call events link recordings at ``public_url`` (default
    ``PY3CX_CONNECT_PUBLIC_URL``, else ``http://HOST:PORT``). Raises ConfigError for a bad URL."""
    import uvicorn

    from py3cx.cli.output import info
    from py3cx.connect.recordings import RecordingLinks, public_url_from_env, use_links

    class _Server(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:  # the service handles the signals itself
            yield

    where = f"[{host}]" if ":" in host else host
    links = RecordingLinks.for_vault(vault, public_url or public_url_from_env() or f"http://{where}:{port}")
    scheduler = _Scheduler(db, vault, concurrency)
    config = uvicorn.Config(
        _http_app(db, vault, scheduler),
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
    )
    server = _Server(config)
    stop = asyncio.Event()
    with _stop_signals(stop), use_links(links):
        serving = asyncio.ensure_future(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if serving.done():
            serving.result()  # the port was taken: uvicorn has said so
            raise SystemExit(2)
        info(
            f"py3cx connect: serving /healthz, /metrics, recordings and click-to-call on http://{where}:{port}"
        )
        info(f"py3cx connect: recording links point at {links.base_url}")
        next_reload = 0.0
        # webhooks: the outbox is sent from this process while it runs
        delivering = asyncio.ensure_future(deliver_forever(db, vault, stop, policy=policy_from_env()))
        try:
            while not stop.is_set():
                if time.monotonic() >= next_reload:
                    await scheduler.reload()
                    next_reload = time.monotonic() + _RELOAD_EVERY
                scheduler.start_due()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), _TICK)
        finally:
            info("py3cx connect: stopping")
            stop.set()
            await delivering
            await scheduler.stop()
            server.should_exit = True
            await serving
