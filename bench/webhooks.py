"""py3cx connect webhook benchmark: many emulated PBXs with live calls, one `3cx connect run`, a fast receiver.

Run by hand, not in CI::

    python bench/webhooks.py                                   # 50 PBXs, 3 calls/s, every mode
    python bench/webhooks.py --pbxs 10 --seconds 60 --modes records
    python bench/webhooks.py --db postgresql+psycopg://postgres@127.0.0.1:5432/postgres

For each mode, on fresh emulators and a fresh database:

1. ``3cx emulator serve --pbxs N --port 0 --pbx-list FILE --call-rate R`` (one process; R per PBX
   is ``--call-rate`` calls/s in all, spread evenly), every PBX with the same two API clients:
   ``owner`` and the route point ``8000``; the calls' timings are shortened (``--ring-seconds``,
   ``--talk-seconds``) so the rate of ended calls is steady after a short warm-up;
2. ``3cx connect pbx import`` of that list (``calls_interval`` = ``--calls-every``; in the
   ``callcontrol`` modes each PBX also has ``route_point_id`` 8000 and its secret, so connect uses
   the Call Control event stream), ``3cx connect endpoint add URL`` (the receiver) and
   ``3cx connect run``;
3. a receiver on loopback (starlette + uvicorn, its own process) verifies each signature, records
   each request (arrival time, webhook-id, type, data.pbx, data.call_id) and answers 200; in the
   ``-failing`` modes it answers 500 to ``--fail-share`` (20 %) of the FIRST attempts of an id;
4. after ``--warmup`` seconds it measures ``--seconds`` seconds, then stops the calls and drains:
   it waits until every call that ended in the emulator since the measurement began has its
   ``call.ended`` delivered (or ``--drain`` seconds passed);
5. the truth is each PBX's ``GET /_emulator/callcontrol/calls`` (ended calls with their end time,
   the last 5,000 per PBX): a call's Call Control ``callid`` is its call-log ``CallId``, which is
   the ``data.call_id`` connect sends. It reports deliveries per second in the measured window
   (all types, and ``call.ended`` alone), the end-of-call to delivered latency of ``call.ended``
   (the end time is the emulator's, the arrival time the receiver's: one machine, one clock),
   calls never delivered (lost), ids accepted twice (duplicates), calls with more than one
   ``call.ended`` id, the connect process's peak RSS (``VmHWM``) and the load average.

Prints a Markdown table (and writes it to ``--report``; ``--json`` writes the rows as JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx2

import connect as connect_bench
from connect import Database, cli, drop_database, new_database, peak_rss

HERE = Path(__file__).resolve().parent
MODES = ("records", "records-failing", "callcontrol", "callcontrol-failing")
ROUTE_POINT = "8000"
TAIL = 20  # lines of a failed process's log shown


# -- the receiver (its own process: `python bench/webhooks.py receive`) ---------------------------------


def receiver_app(secret: str, fail_share: float, seed: int) -> Any:
    """The receiver: verifies, records and answers 200 (500 to ``fail_share`` of first attempts)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from py3cx.webhooks import WebhookVerificationError, verify

    draw = random.Random(seed)
    attempts: dict[str, int] = {}
    records: list[dict[str, Any]] = []

    async def hook(request: Request) -> Response:
        arrived = time.time()
        body = await request.body()
        event_id = request.headers.get("webhook-id", "")
        try:
            event = verify(body, request.headers, secret)
            valid = True
        except WebhookVerificationError:
            event, valid = json.loads(body), False
        attempt = attempts.get(event_id, 0)
        attempts[event_id] = attempt + 1
        status = 500 if attempt == 0 and fail_share and draw.random() < fail_share else 200
        data = event.get("data") or {}
        records.append(
            {
                "at": arrived,
                "id": event_id,
                "type": event.get("type"),
                "pbx": data.get("pbx"),
                "call_id": data.get("call_id"),
                "status": status,
                "valid": valid,
            }
        )
        return Response(status_code=status)

    async def listing(request: Request) -> Response:
        since = int(request.query_params.get("since", "0"))
        return JSONResponse(records[since:])

    return Starlette(routes=[Route("/hooks", hook, methods=["POST"]), Route("/records", listing)])


