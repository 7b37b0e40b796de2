"""Per-endpoint rate limits of the webhook sender, against a real receiver on loopback, on SQLite and
PostgreSQL: the arrival times at a limited endpoint never show more than its rate (plus the burst
allowed) within any second, a limited endpoint does not hold up another, and `endpoint add` /
`endpoint limits` take and check the limits."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from clirun import run_3cx
from py3cx.connect import schema
from py3cx.connect.db import Database
from py3cx.connect.events import emit_call_events
from py3cx.connect.outbox import DeliveryPolicy, RateLimits, add_endpoint, deliver_forever
from py3cx.connect.registry import Pbx, PbxSettings, add_pbx
from py3cx.connect.vault import Vault

from .receiver import Receiver, running_receiver

FAST = DeliveryPolicy(schedule=(0, 0.05, 0.05), jitter=0.2, timeout=5.0)
DEADLINE = 120.0  # seconds: generous for a loaded 2-core machine; the limits make these take ~6 s


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


def _pbx(db: Database, vault: Vault) -> Pbx:
    settings = PbxSettings(name="office", url="http://127.0.0.1:9", client_id="x", country="GB")
    return add_pbx(db, vault, settings, "secret-value")


def _calls(db: Database, pbx: Pbx, count: int) -> None:
    """``count`` ended calls, one call.ended each (different calls: nothing orders them)."""
    end = datetime.now(timezone.utc) + timedelta(minutes=1)  # after the endpoints were added
    calls = [
        {
            "call_id": f"c{i:03}",
            "start_time": end - timedelta(minutes=2),
            "end_time": end,
            "direction": "Inbound",
            "status": "answered",
            "answered": True,
            "from_number": None,
            "from_e164": None,
            "from_name": None,
            "to_number": "100",
            "to_e164": None,
            "answered_by_dn": None,
            "answered_by_name": None,
            "queue": None,
            "ringing_seconds": 1.0,
            "talking_seconds": 10.0,
            "records": 1,
            "recording_ids": None,
        }
        for i in range(count)
    ]
    with db.engine.begin() as conn:
        emit_call_events(conn, pbx.id, pbx.name, calls, datetime.now(timezone.utc))


class Arrivals:
    """The arrival time (monotonic) of each request, by path: the receiver's answers record them."""

    def __init__(self, receiver: Receiver) -> None:
        self.times: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        receiver.answer = self.answer

    def answer(self, path: str, _event_id: str, _attempt: int) -> int:
        with self.lock:
            self.times.setdefault(path, []).append(time.monotonic())
        return 200

    def count(self, path: str) -> int:
        with self.lock:
            return len(self.times.get(path, []))


def _deliver_until(db: Database, vault: Vault, done: Any) -> None:
    """Run the sender (as `run` does) until ``done()`` or the deadline."""

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.ensure_future(deliver_forever(db, vault, stop, policy=FAST, idle=0.1))
        deadline = time.monotonic() + DEADLINE
        while not done() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(go())


def _busiest_second(times: list[float]) -> int:
    """The most arrivals within any one-second window."""
    ordered = sorted(times)
    return max(sum(1 for t in ordered[i:] if t - start < 1.0) for i, start in enumerate(ordered))


def test_a_limited_endpoint_never_gets_more_than_its_rate_in_any_second(
    db: Database, vault: Vault, receiver: Receiver
) -> None:
    arrivals = Arrivals(receiver)
    add_endpoint(db, vault, receiver.url, rate_limit=5, max_in_flight=30)
    pbx = _pbx(db, vault)
    _calls(db, pbx, 30)
    _deliver_until(db, vault, lambda: arrivals.count("/hooks") >= 30)
    times = arrivals.times["/hooks"]
    assert len(times) == 30
    # 5 a second, bursts of 1: 6 in a closed second at most; 1 more for the network's jitter
    assert _busiest_second(times) <= 7, sorted(round(t - min(times), 2) for t in times)
    with db.engine.connect() as conn:
        statuses = conn.execute(sa.select(schema.deliveries.c.status)).scalars().all()
    assert statuses == ["delivered"] * 30


def test_a_limited_endpoint_does_not_hold_up_another(db: Database, vault: Vault, receiver: Receiver) -> None:
    arrivals = Arrivals(receiver)
    add_endpoint(db, vault, receiver.url.replace("/hooks", "/slow"), rate_limit=3, max_in_flight=20)
    add_endpoint(db, vault, receiver.url.replace("/hooks", "/fast"), rate_limit=1000, max_in_flight=20)
    pbx = _pbx(db, vault)
    _calls(db, pbx, 20)
    slow_when_fast_done: list[int] = []

    def done() -> bool:
        if not slow_when_fast_done and arrivals.count("/fast") >= 20:
            slow_when_fast_done.append(arrivals.count("/slow"))
        return arrivals.count("/slow") >= 20

    _deliver_until(db, vault, done)
    assert arrivals.count("/fast") == 20 and arrivals.count("/slow") == 20
    # the fast endpoint had all its events while the slow one was still at its first few
    assert slow_when_fast_done and slow_when_fast_done[0] <= 10
    assert _busiest_second(arrivals.times["/slow"]) <= 5  # 3 a second, bursts of 1, 1 for jitter


def test_rate_limits_take_slots_and_say_when_the_next_is_free() -> None:
    limits = RateLimits()
    key = ("db", 1)
    assert limits.take(key, 0.5) and not limits.take(key, 0.5)
    assert 1.0 < limits.wait(key, 0.5) <= 2.0  # one every 2 s
    burst = [limits.take(("db", 2), 100.0) for _ in range(20)]
    assert burst.count(True) == 10  # bursts of a tenth of a second's worth
    assert limits.take(("other-db", 1), 0.5)  # endpoints of another database are others


def test_the_commands_take_and_check_the_limits(tmp_path: Any, db_url: str, receiver: Receiver) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(PY3CX_DB=db_url, PY3CX_CONNECT_KEY_FILE=str(tmp_path / "connect.key"))
    for bad in (["--rate-limit", "0"], ["--rate-limit", "nan"], ["--max-in-flight", "0"]):
        refused = run_3cx(["connect", "endpoint", "add", receiver.url, *bad], env)
        assert refused.returncode != 0 and "out of range" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
    added = run_3cx(
        ["connect", "endpoint", "add", receiver.url, "--rate-limit", "5", "--max-in-flight", "2", "--json"],
        env,
    )
    assert added.returncode == 0, added.stderr
    assert '"rate_limit": 5.0' in added.stdout and '"max_in_flight": 2' in added.stdout
    changed = run_3cx(["connect", "endpoint", "limits", "1", "--rate-limit", "0.5", "--json"], env)
    assert changed.returncode == 0 and '"rate_limit": 0.5' in changed.stdout, changed.stderr
    listed = run_3cx(["connect", "endpoint", "list", "--json"], env)
    assert '"rate_limit": 0.5' in listed.stdout and '"max_in_flight": 2' in listed.stdout
    nothing = run_3cx(["connect", "endpoint", "limits", "1"], env)
    assert nothing.returncode != 0 and "nothing to change" in nothing.stderr
