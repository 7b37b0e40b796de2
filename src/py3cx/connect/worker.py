"""`3cx connect worker`: the same jobs as `run`, as Procrastinate tasks on PostgreSQL, so that any
number of workers on any machines share the PBXs (docs/architecture.md says why Procrastinate).

- ``sync_calls_task(pbx)`` and ``sync_directory_task(pbx)`` run ``sync.sync_calls`` and
  ``sync.sync_directory``: the job functions ``run`` schedules in-process.
- A lock per (PBX, stream) (``lock=``) makes one worker at a time sync a PBX's stream; a queueing
  lock keeps at most one such job waiting.
- ``schedule`` (periodic, every minute; once when a worker starts; and every 10 s in each worker)
  defers the jobs that are
  due by each PBX's intervals (``sync_state.last_attempt_at``), and sends the jobs of workers
  that died (no heartbeat for 30 s: ``kill -9``, a lost machine) back to the queue. A job killed
  mid-pass loses nothing: each window commits whole and upserts are idempotent.
- ``poll_live_task(pbx)`` polls ``ActiveCalls`` for live events (``live.poll_live``) every
  ``live_interval`` seconds, for a PBX without a route point or whose Call Control stream is down
  (no ``callcontrol`` success in ``sync_state`` for ``2 x HEARTBEAT`` seconds).
- Call Control followers (``callcontrol_live.follow_callcontrol``) are long-lived, not jobs: each
  PBX with a route point is followed by the one worker that holds its PostgreSQL advisory lock
  (taken on one connection per worker). Each scheduling round a worker takes unfollowed PBXs up to
  its share (PBXs / live workers, rounded up); a ``kill -9``ed worker's connection and locks die
  with it, and the others take its PBXs at their next round.
No broker besides the database: Procrastinate keeps its queue in PostgreSQL (LISTEN/NOTIFY).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from py3cx._exceptions import ConfigError
from py3cx.connect import schema
from py3cx.connect.callcontrol_live import HEARTBEAT, follow_callcontrol, stop_follower
from py3cx.connect.db import Database
from py3cx.connect.live import poll_live
from py3cx.connect.outbox import deliver_forever, policy_from_env
from py3cx.connect.registry import Pbx, get_pbx, list_pbxs
from py3cx.connect.sync import PassResult, PbxSession, sync_calls, sync_directory
from py3cx.connect.vault import Vault

__all__ = ["QUEUE", "build_app", "defer_due_jobs", "run_worker"]

log = logging.getLogger("py3cx.connect")
QUEUE = "py3cx-connect"
_STREAMS = ("calls", "directory", "live")
_JOBS = {"calls": sync_calls, "directory": sync_directory, "live": poll_live}
_SCHEDULE_EVERY = 10.0  # seconds between a worker's own scheduling rounds


class _Context:
    db: Database | None = None
    vault: Vault | None = None


_context = _Context()


def _conninfo(db: Database) -> str:
    if not db.is_postgresql:
        raise ConfigError(
            "`3cx connect worker` needs PostgreSQL (Procrastinate keeps its queue there)",
            hint="--db postgresql+psycopg://user@host/db, or use `3cx connect run` with SQLite",
        )
    url = db.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def _run_job(stream: str, pbx_name: str) -> dict[str, Any]:
    db, vault = _context.db, _context.vault
    if db is None or vault is None:
        raise RuntimeError("the worker's database is not set up")
    try:
        pbx = await asyncio.to_thread(get_pbx, db, vault, pbx_name)
    except ConfigError:
        log.info("py3cx connect: PBX %s is gone; job dropped", pbx_name)
        return {"pbx": pbx_name, "skipped": True}
    session = PbxSession(db, vault, pbx)
    try:
        result: PassResult = await _JOBS[stream](session)
    finally:
        await session.aclose()
    return {
        "pbx": pbx_name,
        "stream": stream,
        "fetched": result.records,
        "changed": result.changed,
        "error": result.error,
    }


def build_app(db: Database) -> Any:
    """The Procrastinate app of connect on ``db`` (PostgreSQL), with its tasks registered."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=_conninfo(db)))
    retry = procrastinate.RetryStrategy(max_attempts=3, wait=5)

    @app.task(name="py3cx.connect.sync_calls", queue=QUEUE, retry=retry)
    async def sync_calls_task(pbx: str) -> dict[str, Any]:
        return await _run_job("calls", pbx)

    @app.task(name="py3cx.connect.sync_directory", queue=QUEUE, retry=retry)
    async def sync_directory_task(pbx: str) -> dict[str, Any]:
        return await _run_job("directory", pbx)

    @app.task(name="py3cx.connect.sync_live", queue=QUEUE)
    async def poll_live_task(pbx: str) -> dict[str, Any]:
        return await _run_job("live", pbx)

    @app.periodic(cron="* * * * *", periodic_id="py3cx-connect-schedule")
    @app.task(name="py3cx.connect.schedule", queue=QUEUE, queueing_lock="py3cx-connect-schedule")
    async def schedule(timestamp: int) -> int:
        return await defer_due_jobs(app)

    return app