def serve_receiver(fail_share: float, seed: int) -> None:
    """Serve the receiver on a free loopback port; print the port on the first line of stdout."""
    import uvicorn

    secret = os.environ["BENCH_WEBHOOK_SECRET"]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(
        receiver_app(secret, fail_share, seed), log_level="warning", access_log=False, lifespan="off"
    )
    uvicorn.Server(config).run(sockets=[sock])


@dataclass
class Receiver:
    process: subprocess.Popen[bytes]
    url: str

    def records(self, since: int = 0) -> list[dict[str, Any]]:
        answer = httpx2.get(f"{self.url}/records", params={"since": since}, timeout=60)
        answer.raise_for_status()
        found: list[dict[str, Any]] = answer.json()
        return found


def start_receiver(secret: str, fail_share: float, seed: int) -> Receiver:
    env = {**os.environ, "BENCH_WEBHOOK_SECRET": secret}
    command = [sys.executable, __file__, "receive", "--fail-share", str(fail_share), "--seed", str(seed)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE)
    assert process.stdout is not None
    port = int(process.stdout.readline() or 0)
    if not port:
        raise SystemExit("the receiver did not start")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx2.get(f"{url}/records", timeout=2).raise_for_status()
            return Receiver(process, url)
        except httpx2.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the receiver did not answer within 60 s")


# -- the emulators ------------------------------------------------------------------------------------


@dataclass
class Emulators:
    process: subprocess.Popen[bytes]
    pbxs: list[dict[str, str]]

    def each(self, method: str, path: str, body: Any = None) -> list[Any]:
        """One control request to every PBX, concurrently; their JSON answers in list order."""

        async def run() -> list[Any]:
            async with httpx2.AsyncClient(timeout=60) as http:

                async def one(pbx: dict[str, str]) -> Any:
                    answer = await http.request(method, f"{pbx['url']}/_emulator{path}", json=body)
                    answer.raise_for_status()
                    return answer.json()

                return list(await asyncio.gather(*(one(p) for p in self.pbxs)))

        return asyncio.run(run())


def start_emulators(args: argparse.Namespace, folder: Path, owner: str, route: str) -> Emulators:
    list_file = folder / "pbxs.json"
    per_minute = args.call_rate * 60 / args.pbxs
    command = [
        *cli(),
        "emulator",
        "serve",
        "--pbxs",
        str(args.pbxs),
        "--port",
        "0",
        "--calls",
        str(args.history),
        "--call-rate",
        f"{per_minute:g}",
        "--client",
        f"owner:{owner}:SystemOwner",
        "--client",
        f"{ROUTE_POINT}:{route}:SystemOwner",
        "--pbx-list",
        str(list_file),
    ]
    log = (folder / "emulators.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the emulators did not start:\n{tail(folder / 'emulators.log')}")
        if list_file.exists() and list_file.stat().st_size:
            emulators = Emulators(process, json.loads(list_file.read_text()))
            timings = {"ring_seconds": args.ring_seconds, "talk_seconds": args.talk_seconds}
            emulators.each(
                "POST", "/callcontrol/settings", {**timings, "queue_wait_seconds": args.ring_seconds}
            )
            return emulators
        time.sleep(0.2)
    stop(process)
    raise SystemExit("the emulators did not start within 10 minutes")


def tail(path: Path) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-TAIL:])
    except OSError:
        return ""


