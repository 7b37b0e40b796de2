"""py3cx connect benchmark: many emulated PBXs synced into SQLite and PostgreSQL.

Run by hand, not in CI::

    python bench/connect.py                        # 200 PBXs of 2,000 calls, every mode
    python bench/connect.py --pbxs 20 --calls 500  # a quicker look
    python bench/connect.py --modes run-sqlite     # some modes only

What it does:

1. starts ``3cx emulator serve --pbxs N`` in its own process (N PBXs on consecutive ports, each
   with its own seed and ``--calls`` calls over 90 days) and reads its ``--pbx-list``;
2. for each mode, on a fresh database: ``3cx connect pbx import`` (backfill 91 days, so the
   first pass reads every call), then
   - the **initial sync**: the mode's processes run until every PBX has one successful calls
     pass and one directory pass (``sync_state.passes``);
   - the **incremental pass** (nothing new): the processes are stopped, ``last_attempt_at`` is
     cleared so every stream is due again, and they run until every stream has a second pass;
   measuring wall time, requests (the emulators' own counters), records per second, the peak
   RSS of each connect process (``VmHWM``) and the database's size;
   modes: ``one`` (a single PBX with ``run`` on SQLite: the yardstick), ``run-sqlite``,
   ``run-pg`` (``3cx connect run``), ``workers-pg`` (two ``3cx connect worker`` processes);
3. prints a Markdown table (and writes it to ``--report``) to paste into ``bench/README.md``, with
   the targets of issue 10: initial sync of all PBXs within 3x (one PBX's time x N / concurrency),
   an incremental pass under 10 s, RSS under 300 MB per process.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
POSTGRES = os.environ.get("PY3CX_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CONCURRENCY = 20  # `3cx connect run`'s default
MODES = ("one", "run-sqlite", "run-pg", "workers-pg")


def cli() -> list[str]:
    script = Path(sys.executable).parent / "3cx"
    return [str(script)] if script.exists() else [sys.executable, "-m", "py3cx.cli.main"]


def free_port_range(count: int) -> int:
    """A base port whose next ``count`` ports are free now."""
    for base in range(20000, 60000 - count, count + 7):
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise SystemExit("no free port range")


@dataclass
class Emulators:
    process: subprocess.Popen[bytes]
    pbxs: list[dict[str, str]]
    list_file: Path

    def requests(self) -> int:
        """XAPI and token requests so far, over every PBX (the stats requests do not count)."""
        total = 0
        with httpx2.Client(timeout=30) as http:
            for pbx in self.pbxs:
                stats = http.get(f"{pbx['url']}/_emulator/stats").json()
                total += int(stats["xapi_requests"]) + sum(int(n) for n in stats["token_requests"].values())
        return total


def start_emulators(count: int, calls: int, folder: Path) -> Emulators:
    base = free_port_range(count)
    list_file = folder / "pbxs.json"
    command = [
        *cli(),
        "emulator",
        "serve",
        "--pbxs",
        str(count),
        "--port",
        str(base),
        "--calls",
        str(calls),
        "--pbx-list",
        str(list_file),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"the emulators did not start: {process.stderr.read().decode() if process.stderr else ''}"
            )
        if list_file.exists():
            pbxs = json.loads(list_file.read_text())
            try:
                httpx2.get(f"{pbxs[-1]['url']}/_emulator/stats", timeout=2).raise_for_status()
                return Emulators(process, pbxs, list_file)
            except (httpx2.HTTPError, IndexError, KeyError):
                pass
        time.sleep(0.5)
    raise SystemExit("the emulators did not start within 30 minutes")


@dataclass
class Database:
    url: str
    path: Path | None = None
    name: str | None = None

    def size(self) -> int:
        if self.path is not None:
            return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one())
        finally:
            engine.dispose()

    def passes(self) -> list[int]:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return [int(p) for p in conn.execute(sa.text("SELECT passes FROM sync_state")).scalars()]
        except sa.exc.OperationalError:
            return []
        except sa.exc.ProgrammingError:
            return []
        finally:
            engine.dispose()

    def execute(self, sql: str) -> Any:
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                result = conn.execute(sa.text(sql))
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()


def new_database(kind: str, folder: Path) -> Database:
    if kind == "sqlite":
        path = folder / f"connect-{uuid.uuid4().hex[:6]}.db"
        return Database(f"sqlite:///{path}", path=path)
    name = f"py3cx_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return Database(sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), name=name)


def drop_database(db: Database) -> None:
    if db.name is None:
        return
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)'))
    admin.dispose()


def peak_rss(pid: int) -> int:
    """VmHWM of a running process, in bytes (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class Phase:
    seconds: float
    requests: int
    rss: list[int] = field(default_factory=list)


def run_until(
    db: Database,
    env: dict[str, str],
    commands: list[list[str]],
    target: int,
    streams: int,
    emulators: Emulators,
) -> Phase:
    """Start ``commands``; wait until ``streams`` sync_state rows all have ``target`` passes."""
    before = emulators.requests()
    started = time.monotonic()
    procs = [
        subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for c in commands
    ]
    try:
        while True:
            passes = db.passes()
            if len(passes) >= streams and min(passes) >= target:
                break
            for proc in procs:
                if proc.poll() is not None:
                    raise SystemExit(
                        f"a connect process stopped: {proc.stderr.read().decode() if proc.stderr else ''}"
                    )
            time.sleep(0.2)
        seconds = time.monotonic() - started
        rss = [peak_rss(p.pid) for p in procs]
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return Phase(seconds, emulators.requests() - before, rss)


def bench_mode(mode: str, emulators: Emulators, folder: Path, port: int) -> dict[str, Any]:
    pbxs = emulators.pbxs[:1] if mode == "one" else emulators.pbxs
    list_file = folder / f"{mode}.json"
    list_file.write_text(json.dumps(pbxs))
    db = new_database("sqlite" if mode in ("one", "run-sqlite") else "postgresql", folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(
        PY3CX_DB=db.url,
        PY3CX_CONNECT_KEY_FILE=str(folder / "connect.key"),
        PY3CX_CACHE_DIR=str(folder / "cache"),
    )
    try:
        subprocess.run(
            [*cli(), "connect", "pbx", "import", str(list_file), "--backfill-days", "91"],
            env=env,
            check=True,
            capture_output=True,
        )
        db.execute("UPDATE pbx SET rate_limit = 1000, calls_interval = 3600, directory_interval = 3600")
        if mode == "workers-pg":
            commands = [
                [*cli(), "connect", "worker", "--concurrency", str(CONCURRENCY // 2)] for _ in range(2)
            ]
        else:
            commands = [
                [*cli(), "connect", "run", "--listen", f"127.0.0.1:{port}", "--concurrency", str(CONCURRENCY)]
            ]
        streams = 2 * len(pbxs)
        initial = run_until(db, env, commands, 1, streams, emulators)
        records = int(db.execute("SELECT count(*) FROM call_records"))
        db.execute("UPDATE sync_state SET last_attempt_at = NULL")
        incremental = run_until(db, env, commands, 2, streams, emulators)
        changed = int(db.execute("SELECT coalesce(sum(last_pass_changed), 0) FROM sync_state"))
        return {
            "mode": mode,
            "pbxs": len(pbxs),
            "processes": len(commands),
            "records": records,
            "initial_s": round(initial.seconds, 1),
            "initial_requests": initial.requests,
            "records_per_s": round(records / initial.seconds),
            "incremental_s": round(incremental.seconds, 1),
            "incremental_requests": incremental.requests,
            "incremental_changed": changed,
            "peak_rss_mb": round(max(initial.rss + incremental.rss) / 2**20),
            "db_mb": round(db.size() / 2**20, 1),
        }
    finally:
        drop_database(db)


def table(rows: list[dict[str, Any]], pbxs: int) -> str:
    head = (
        "mode",
        "PBXs",
        "procs",
        "records",
        "initial s",
        "requests",
        "records/s",
        "incremental s",
        "requests",
        "changed",
        "peak RSS MB",
        "DB MB",
    )
    keys = (
        "mode",
        "pbxs",
        "processes",
        "records",
        "initial_s",
        "initial_requests",
        "records_per_s",
        "incremental_s",
        "incremental_requests",
        "incremental_changed",
        "peak_rss_mb",
        "db_mb",
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(row[k]) for k in keys) + " |" for row in rows]
    one = next((r for r in rows if r["mode"] == "one"), None)
    if one is not None:
        budget = 3 * one["initial_s"] * pbxs / CONCURRENCY
        lines.append("")
        lines.append(
            f"Target for the initial sync of {pbxs} PBXs: 3 x {one['initial_s']} s x {pbxs} / {CONCURRENCY} = "
            f"{budget:.1f} s; incremental under 10 s; RSS under 300 MB per process."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pbxs", type=int, default=200)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--report", type=Path, default=None)
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        raise SystemExit(f"unknown modes: {', '.join(unknown)} (use {', '.join(MODES)})")
    with tempfile.TemporaryDirectory(prefix="py3cx-bench-connect-") as tmp:
        folder = Path(tmp)
        started = time.monotonic()
        emulators = start_emulators(args.pbxs, args.calls, folder)
        print(
            f"{args.pbxs} emulated PBXs of {args.calls} calls up in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        rows = []
        try:
            port = free_port_range(1)
            for mode in modes:
                rows.append(bench_mode(mode, emulators, folder, port))
                print(json.dumps(rows[-1]), flush=True)
        finally:
            emulators.process.send_signal(signal.SIGTERM)
            emulators.process.wait(120)
    report = table(rows, args.pbxs)
    print(report)
    if args.report:
        args.report.write_text(report + "\n")


if __name__ == "__main__":
    main()
