"""Export benchmark: py3cx against the floor (plain httpx2 paging) and a peer (3cx-xapi-python-sdk).

Run by hand, not in CI (it seeds an emulator with a million call segments)::

    python bench/export.py                       # 1,000,000 segments, every job
    python bench/export.py --segments 100000     # a quicker look
    python bench/export.py --jobs floor,csv      # some jobs only

What it does:

1. starts the emulator in its own process, seeded with enough calls for ``--segments`` call
   segments (CallHistoryView rows);
2. runs each job in its own process and measures its wall time and peak RSS (``wait4``):
   - ``floor``: exactly the requests py3cx's export made (the csv job records its URLs: the same
     windows, ``$filter``, ``$orderby``, ``$top``/``$skip``), replayed in order with plain httpx2,
     each page parsed and thrown away: the cost of the data, without the export;
   - ``csv``, ``xlsx``, ``parquet``: ``client.reports.export("call-history", ...)``, one page in
     flight (``--concurrency 1``), and ``csv-c4`` with four;
   - ``peer``: the same job as a user of the ``3cx-xapi-python-sdk`` package writes it: its client,
     paging by hand with its ``ODataQuery``, rows written with ``csv.DictWriter``. The package is
     installed on demand into its own virtual environment (``~/.cache/py3cx-bench/peer``), never
     into py3cx's;
3. prints a Markdown table (and writes it to ``--report``) to paste into ``bench/README.md``.

Every job writes ``--segments`` rows, in the same order. The table's ``rows`` is what a job wrote
(the floor: what it received, which is what py3cx's plan fetched), ``XAPI requests`` what it asked
(the floor asks exactly what the csv job asked), ``file (MB)`` the size of what it wrote.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import venv
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ANCHOR = datetime(2025, 6, 30, tzinfo=timezone.utc)
START = ANCHOR - timedelta(days=91)
CLIENT_ID, SECRET = "bench", "bench-secret-value"
SEGMENTS_PER_CALL = 1.27  # measured on the synthetic data (seed 1)
PEER_VENV = Path(os.environ.get("PY3CX_BENCH_PEER", Path.home() / ".cache" / "py3cx-bench" / "peer"))
PEER_PACKAGE = "3cx-xapi-python-sdk"
ORDER = "SegmentStartTime asc,SegmentId asc"


def _filter() -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.000Z"
    return f"SegmentStartTime ge {START.strftime(fmt)} and SegmentStartTime lt {ANCHOR.strftime(fmt)}"


# -- jobs (each runs in its own process) ----------------------------------------------------------


def serve(args: argparse.Namespace) -> None:
    """Seed and serve the emulator; print its URL when ready, stop on stdin EOF."""
    from py3cx.emulator import ApiClient, EmulatorConfig, running_emulator

    calls = math.ceil(args.segments / SEGMENTS_PER_CALL * 1.03)
    config = EmulatorConfig(seed=1, calls=calls, clients=[ApiClient(CLIENT_ID, SECRET)], now=ANCHOR)
    started = time.monotonic()
    with running_emulator(config) as emu:
        import sqlalchemy as sa

        with emu.state.engine.connect() as conn:
            count = conn.execute(sa.text('SELECT count(*) FROM "CallHistoryView"')).scalar_one()
        print(
            json.dumps(
                {"url": emu.url, "segments": count, "calls": calls, "seed_s": time.monotonic() - started}
            )
        )
        sys.stdout.flush()
        sys.stdin.read()


def floor(args: argparse.Namespace) -> None:
    """Plain httpx2 making exactly the requests py3cx's export made (the URLs it recorded, in order):
    a token, then every page parsed and thrown away. What py3cx adds on top is the export itself."""
    import httpx2

    urls = [line for line in Path(args.replay).read_text().splitlines() if line]
    rows = 0
    with httpx2.Client(base_url=args.url, timeout=600) as http:
        token = http.post(
            "/connect/token",
            data={"client_id": CLIENT_ID, "client_secret": SECRET, "grant_type": "client_credentials"},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for url in urls:
            page = http.get(url, headers=headers)
            page.raise_for_status()
            rows += len(json.loads(page.content)["value"])
    print(json.dumps({"rows": rows, "requests": len(urls)}))


def py3cx_export(args: argparse.Namespace) -> None:
    """py3cx: ``client.reports.export`` of CallHistoryView to a file."""
    from py3cx import Client
    from py3cx.reports import ExportOptions

    output = Path(args.output)
    for leftover in (output.with_name(output.name + ".part"), output.with_name(output.name + ".resume.json")):
        leftover.unlink(missing_ok=True)  # from an earlier run that was stopped
    import httpx2

    requested: list[str] = []

    class Recording(httpx2.HTTPTransport):
        """Notes the path and query of every XAPI request (the floor replays them); sends as usual."""

        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            if request.url.path.startswith("/xapi/"):
                requested.append(request.url.raw_path.decode("ascii"))
            return super().handle_request(request)

    with Client(args.url, CLIENT_ID, SECRET, timeout=600, transport=Recording()) as client:
        result = client.reports.export(
            "call-history",
            output,
            start=START,
            end=ANCHOR,
            tz="UTC",
            options=ExportOptions(
                page_size=args.page_size, concurrency=args.concurrency, limit=args.segments
            ),
            overwrite=True,
        )
    if args.record:
        Path(args.record).write_text("\n".join(requested) + "\n", encoding="utf-8")
    print(
        json.dumps(
            {
                "rows": result.rows,
                "complete": result.complete,
                "bytes": output.stat().st_size,
                "requests": len(requested),
            }
        )
    )


def peer(args: argparse.Namespace) -> None:
    """The peer: 3cx-xapi-python-sdk's client, paging by hand, csv.DictWriter."""
    import csv

    from threecx import ODataQuery, ThreeCXClient

    rows = skip = requests = 0
    client = ThreeCXClient(base_url=args.url, client_id=CLIENT_ID, client_secret=SECRET, timeout=600)
    with client, open(args.output, "w", newline="", encoding="utf-8") as handle:
        writer: csv.DictWriter[str] | None = None
        while rows < args.segments:
            top = min(args.page_size, args.segments - rows)
            # the job as its user writes it: the period's $filter and the time order; the SDK sends
            # the spaces as '+', which ASP.NET Core (and the emulator) read as spaces
            query = ODataQuery().filter(_filter()).order_by(ORDER).top(top).skip(skip)
            page = client.call_history.list(query)
            requests += 1
            for entry in page:
                record = entry.model_dump(by_alias=True, mode="json")
                if writer is None:
                    writer = csv.DictWriter(handle, fieldnames=list(record))
                    writer.writeheader()
                writer.writerow(record)
            rows += len(page)
            skip += len(page)
            if len(page) < top:
                break
    print(json.dumps({"rows": rows, "bytes": Path(args.output).stat().st_size, "requests": requests}))