def stop(process: subprocess.Popen[bytes], wait: float = 60) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(wait)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# -- one mode -----------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float | None:
    """The ``share`` percentile (nearest rank) of ``values``, None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def truth_calls(emulators: Emulators) -> tuple[dict[tuple[str, str], float], int]:
    """Ended calls {(pbx, callid): ended_at (epoch s)} and calls still active, over every PBX."""
    ended: dict[tuple[str, str], float] = {}
    active = 0
    for pbx, calls in zip(emulators.pbxs, emulators.each("GET", "/callcontrol/calls"), strict=True):
        active += len(calls["active"])
        for call in calls["ended"]:
            ended[(pbx["name"], str(call["callid"]))] = float(call["ended_at"])
    return ended, active


def analyse(
    records: list[dict[str, Any]], ended: dict[tuple[str, str], float], window: tuple[float, float]
) -> dict[str, Any]:
    """The figures of a mode from what the receiver saw and the emulators' truth."""
    t0, t1 = window
    accepted = [r for r in records if r["status"] < 300]
    in_window = [r for r in accepted if t0 <= r["at"] < t1]
    ids: dict[str, int] = {}
    for r in accepted:
        ids[r["id"]] = ids.get(r["id"], 0) + 1
    first_ended: dict[tuple[str, str], float] = {}
    ended_ids: dict[tuple[str, str], set[str]] = {}
    for r in accepted:
        if r["type"] == "call.ended":
            key = (str(r["pbx"]), str(r["call_id"]))
            first_ended[key] = min(first_ended.get(key, r["at"]), r["at"])
            ended_ids.setdefault(key, set()).add(r["id"])
    checked = {key: at for key, at in ended.items() if at >= t0}
    latencies = [first_ended[key] - at for key, at in checked.items() if key in first_ended]
    first_attempts: dict[str, dict[str, Any]] = {}
    for r in sorted(records, key=lambda r: r["at"]):
        first_attempts.setdefault(r["id"], r)
    seconds = t1 - t0
    return {
        "calls_ended": len(checked),
        "calls_ended_in_window": sum(1 for at in ended.values() if t0 <= at < t1),
        "deliveries_per_s": round(len(in_window) / seconds, 2),
        "ended_per_s": round(sum(1 for r in in_window if r["type"] == "call.ended") / seconds, 2),
        "by_type": {
            t: sum(1 for r in accepted if r["type"] == t) for t in sorted({r["type"] for r in accepted})
        },
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies) if latencies else None,
        "failed_first": sum(1 for r in first_attempts.values() if r["status"] >= 300),
        "first_attempts": len(first_attempts),
        "lost": sum(1 for key in checked if key not in first_ended),
        "duplicates": sum(n - 1 for n in ids.values() if n > 1),
        "ended_twice": sum(1 for key in checked if len(ended_ids.get(key, ())) > 1),
        "bad_signatures": sum(1 for r in records if not r["valid"]),
    }


