"""Benchmark: how many Call Control events per second the event stream keeps up with, and how late.

    .venv/bin/python bench/events.py                  # the default steps (about a minute)
    .venv/bin/python bench/events.py --rates 500 2000 --seconds 10

The emulator runs in its own process (its own core, as a PBX would be another machine) and
generates calls at increasing rates. For every step the bench measures, in this process:

- the event rate the emulator offered and the rate the stream received;
- the lag of every event, from the moment the emulator emitted it to the moment the state cache
  held its effect (after the GET an upsert needs; an upsert merged into a later fetch of the same
  entity counts when that fetch is applied, an event that changed nothing when it was found to),
  p50 / p99 / max, from the `emitted_at` stamp the emulator adds when `stamp_events` is on (both
  sides read the same CLOCK_MONOTONIC);
- *old p99*: the p99 lag timed as before 2026-12-05, through ``on_applied`` (only events that
  changed the cache, a merged run of upserts timed by its last one), from the same step;
- how many of them were upserts merged into a later fetch of the same entity (before 2026-12-05
  the bench timed events through ``on_applied``, which never saw these);
- whether the cache is correct: the calls are frozen at the end of the step and the cache must
  equal the emulator's truth within 2 s.

Prints a Markdown table (paste it into bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import httpx2

ROUTE_POINT = ("8000", "bench-route-point-secret")
DEFAULT_RATES = [250, 500, 1000, 2000, 3000, 4000]


def _serve(port: int) -> None:
    import uvicorn

    from py3cx.emulator import ApiClient, EmulatorConfig, create_app

    app = create_app(EmulatorConfig(seed=1, calls=200, clients=[ApiClient(*ROUTE_POINT, "SystemOwner")]))
    # the spec index and the seeded tables are a big, permanent heap: keep the collector off it, so
    # that the emulator's own garbage-collection pauses do not show up as event lag
    gc.freeze()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        lifespan="on",
        log_level="warning",
        access_log=False,
    )
    uvicorn.Server(config).run()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Step:
    offered: float
    target: float
    received: float = 0.0
    applied: float = 0.0
    fetches: float = 0.0
    lags: list[float] = field(default_factory=list)
    applied_lags: list[float] = field(default_factory=list)  # the old method: on_applied only
    timed: float = 0.0  # events per second whose lag was measured: every received one
    merged: float = 0.0  # upserts per second answered by a later fetch (on_applied never saw them)
    correct: bool = False
    settle: float = 0.0
    client_cpu: float = 0.0
    emulator_cpu: float = 0.0
    legs: float = 0.0

    def percentile(self, share: float, lags: list[float] | None = None) -> float:
        lags = self.lags if lags is None else lags
        if not lags:
            return float("nan")
        ordered = sorted(lags)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


async def _wait_up(url: str) -> None:
    async with httpx2.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(url + "/_emulator/callcontrol")).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the emulator did not start")


async def bench(
    rates: list[int], seconds: float, events_per_call: float, tuning: dict[str, int]
) -> list[Step]:
    import py3cx
    from py3cx.callcontrol import DNInfo, StreamOptions

    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}"
    steps: list[Step] = []
    try:
        await _wait_up(url)
        control = httpx2.AsyncClient(base_url=url + "/_emulator/callcontrol/", timeout=30)
        await control.post(
            "settings",
            json={
                "stamp_events": True,
                "ring_seconds": [0.1, 0.3],
                "talk_seconds": [0.2, 0.8],
                "queue_wait_seconds": [0.1, 0.5],
                "abandon_share": 0.1,
                "transfer_share": 0.05,
            },
        )
        async with py3cx.AsyncClient(url, *ROUTE_POINT) as client:
            lags: list[float] = []

            def record(wire: Any) -> None:
                # every message, once the cache holds its effect: also those merged into a later
                # fetch and those that changed nothing (on_applied saw only the changes)
                if "emitted_at" in wire.raw:
                    lags.append(time.monotonic() - float(wire.raw["emitted_at"]))

            applied_lags: list[float] = []

            def record_applied(_event: Any, wire: Any) -> None:
                # how the bench timed before 2026-12-05, kept to show the difference: changes only
                if wire is not None and "emitted_at" in wire.raw:
                    applied_lags.append(time.monotonic() - float(wire.raw["emitted_at"]))

            options = StreamOptions(max_in_flight=64, high_water=1_000_000, **tuning)
            stream = client.callcontrol.events(options=options)
            stream.on_settled = record
            stream.on_applied = record_applied

            async def consume() -> None:
                async for _ in stream:
                    pass

            reader = asyncio.ensure_future(consume())
            await stream.wait_connected(30)
            per_call = events_per_call
            legs: list[int] = []
            for rate in rates:
                step = Step(offered=0.0, target=rate)
                # calibrate on the events themselves: how many a call makes depends on the load
                call_rate = rate / per_call * 60
                for _ in range(3):
                    await control.post("settings", json={"call_rate": call_rate, "frozen": False})
                    first = (await control.get(".")).json()
                    await asyncio.sleep(1.0)
                    second = (await control.get(".")).json()
                    offered = second["events_emitted"] - first["events_emitted"]
                    if offered:
                        call_rate *= rate / offered
                await control.post("settings", json={"call_rate": call_rate})
                before = (await control.get(".")).json()
                stats0 = (
                    stream.stats.messages,
                    stream.stats.events,
                    stream.stats.fetches,
                    stream.stats.merged,
                )
                cpu0, t0 = time.process_time(), time.monotonic()
                server_cpu0 = _cpu_seconds(server.pid or 0)
                lags.clear()
                applied_lags.clear()
                legs.clear()
                for _ in range(int(seconds * 4)):
                    await asyncio.sleep(0.25)
                    legs.append(len(stream.state))
                elapsed = time.monotonic() - t0
                step.client_cpu = (time.process_time() - cpu0) / elapsed
                step.emulator_cpu = (_cpu_seconds(server.pid or 0) - server_cpu0) / elapsed
                after = (await control.get(".")).json()
                step.lags = list(lags)
                step.applied_lags = list(applied_lags)
                step.timed = len(lags) / elapsed
                step.legs = sum(legs) / max(1, len(legs))
                step.offered = (after["events_emitted"] - before["events_emitted"]) / elapsed
                step.received = (stream.stats.messages - stats0[0]) / elapsed
                step.applied = (stream.stats.events - stats0[1]) / elapsed
                step.fetches = (stream.stats.fetches - stats0[2]) / elapsed
                step.merged = (stream.stats.merged - stats0[3]) / elapsed
                await control.post("settings", json={"frozen": True})
                settle_started = time.monotonic()
                while time.monotonic() - settle_started < 2.0:
                    truth = [
                        DNInfo.model_validate(d) for d in (await control.get("truth?route_point=8000")).json()
                    ]
                    if stream.state.snapshot() == truth:
                        step.correct = True
                        break
                    await asyncio.sleep(0.02)
                step.settle = time.monotonic() - settle_started
                steps.append(step)
                print(_row(step), file=sys.stderr, flush=True)
                await control.post("settings", json={"call_rate": 0, "frozen": False})
                await asyncio.sleep(2.0)  # let the step's calls end before the next one
            await stream.aclose()
            reader.cancel()
        await control.aclose()
    finally:
        server.terminate()
        server.join(5)
    return steps


HEADER = (
    "| offered events/s | legs live | received events/s | applied events/s | timed events/s | merged events/s | "
    "GETs/s | lag p50 ms | lag p99 ms | lag max ms | old p99 ms | cache correct | client CPU | emulator CPU |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|"
)


def _row(step: Step) -> str:
    return (
        f"| {step.offered:,.0f} | {step.legs:,.0f} | {step.received:,.0f} | {step.applied:,.0f} | "
        f"{step.timed:,.0f} | {step.merged:,.0f} | {step.fetches:,.0f} | "
        f"{step.percentile(0.5):.1f} | {step.percentile(0.99):.1f} | {step.percentile(1.0):.1f} | "
        f"{step.percentile(0.99, step.applied_lags):.1f} | "
        f"{'yes' if step.correct else 'NO'} ({step.settle * 1000:.0f} ms) | {step.client_cpu:.0%} | "
        f"{step.emulator_cpu:.0%} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rates", type=int, nargs="+", default=DEFAULT_RATES, help="target events per second"
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="measuring time per step")
    parser.add_argument(
        "--events-per-call", type=float, default=6.5, help="to turn event rates into call rates"
    )
    parser.add_argument("--rounds", type=int, default=3, help="StreamOptions.fetch_rounds")
    parser.add_argument("--everything-at", type=int, default=6, help="StreamOptions.fetch_everything_at")
    args = parser.parse_args()
    tuning = {"fetch_rounds": args.rounds, "fetch_everything_at": args.everything_at}
    os.environ.setdefault("PY3CX_CACHE_DIR", tempfile.mkdtemp(prefix="py3cx-bench-"))
    print(f"# py3cx event stream, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}", file=sys.stderr)
    print(HEADER, file=sys.stderr)
    steps = asyncio.run(bench(args.rates, args.seconds, args.events_per_call, tuning))
    print(HEADER)
    for step in steps:
        print(_row(step))


if __name__ == "__main__":
    main()
