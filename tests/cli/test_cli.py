"""The `3cx` command, run as a user runs it (a subprocess) against the emulator over HTTP."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from py3cx.emulator import ApiClient


def _count(run: Callable[..., Any], path: str, env: dict[str, str]) -> int:
    result = run(["get", path, "--top", "0", "--count", "--json"], env)
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["@odata.count"])


def test_get_prints_the_full_json_when_piped(run: Callable[..., Any], cli_env: dict[str, str]) -> None:
    result = run(["get", "Users", "--select", "Number,LastName", "--top", "3", "--count"], cli_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["value"]) == 3
    assert data["@odata.count"] >= 3
    assert set(data["value"][0]) <= {"Number", "LastName", "Id"}
    assert "Total records filtered" in result.stderr


def test_get_all_pages_through_every_row(run: Callable[..., Any], cli_env: dict[str, str], pbx: str) -> None:
    total = _count(run, "CallHistoryView", cli_env)
    result = run(["get", "CallHistoryView", "--all", "--top", "97", "--json"], cli_env)
    assert result.returncode == 0, result.stderr
    ids = [row["SegmentId"] for row in json.loads(result.stdout)["value"]]
    assert len(ids) == total
    assert len(set(ids)) == total
    assert f"{total} rows, complete" in result.stderr


def test_two_get_all_processes_at_once_with_one_client_id_both_get_every_row(
    run: Callable[..., Any], cli_env: dict[str, str], pbx: str, tmp_path: Path
) -> None:
    total = _count(run, "CallHistoryView", cli_env)
    script = Path(sys.executable).parent / "3cx"
    procs = [
        subprocess.Popen(
            [str(script), "get", "CallHistoryView", "--all", "--top", "50", "--json"],
            env=cli_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        ids = {row["SegmentId"] for row in json.loads(out)["value"]}
        assert len(ids) == total


def test_admin_client_asking_for_call_history_exits_non_zero_with_the_owner_hint(
    run: Callable[..., Any], admin: ApiClient, cli_env: dict[str, str]
) -> None:
    env = {**cli_env, "PY3CX_CLIENT_ID": admin.client_id, "PY3CX_CLIENT_SECRET": admin.secret}
    result = run(["get", "CallHistoryView", "--top", "1"], env)
    assert result.returncode != 0
    assert "403" in result.stderr
    assert "System Owner" in result.stderr
    assert "Traceback" not in result.stderr
    assert admin.secret not in result.stderr + result.stdout


def test_a_filter_value_that_tries_injection_matches_nothing(
    run: Callable[..., Any], cli_env: dict[str, str]
) -> None:
    # The raw --filter is the user's own expression; the library's builder is what makes values safe.
    code = (
        "import json, py3cx; from py3cx import F\n"
        "with py3cx.Client.from_env() as c:\n"
        "    print(json.dumps(c.get('Users', filter=F('LastName') == \"x' or 1 eq 1 or LastName eq 'y\")))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=cli_env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["value"] == []


def test_unknown_path_is_a_clear_error_without_traceback(
    run: Callable[..., Any], cli_env: dict[str, str]
) -> None:
    result = run(["get", "NoSuchEntitySet"], cli_env)
    assert result.returncode == 1
    assert "404" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_function_argument_gets_the_404_hint(
    run: Callable[..., Any], cli_env: dict[str, str]
) -> None:
    result = run(["get", "ReportCallLogData/Pbx.GetCallLogData(periodFrom=2025-03-01T00:00:00Z)"], cli_env)
    assert result.returncode == 1
    assert "404" in result.stderr
    assert "argument" in result.stderr.lower()


def test_without_any_configuration_the_command_says_how_to_configure(
    run: Callable[..., Any], cli_env: dict[str, str]
) -> None:
    env = {
        k: v for k, v in cli_env.items() if k not in ("PY3CX_URL", "PY3CX_CLIENT_ID", "PY3CX_CLIENT_SECRET")
    }
    result = run(["get", "Users"], env)
    assert result.returncode == 2
    assert "3cx config set" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(run: Callable[..., Any], cli_env: dict[str, str]) -> None:
    result = run(["--debug", "get", "NoSuchEntitySet"], cli_env)
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_token_prints_a_token_that_works_with_other_tools(
    run: Callable[..., Any], cli_env: dict[str, str], pbx: str
) -> None:
    result = run(["token"], cli_env)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    response = httpx2.get(f"{pbx}/xapi/v1/Users?$top=1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_swagger_saves_the_pbx_spec_and_never_overwrites_silently(
    run: Callable[..., Any], cli_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "spec.yaml"
    result = run(["swagger", "--output", str(target)], cli_env)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(b"openapi:")
    again = run(["swagger", "--output", str(target)], cli_env)
    assert again.returncode == 2
    assert "already exists" in again.stderr


def test_calls_active_lists_the_live_calls(run: Callable[..., Any], cli_env: dict[str, str]) -> None:
    result = run(["calls", "active", "--json"], cli_env)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["value"]
    assert rows, "the emulator starts with live calls"
    assert {"Id", "Caller", "Callee", "Status", "EstablishedAt"} <= set(rows[0])


def test_config_set_stores_the_secret_in_a_0600_file_and_never_shows_it(
    run: Callable[..., Any], owner: ApiClient, cli_env: dict[str, str], pbx: str
) -> None:
    env = {k: v for k, v in cli_env.items() if k not in ("PY3CX_URL", "PY3CX_CLIENT_ID")}
    result = run(["config", "set", "lab", "--url", pbx, "--client-id", owner.client_id], env)
    assert result.returncode == 0, result.stderr
    config_file = Path(env["PY3CX_CONFIG"])
    assert stat.S_IMODE(os.stat(config_file).st_mode) == 0o600
    shown = run(["config", "show", "lab", "--json"], env)
    assert shown.returncode == 0, shown.stderr
    assert owner.secret not in shown.stdout + shown.stderr
    assert json.loads(shown.stdout)["client_id"] == owner.client_id
    without_secret = {k: v for k, v in env.items() if k != "PY3CX_CLIENT_SECRET"}
    used = run(["--profile", "lab", "get", "Users", "--top", "1", "--json"], without_secret)
    assert used.returncode == 0, used.stderr
    assert len(json.loads(used.stdout)["value"]) == 1


def test_demo_runs_the_tour_against_its_own_emulator_and_stops_it(
    run: Callable[..., Any], cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        k: v for k, v in cli_env.items() if k not in ("PY3CX_URL", "PY3CX_CLIENT_ID", "PY3CX_CLIENT_SECRET")
    }
    result = run(["demo", "--calls", "300", "--exports", str(tmp_path / "out")], env, timeout=300)
    assert result.returncode == 0, result.stderr
    exported = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert exported == ["call-history.csv", "queue-performance-overview.xlsx"]
    assert "demo complete" in result.stderr
    assert "O'Brien" in result.stdout
    assert "System Owner" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("as_route_point", [False, True], ids=["polling ActiveCalls", "Call Control events"])
def test_calls_active_watch_writes_one_json_document_per_change(
    cli_env: dict[str, str], pbx: str, route_point: ApiClient, as_route_point: bool
) -> None:
    env = dict(cli_env)
    if as_route_point:
        env.update(PY3CX_CLIENT_ID=route_point.client_id, PY3CX_CLIENT_SECRET=route_point.secret)
    script = Path(sys.executable).parent / "3cx"
    proc = subprocess.Popen(
        [str(script), "calls", "active", "--watch", "--interval", "0.5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        if as_route_point:
            # A call placed on the emulated phones shows up in the next document, fed by events.
            started = httpx2.post(
                f"{pbx}/_emulator/callcontrol/calls", json={"from": "+38514800000", "to": "100"}
            )
            assert started.status_code < 300, started.text
        later = [json.loads(proc.stdout.readline()) for _ in range(2)]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    for document in (first, *later):
        assert isinstance(document["value"], list)
        assert all({"Id", "Caller", "Callee", "Status"} <= set(row) for row in document["value"])
    if as_route_point:
        assert any("38514800000" in row["Caller"] for row in later[-1]["value"]), later[-1]
    else:
        assert first["value"], "the emulator starts with live calls"


def test_a_profile_named_on_the_command_line_wins_over_the_environment(
    run: Callable[..., Any], cli_env: dict[str, str], pbx: str, admin: ApiClient
) -> None:
    # The environment names the owner client; the "restricted" profile holds the admin client.
    saved = run(
        ["config", "set", "restricted", "--url", pbx, "--client-id", admin.client_id],
        {**cli_env, "PY3CX_CLIENT_SECRET": admin.secret},
    )
    assert saved.returncode == 0, saved.stderr
    with_env = run(["get", "CallHistoryView", "--top", "1", "--json"], cli_env)
    assert with_env.returncode == 0, with_env.stderr
    with_profile = run(["--profile", "restricted", "get", "CallHistoryView", "--top", "1"], cli_env)
    assert with_profile.returncode == 1
    assert "System Owner" in with_profile.stderr


# -- input errors are messages with a hint, never a traceback (issue 9.4) ---------------------------
def test_get_takes_o_as_output_and_orderby_has_no_short_form(
    run: Callable[..., Any], cli_env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "users.json"
    done = run(["get", "Users", "--top", "1", "-o", str(target)], cli_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(target.read_text())["value"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["get", "Users", "--orderby", "Number sideways"], "$orderby item must be"),
        (["get", "Users", "--select", "First Name"], "Traceback-free"),
        (["get", "Users", "--top", "1", "--output", "{missing}/users.json"], "does not exist"),
        (["swagger", "-o", "{missing}/swagger.yaml"], "does not exist"),
        (
            ["history", "--from", "2026-11-31", "--to", "2026-12-01"],
            "--from 2026-11-31: there is no such day",
        ),
        (
            ["history", "--from", "2026-11-05", "--to", "2026-11-01"],
            "--to 2026-11-01 is before --from 2026-11-05",
        ),
        (
            [
                "report",
                "queue-performance-overview",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-02",
                "-o",
                "{missing}/q.xlsx",
            ],
            "does not exist",
        ),
    ],
)
def test_a_bad_input_is_a_message_with_a_hint_and_no_traceback(
    run: Callable[..., Any], cli_env: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    missing = tmp_path / "no-such-folder"
    done = run([a.replace("{missing}", str(missing)) for a in args], cli_env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "hint:" in done.stderr
    if message != "Traceback-free":
        assert message in " ".join(done.stderr.split())
    assert not missing.exists(), "no folder is made for a typo"


def test_a_missing_secret_is_named_as_such(run: Callable[..., Any], cli_env: dict[str, str]) -> None:
    env = {k: v for k, v in cli_env.items() if k != "PY3CX_CLIENT_SECRET"}  # and no profile saved
    done = run(["get", "Users", "--top", "1"], env)
    assert done.returncode == 2
    assert "PY3CX_CLIENT_SECRET is not set" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
