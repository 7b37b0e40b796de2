"""The export benchmark's floor must make the very requests py3cx's export made (issue 9, item 8):
a floor that pages differently measures the emulator's paging, not what the export adds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "export.py"
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.slow
def test_floor_replays_the_csv_jobs_requests_and_the_table_has_sizes(tmp_path: Path) -> None:
    report = tmp_path / "export.md"
    env = {**os.environ, "PYTHONPATH": str(SRC), "PY3CX_CACHE_DIR": str(tmp_path / "cache")}
    subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--segments",
            "25000",
            "--jobs",
            "floor,csv",
            "--out-dir",
            str(tmp_path / "out"),
            "--report",
            str(report),
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        timeout=240,
    )
    rows = {
        cells[0]: cells
        for line in report.read_text().splitlines()
        if line.startswith("| ") and not line.startswith("| job")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    # job, wall, × floor, RSS, rows, requests, file (MB)
    assert set(rows) == {"csv", "floor"}
    recorded = (tmp_path / "out" / "py3cx-requests.txt").read_text().split()
    assert int(rows["csv"][5]) == int(rows["floor"][5]) == len(recorded)
    assert len(recorded) > 25  # more than the 25 pages of 1000: the period was cut into windows
    assert any("$skip=0" in url and "SegmentStartTime%20lt" in url for url in recorded[1:])
    size = (tmp_path / "out" / "calls.csv").stat().st_size
    assert rows["csv"][6] == f"{size / 1e6:.1f}"
    assert rows["floor"][6] == "-"
    assert rows["csv"][4] == "25,000"
