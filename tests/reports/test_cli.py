"""`3cx history` and `3cx report`, run as a user runs them (the console script, in a subprocess)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from py3cx.reports import parse_period
from py3cx.reports.resume import state_path

from .conftest import ADMIN, OWNER, Pbx


def _env(pbx: Pbx, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(
        PY3CX_URL=pbx.url,
        PY3CX_CLIENT_ID=OWNER.client_id,
        PY3CX_CLIENT_SECRET=OWNER.secret,
        PY3CX_CACHE_DIR=str(tmp_path / "cache"),
        PY3CX_CONFIG=str(tmp_path / "config.toml"),
        COLUMNS="200",
    )
    return env


def _command() -> list[str]:
    script = Path(sys.executable).parent / "3cx"
    return [str(script)] if script.exists() else [sys.executable, "-m", "py3cx.cli.main"]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_command(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def _ids(path: Path) -> list[int]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [int(row["SegmentId"]) for row in csv.DictReader(handle)]


def test_report_list_names_every_report(pbx: Pbx, tmp_path: Path) -> None:
    done = _run(["report", "list", "--json"], _env(pbx, tmp_path), tmp_path)
    assert done.returncode == 0, done.stderr
    names = {row["name"] for row in json.loads(done.stdout)}
    assert {
        "call-log",
        "abandoned-queue-calls",
        "queue-performance-overview",
        "queue-performance-totals",
    } <= names
    assert len(names) == 34


def test_each_report_explains_its_arguments(pbx: Pbx, tmp_path: Path) -> None:
    done = _run(["report", "call-log", "--help"], _env(pbx, tmp_path), tmp_path)
    assert done.returncode == 0
    assert "--hide-pcalls" in done.stdout and "hidePcalls=true" in done.stdout
    abandoned = _run(["report", "abandoned-queue-calls", "--help"], _env(pbx, tmp_path), tmp_path)
    assert "--queue" in abandoned.stdout and "--wait-interval" in abandoned.stdout


def test_history_writes_every_segment_and_says_it_is_complete(pbx: Pbx, tmp_path: Path) -> None:
    first, last = pbx.days(5)
    out = tmp_path / "history.csv"
    done = _run(
        ["history", "--from", str(first), "--to", str(last), "--tz", "UTC", "--source", "view", "-o", str(out)],
        _env(pbx, tmp_path), tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    period = parse_period(first, last, ZoneInfo("UTC"))
    expected = pbx.segment_ids(period.start, period.end)
    assert _ids(out) == expected
    assert f"{len(expected)} rows, complete" in done.stderr
    assert json.loads(done.stdout)["complete"] is True  # piped: the result as JSON


def test_history_on_update_6_or_later_reads_the_call_log(pbx: Pbx, tmp_path: Path) -> None:
    first, last = pbx.days(2)
    done = _run(
        ["history", "--from", str(first), "--to", str(last), "--tz", "UTC", "-o", str(tmp_path / "h.jsonl")],
        _env(pbx, tmp_path), tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "call log" in done.stderr
    assert json.loads((tmp_path / "h.jsonl").read_text(encoding="utf-8").splitlines()[0])["CdrId"]


def test_the_default_file_name_follows_the_modules_pattern(pbx: Pbx, tmp_path: Path) -> None:
    first, last = pbx.days(3)
    done = _run(
        ["report", "call-log", "--from", str(first), "--to", str(last)], _env(pbx, tmp_path), tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "exports" / f"call-log-from_{first}_to_{last}.xlsx").exists()


def test_an_existing_file_is_refused_with_a_hint(pbx: Pbx, tmp_path: Path) -> None:
    out = tmp_path / "totals.csv"
    out.write_text("keep me", encoding="utf-8")
    first, last = pbx.days(3)
    args = ["report", "queue-performance-totals", "--from", str(first), "--to", str(last), "-o", str(out)]
    done = _run(args, _env(pbx, tmp_path), tmp_path)
    assert done.returncode == 2
    assert "already exists" in done.stderr and "--force" in done.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    assert _run([*args, "--force"], _env(pbx, tmp_path), tmp_path).returncode == 0


def test_queue_reports_draw_a_chart(pbx: Pbx, tmp_path: Path) -> None:
    first, last = pbx.days(7)
    chart = tmp_path / "queues.html"
    done = _run(
        ["report", "queue-performance-overview", "--from", str(first), "--to", str(last), "--queue", "0336",
         "--queue", "0337", "-o", str(tmp_path / "q.xlsx"), "--chart", str(chart)],
        _env(pbx, tmp_path), tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = chart.read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "Calls per agent" in page and "<script" not in page
    assert "0338" not in page  # only the queues asked for


def test_a_user_error_is_a_message_not_a_traceback(pbx: Pbx, tmp_path: Path) -> None:
    done = _run(
        ["report", "call-log", "--from", "1.3.2025", "--to", "2025-03-02"], _env(pbx, tmp_path), tmp_path
    )
    assert done.returncode == 2
    assert "bad date" in done.stderr and "Traceback" not in done.stderr


def test_a_killed_export_resumes_without_duplicates_or_gaps(pbx: Pbx, tmp_path: Path) -> None:
    first, last = pbx.days(5)
    out = tmp_path / "history.csv"
    # small pages, one at a time: the export lasts long enough to be killed in the middle
    args = ["report", "call-history", "--from", str(first), "--to", str(last), "--tz", "UTC", "-o", str(out),
            "--page-size", "2", "--concurrency", "1"]  # fmt: skip
    env = _env(pbx, tmp_path)
    process = subprocess.Popen(
        [*_command(), *args], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        state = state_path(out)
        text = state.read_text(encoding="utf-8") if state.exists() else ""
        if text and json.loads(text).get("rows", 0) >= 20:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the export ended before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert not out.exists()
    done = _run([*args, "--resume"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    ids = _ids(out)
    period = parse_period(first, last, ZoneInfo("UTC"))
    assert ids == pbx.segment_ids(period.start, period.end)  # in order, once each


@pytest.mark.parametrize("locale, monday", [("en", "Monday"), ("hr", "ponedjeljak")])
def test_derived_day_names_follow_the_locale(pbx: Pbx, tmp_path: Path, locale: str, monday: str) -> None:
    first, last = pbx.days(14)
    out = tmp_path / "log.csv"
    done = _run(
        ["report", "call-log", "--from", str(first), "--to", str(last), "--tz", "Europe/Zagreb", "--derived",
         "--locale", locale, "-o", str(out)],
        _env(pbx, tmp_path), tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    column = "StartTime_dayOfWeek" + ("English" if locale == "en" else "Croatian")
    mondays = {r["StartTime_date"] for r in rows if r[column] == monday}
    assert mondays and all(date.fromisoformat(d).weekday() == 0 for d in mondays)


def test_an_export_refused_before_any_row_leaves_no_files_behind(pbx: Pbx, tmp_path: Path) -> None:
    env = {**_env(pbx, tmp_path), "PY3CX_CLIENT_ID": ADMIN.client_id, "PY3CX_CLIENT_SECRET": ADMIN.secret}
    start, end = pbx.days(3)
    target = tmp_path / "history.csv"
    done = _run(
        [
            "history",
            "--source",
            "view",
            "--from",
            start.isoformat(),
            "--to",
            end.isoformat(),
            "--output",
            str(target),
        ],
        env,
        tmp_path,
    )
    assert done.returncode == 1
    assert "System Owner" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("history")) == []