def bench_mode(mode: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from py3cx.webhooks import generate_secret

    folder.mkdir(parents=True)
    callcontrol = mode.startswith("callcontrol")
    fail_share = args.fail_share if mode.endswith("-failing") else 0.0
    owner, route = secrets.token_hex(12), secrets.token_hex(12)
    webhook_secret = generate_secret()
    receiver = start_receiver(webhook_secret, fail_share, args.seed)
    emulators: Emulators | None = None
    db: Database | None = None
    run: subprocess.Popen[bytes] | None = None
    try:
        emulators = start_emulators(args, folder, owner, route)
        db = new_database("sqlite" if args.db == "sqlite" else "postgresql", folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
        env.update(
            PY3CX_DB=db.url,
            PY3CX_CONNECT_KEY_FILE=str(folder / "connect.key"),
            PY3CX_CACHE_DIR=str(folder / "cache"),
            PY3CX_WEBHOOK_SECRET=webhook_secret,
        )
        # the list names the route point (the Call Control stream): kept in the callcontrol modes only
        without = ("route_point_id", "route_point_secret")
        entries = [
            {
                **{k: v for k, v in pbx.items() if k not in without},
                "calls_interval": args.calls_every,
                **({"route_point_id": ROUTE_POINT, "route_point_secret": route} if callcontrol else {}),
            }
            for pbx in emulators.pbxs
        ]
        list_file = folder / "import.json"
        list_file.write_text(json.dumps(entries))
        list_file.chmod(0o600)
        added = datetime.now(timezone.utc)
        run_cli(["connect", "pbx", "import", str(list_file), "--backfill-days", "1"], env)
        hook = f"{receiver.url}/hooks"
        run_cli(["connect", "endpoint", "add", hook, "--max-in-flight", str(args.max_in_flight)], env)
        log = (folder / "connect.log").open("wb")
        listen = f"127.0.0.1:{free_port()}"
        run = subprocess.Popen(
            [*cli(), "connect", "run", "--listen", listen], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        load_before = os.getloadavg()
        t0 = wait_for(run, folder, time.time() + args.warmup)
        t1 = wait_for(run, folder, t0 + args.seconds)
        load_after = os.getloadavg()
        emulators.each("POST", "/callcontrol/settings", {"call_rate": 0})
        drained = drain(run, folder, emulators, receiver, t0, args.drain)
        records = receiver.records()
        ended, _active = truth_calls(emulators)
        backlog = {}
        if args.backlog:
            backlog = replay_backlog(run, folder, env, receiver, len(records), added, args.drain)
        rss = peak_rss(run.pid)
        stop(run)
        row = {
            "mode": mode,
            "pbxs": args.pbxs,
            "calls_per_s": args.call_rate,
            "calls_every": args.calls_every,
            "seconds": args.seconds,
            "fail_share": fail_share,
            **analyse(records, ended, (t0, t1)),
            **backlog,
            "drained_s": round(drained, 1),
            "peak_rss_mb": round(rss / 2**20),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in load_after],
            "db": "sqlite" if args.db == "sqlite" else "postgresql",
        }
        row["target_p95"] = 2.0 if callcontrol else args.calls_every + 2.0
        return row
    finally:
        if run is not None:
            stop(run)
        if emulators is not None:
            stop(emulators.process, 120)
        stop(receiver.process)
        if db is not None:
            drop_database(db)


def run_cli(command: list[str], env: dict[str, str]) -> str:
    """Run a `3cx` command; its stderr (where it reports); SystemExit with it when it fails."""
    done = subprocess.run([*cli(), *command], env=env, capture_output=True)
    if done.returncode:
        raise SystemExit(f"`3cx {' '.join(command[:3])}` failed:\n{done.stderr.decode()[-2000:]}")
    return done.stderr.decode()


def replay_backlog(
    run: subprocess.Popen[bytes],
    folder: Path,
    env: dict[str, str],
    receiver: Receiver,
    seen: int,
    since: datetime,
    limit: float,
) -> dict[str, Any]:
    """Capacity: `3cx connect replay --since` queues every event again at once (no calls running);
    how fast does the run send that backlog? Waits until all are accepted or ``limit`` seconds."""
    said = run_cli(["connect", "replay", "--since", since.isoformat()], env)
    started = time.time()
    queued = int(said.split(" deliveries queued")[0].split()[-1])
    accepted: list[float] = []
    while len(accepted) < queued and time.time() - started < limit:
        wait_for(run, folder, time.time() + 1)
        new = receiver.records(seen)
        seen += len(new)
        accepted += [r["at"] for r in new if r["status"] < 300]
    seconds = (max(accepted) if accepted else time.time()) - started
    return {
        "backlog": queued,
        "backlog_sent": len(accepted),
        "backlog_s": round(seconds, 1),
        "backlog_per_s": round(len(accepted) / seconds, 1) if seconds > 0 else None,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(run: subprocess.Popen[bytes], folder: Path, until: float) -> float:
    """Sleep until the epoch time ``until``; SystemExit if connect stops meanwhile. Returns ``until``."""
    while time.time() < until:
        if run.poll() is not None:
            raise SystemExit(f"`3cx connect run` stopped:\n{tail(folder / 'connect.log')}")
        time.sleep(min(0.5, max(0.0, until - time.time())))
    return until


def drain(
    run: subprocess.Popen[bytes],
    folder: Path,
    emulators: Emulators,
    receiver: Receiver,
    t0: float,
    limit: float,
) -> float:
    """Wait until no call is active and every call ended since ``t0`` has its call.ended delivered, or
    ``limit`` seconds after the last call ended. Returns the seconds it took."""
    started = time.time()
    delivered: set[tuple[str, str]] = set()
    seen = 0
    last_end = time.time()
    while True:
        ended, active = truth_calls(emulators)
        if active:
            last_end = time.time()
        new = receiver.records(seen)
        seen += len(new)
        delivered.update(
            (str(r["pbx"]), str(r["call_id"])) for r in new if r["type"] == "call.ended" and r["status"] < 300
        )
        waiting = [key for key, at in ended.items() if at >= t0 and key not in delivered]
        if not active and not waiting:
            return time.time() - started
        if time.time() - last_end > limit:
            return time.time() - started
        wait_for(run, folder, time.time() + 1)


# -- the report ---------------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def backlog_cell(row: dict[str, Any]) -> str:
    if "backlog" not in row:
        return "-"
    rate = "-" if row["backlog_per_s"] is None else f"{row['backlog_per_s']:.1f}"
    done = "" if row["backlog_sent"] >= row["backlog"] else f", {row['backlog_sent']} sent"
    return f"{rate} ({row['backlog']} in {row['backlog_s']:g} s{done})"


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "mode",
        "PBXs",
        "calls/s offered",
        "calls ended",
        "deliveries/s (all)",
        "call.ended/s",
        "backlog deliveries/s",
        "call.ended latency p50 s",
        "p95 s",
        "p99 s",
        "p95 target s",
        "failing share",
        "lost",
        "duplicates",
        "peak RSS MB",
        "load avg before → after",
    )
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        failing = f"{r['failed_first']}/{r['first_attempts']} first attempts" if r["fail_share"] else "0"
        cells = (
            r["mode"],
            r["pbxs"],
            f"{r['calls_per_s']:g}",
            r["calls_ended"],
            f"{r['deliveries_per_s']:.1f}",
            f"{r['ended_per_s']:.2f}",
            backlog_cell(r),
            ms(r["p50"]),
            ms(r["p95"]),
            ms(r["p99"]),
            f"{r['target_p95']:g}",
            failing,
            r["lost"],
            r["duplicates"],
            r["peak_rss_mb"],
            f"{r['load_before'][0]:.2f} → {r['load_after'][0]:.2f}",
        )
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def pair(text: str) -> tuple[float, float]:
    low, high = (float(x) for x in text.split(","))
    if not 0 < low <= high:
        raise argparse.ArgumentTypeError(f"{text!r}: give MIN,MAX seconds with 0 < MIN <= MAX")
    return low, high


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "receive":
        inner = argparse.ArgumentParser(prog="webhooks.py receive")
        inner.add_argument("receive")
        inner.add_argument("--fail-share", type=float, default=0.0)
        inner.add_argument("--seed", type=int, default=1)
        sub = inner.parse_args()
        serve_receiver(sub.fail_share, sub.seed)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pbxs", type=int, default=50)
    parser.add_argument("--call-rate", type=float, default=3.0, help="calls/s over all PBXs (default 3)")
    parser.add_argument("--calls-every", type=int, default=5, help="calls_interval of every PBX, s")
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--seconds", type=float, default=120.0, help="the measured period")
    parser.add_argument("--drain", type=float, default=120.0, help="s to wait after the last call ended")
    parser.add_argument("--fail-share", type=float, default=0.2)
    parser.add_argument("--max-in-flight", type=int, default=4, help="the endpoint's (connect's default: 4)")
    parser.add_argument("--ring-seconds", type=pair, default=(2.0, 6.0), help="MIN,MAX")
    parser.add_argument("--talk-seconds", type=pair, default=(5.0, 30.0), help="MIN,MAX")
    parser.add_argument("--history", type=int, default=200, help="seeded calls per PBX (90 days)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-backlog",
        dest="backlog",
        action="store_false",
        help="skip the capacity step (every event replayed at once after the drain)",
    )
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL server URL")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--report", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the rows here as JSON")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep its logs")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        raise SystemExit(f"unknown modes: {', '.join(unknown)} (use {', '.join(MODES)})")
    if args.db != "sqlite":
        if not args.db.startswith("postgresql"):
            raise SystemExit("--db is sqlite or a postgresql+psycopg:// server URL")
        connect_bench.POSTGRES = args.db  # new_database makes (and drops) a fresh database there
    rows = []
    with tempfile.TemporaryDirectory(prefix="py3cx-bench-webhooks-") as tmp:
        folder = Path(tmp) if args.keep is None else args.keep
        for mode in modes:
            rows.append(bench_mode(mode, args, folder / mode))
            print(json.dumps(rows[-1]), flush=True)
    report = table(rows)
    print(report)
    if args.report:
        args.report.write_text(report + "\n")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