# -- the driver --------------------------------------------------------------------------------------


def _peer_python() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing {PEER_PACKAGE} into {PEER_VENV} (its own virtual environment)", file=sys.stderr)
        venv.create(PEER_VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", PEER_PACKAGE], check=True)
    return python


def _measure(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    started = time.monotonic()
    # py3cx's jobs inherit PYTHONPATH, so that they run the same source as the emulator (a worktree's)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"job failed: {' '.join(command)}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result.update(wall_s=round(wall, 1), peak_rss_mb=round(usage.ru_maxrss / 1024, 1))  # ru_maxrss is in KiB
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("job", nargs="?", default="all", choices=["all", "serve", "floor", "py3cx", "peer"])
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--url")
    parser.add_argument("--output")
    parser.add_argument("--record", help="py3cx job: write the XAPI URLs it requested here")
    parser.add_argument("--replay", help="floor job: the URLs to request (a py3cx job's --record)")
    parser.add_argument("--jobs", default="csv,floor,csv-c4,xlsx,parquet,peer")
    parser.add_argument("--out-dir", default=str(Path.home() / ".cache" / "py3cx-bench" / "out"))
    parser.add_argument("--report", default=str(Path.home() / ".cache" / "py3cx-bench" / "export.md"))
    args = parser.parse_args()
    if args.job == "serve":
        return serve(args)
    if args.job == "floor":
        return floor(args)
    if args.job == "py3cx":
        return py3cx_export(args)
    if args.job == "peer":
        return peer(args)

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    me = [sys.executable, str(Path(__file__).resolve())]
    common = ["--segments", str(args.segments), "--page-size", str(args.page_size)]
    server = subprocess.Popen(
        [*me, "serve", *common], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None and server.stdin is not None
    info = json.loads(server.stdout.readline())
    print(
        f"emulator: {info['segments']} segments from {info['calls']} calls, seeded in {info['seed_s']:.0f} s"
    )
    url = info["url"]
    plan = out_dir / "py3cx-requests.txt"  # what the csv job requested; the floor requests the same
    jobs: dict[str, list[str]] = {
        "floor": [*me, "floor", "--url", url, *common, "--replay", str(plan)],
        "csv": [
            *me,
            "py3cx",
            "--url",
            url,
            *common,
            "--output",
            str(out_dir / "calls.csv"),
            "--record",
            str(plan),
        ],
        "csv-c4": [
            *me,
            "py3cx",
            "--url",
            url,
            *common,
            "--concurrency",
            "4",
            "--output",
            str(out_dir / "c4.csv"),
        ],
        "xlsx": [*me, "py3cx", "--url", url, *common, "--output", str(out_dir / "calls.xlsx")],
        "parquet": [*me, "py3cx", "--url", url, *common, "--output", str(out_dir / "calls.parquet")],
    }
    results: dict[str, dict[str, Any]] = {}
    try:
        names = args.jobs.split(",")
        if "floor" in names and "csv" not in names:
            names.insert(0, "csv")  # the floor replays the csv job's requests
        if "floor" in names and names.index("floor") < names.index("csv"):
            names.remove("floor")
            names.insert(names.index("csv") + 1, "floor")
        for name in names:
            command = jobs.get(name)
            env = None
            if name == "peer":
                env = {**os.environ, "PYTHONPATH": ""}  # the peer's own environment, nothing of py3cx's
                command = [
                    str(_peer_python()),
                    str(Path(__file__).resolve()),
                    "peer",
                    "--url",
                    url,
                    *common,
                    "--output",
                    str(out_dir / "peer.csv"),
                ]
            if command is None:
                raise SystemExit(f"unknown job {name!r}")
            results[name] = _measure(command, env)
            print(name, results[name], flush=True)
    finally:
        server.stdin.close()
        server.wait(timeout=60)
    floor_s = results.get("floor", {}).get("wall_s")
    lines = [
        f"{info['segments']:,} segments seeded; every job fetched {args.segments:,} rows, {args.page_size} per page.",
        "",
        "| job | wall time (s) | × floor | peak RSS (MB) | rows | XAPI requests | file (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in results.items():
        ratio = f"{result['wall_s'] / floor_s:.2f}" if floor_s else "-"
        size = f"{result['bytes'] / 1e6:.1f}" if "bytes" in result else "-"
        lines.append(
            f"| {name} | {result['wall_s']} | {ratio} | {result['peak_rss_mb']} | {result['rows']:,} | "
            f"{result.get('requests', '-')} | {size} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    Path(args.report).write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