def _due(db: Database, vault: Vault, now: datetime) -> list[tuple[Pbx, str]]:
    pbxs = list_pbxs(db, vault, enabled_only=True)
    state = schema.sync_state
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(state.c.pbx_id, state.c.stream, state.c.last_attempt_at, state.c.last_success_at)
        ).all()
    # polls record no attempt: their last success stands in
    attempts = {(row.pbx_id, row.stream): row.last_attempt_at or row.last_success_at for row in rows}
    live_streams = {
        row.pbx_id
        for row in rows
        if row.stream == "callcontrol"
        and row.last_success_at is not None
        and now - _aware(row.last_success_at) < timedelta(seconds=2 * HEARTBEAT)
    }
    due = []
    for pbx in pbxs:
        for stream in _STREAMS:
            interval = {
                "calls": pbx.settings.calls_interval,
                "directory": pbx.settings.directory_interval,
                "live": pbx.settings.live_interval,
            }[stream]
            if stream == "live" and (interval <= 0 or pbx.id in live_streams):
                continue  # no polls, or the Call Control stream is live
            last = attempts.get((pbx.id, stream))
            if last is not None and last.tzinfo is None:
                last = last.replace(tzinfo=timezone.utc)
            if last is None or now - last >= timedelta(seconds=interval) - timedelta(seconds=1):
                due.append((pbx, stream))
    return due


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


async def defer_due_jobs(app: Any) -> int:
    """Defer the jobs that are due, and re-queue the jobs of dead workers; return how many were deferred."""
    import procrastinate.exceptions
    import procrastinate.jobs

    db, vault = _context.db, _context.vault
    assert db is not None and vault is not None
    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE):
        log.warning("py3cx connect: job %s of a dead worker goes back to the queue", job.id)
        try:
            await app.job_manager.retry_job(job)
        except procrastinate.exceptions.UniqueViolation:
            # the same (PBX, stream) already waits in the queue: end the dead job instead, which
            # frees its lock for the waiting one (before, this failed every later round and the
            # PBX's stream never synced again)
            await app.job_manager.finish_job_by_id_async(job.id, procrastinate.jobs.Status.FAILED, False)
    deferred = 0
    for pbx, stream in await asyncio.to_thread(_due, db, vault, datetime.now(timezone.utc)):
        key = f"py3cx-connect:{pbx.name}:{stream}"
        task = app.tasks[f"py3cx.connect.sync_{stream}"]
        with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
            await task.configure(lock=key, queueing_lock=key).defer_async(pbx=pbx.name)
            deferred += 1
    return deferred


_FOLLOW_LOCK = 0x70793363  # advisory lock class of "this worker follows PBX n's Call Control stream"


