"""The webhook benchmark in its smallest form (issue 11, item 6): 2 emulated PBXs, a few seconds of
calls, SQLite, the receiver failing 20 % of first attempts in the second mode. It checks what the
report must hold whatever the machine's speed: every call that ended in the emulator delivered as
``call.ended`` once, no id accepted twice, valid signatures, latency figures. It asserts no speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "webhooks.py"
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.slow
def test_every_ended_call_is_delivered_once_with_latency_figures(tmp_path: Path) -> None:
    report, rows_file = tmp_path / "webhooks.md", tmp_path / "webhooks.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(PYTHONPATH=str(SRC), PY3CX_CACHE_DIR=str(tmp_path / "cache"))
    # records: 2 calls/s over 2 PBXs, calls of 2 to 5 s, a calls pass every 2 s
    subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--pbxs",
            "2",
            "--call-rate",
            "2",
            "--warmup",
            "3",
            "--seconds",
            "8",
            "--calls-every",
            "2",
            "--ring-seconds",
            "1,2",
            "--talk-seconds",
            "1,3",
            "--history",
            "20",
            "--drain",
            "90",
            "--modes",
            "records,records-failing",
            "--report",
            str(report),
            "--json",
            str(rows_file),
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )
    rows = {row["mode"]: row for row in json.loads(rows_file.read_text())}
    assert set(rows) == {"records", "records-failing"}
    for row in rows.values():
        assert row["calls_ended"] > 0
        assert row["lost"] == 0
        assert row["duplicates"] == 0
        assert row["ended_twice"] == 0
        assert row["bad_signatures"] == 0
        assert row["by_type"]["call.ended"] >= row["calls_ended"]
        assert 0 < row["p50"] <= row["p95"] <= row["p99"]
        # the capacity step: every event queued again was sent again
        assert row["backlog"] >= row["by_type"]["call.ended"]
        assert row["backlog_sent"] == row["backlog"]
    assert rows["records"]["failed_first"] == 0
    assert rows["records-failing"]["failed_first"] > 0  # the receiver did fail first attempts
    table = report.read_text().splitlines()
    head = [c.strip() for c in table[0].strip("|").split("|")]
    assert head[7:10] == ["call.ended latency p50 s", "p95 s", "p99 s"]
    lines = {
        cells[0]: cells for line in table[2:] for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert set(lines) == {"records", "records-failing"}
    for mode, cells in lines.items():
        assert cells[12] == "0" and cells[13] == "0", (mode, cells)  # lost, duplicates
        assert float(cells[8]) == pytest.approx(rows[mode]["p95"], abs=0.01)