class _Followers:
    """This worker's Call Control followers (see the module's docstring): ``round()`` stops the
    followers of PBXs gone or changed and takes unfollowed PBXs up to the worker's share."""

    def __init__(self, db: Database, vault: Vault) -> None:
        self.db = db
        self.vault = vault
        self.conn: Any = None
        self.following: dict[int, tuple[Pbx, asyncio.Task[None], asyncio.Event]] = {}

    def _connect(self) -> Any:
        if self.conn is None:
            self.conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self.conn

    def _try_lock(self, pbx_id: int) -> bool:
        return bool(
            self._connect().execute(sa.select(sa.func.pg_try_advisory_lock(_FOLLOW_LOCK, pbx_id))).scalar()
        )

    def _unlock(self, pbx_id: int) -> None:
        if self.conn is not None:
            self.conn.execute(sa.select(sa.func.pg_advisory_unlock(_FOLLOW_LOCK, pbx_id)))

    def _workers(self) -> int:
        found = (
            self._connect()
            .execute(
                sa.text(
                    "SELECT count(*) FROM procrastinate_workers"
                    " WHERE last_heartbeat > now() - interval '30 seconds'"
                )
            )
            .scalar()
        )
        return max(1, int(found or 0))

    async def round(self) -> None:
        pbxs = await asyncio.to_thread(list_pbxs, self.db, self.vault, enabled_only=True)
        wanted = {p.id: p for p in pbxs if p.settings.route_point_id and p.route_point_secret}
        for pbx_id, (pbx, task, _stop) in list(self.following.items()):
            if wanted.get(pbx_id) != pbx or task.done():
                await self._stop_one(pbx_id)
        share = -(-len(wanted) // await asyncio.to_thread(self._workers))
        for pbx_id in sorted(self.following)[share:]:
            await self._stop_one(pbx_id)  # more than this worker's share: another takes it
        for pbx_id, pbx in sorted(wanted.items()):
            if len(self.following) >= share:
                break
            if pbx_id in self.following or not await asyncio.to_thread(self._try_lock, pbx_id):
                continue
            stop = asyncio.Event()
            spacing = 0.1 * len(self.following)  # spread out: their token fetches too
            task = asyncio.ensure_future(
                follow_callcontrol(self.db, self.vault, pbx, stop, start_after=spacing)
            )
            self.following[pbx_id] = (pbx, task, stop)
            log.info("py3cx connect: this worker follows %s's Call Control stream", pbx.name)

    async def _stop_one(self, pbx_id: int) -> None:
        pbx, task, stop = self.following.pop(pbx_id)
        await stop_follower(pbx.name, task, stop)
        await asyncio.to_thread(self._unlock, pbx_id)

    async def close(self) -> None:
        for pbx_id in list(self.following):
            await self._stop_one(pbx_id)
        if self.conn is not None:
            await asyncio.to_thread(self.conn.close)
            self.conn = None


async def _apply_schema(app: Any, db: Database) -> None:
    # two workers starting together must not both create Procrastinate's tables
    conn = await asyncio.to_thread(db.engine.connect)
    try:
        await asyncio.to_thread(_locked, conn, "pg_advisory_lock")
        exists = await asyncio.to_thread(
            lambda: conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")).scalar()
        )
        if not exists:
            await app.schema_manager.apply_schema_async()
        await asyncio.to_thread(_locked, conn, "pg_advisory_unlock")
    finally:
        await asyncio.to_thread(conn.close)


_SCHEMA_LOCK = 0x70793363785F7363  # "py3cx_sc"


def _locked(conn: Any, function: str) -> None:
    conn.execute(sa.select(getattr(sa.func, function)(_SCHEMA_LOCK)))
    conn.commit()


async def run_worker(db: Database, vault: Vault, *, concurrency: int = 4) -> None:
    """Run a worker until SIGTERM/SIGINT (Procrastinate's own handlers stop it after the jobs in hand)."""
    _context.db, _context.vault = db, vault
    app = build_app(db)
    stop = asyncio.Event()
    # webhooks: every worker also sends the outbox (claims keep workers from sending a delivery twice)
    delivering = asyncio.ensure_future(deliver_forever(db, vault, stop, policy=policy_from_env()))
    try:
        async with app.open_async():
            await _apply_schema(app, db)
            await defer_due_jobs(app)
            followers = _Followers(db, vault)
            scheduling = asyncio.ensure_future(_schedule_often(app, stop, followers))
            try:
                await app.run_worker_async(
                    queues=[QUEUE], concurrency=concurrency, name="py3cx-connect", delete_jobs="successful"
                )
            finally:
                stop.set()
                await scheduling
                await followers.close()
    finally:
        stop.set()
        await delivering


async def _schedule_often(
    app: Any, stop: asyncio.Event, followers: _Followers | None = None, every: float = _SCHEDULE_EVERY
) -> None:
    """Defer due jobs and re-queue a dead worker's jobs every ``every`` seconds, not only at the
    periodic task's minute ticks: a job of a ``kill -9``ed worker is back in the queue about 30 s
    (the heartbeat limit) after the kill, not up to 90 s. Each round also takes this worker's share
    of the Call Control followers. Errors are logged; the loop goes on."""
    first = True
    while not stop.is_set():
        if not first:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
        if stop.is_set():
            return
        try:
            if followers is not None:
                await followers.round()
            if not first:
                await defer_due_jobs(app)
        except Exception as exc:  # a database hiccup must not end the worker
            log.warning("py3cx connect: scheduling round failed: %s", exc)
        first = False
