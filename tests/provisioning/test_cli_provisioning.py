"""`3cx users|departments|queues` against a real emulator on loopback, stdout piped (so JSON).

One scenario runs the installed console script in a subprocess, exactly as a user does; the
others call the same `main()` in this process, which skips a second of start-up per command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from py3cx import Client
from py3cx.emulator import RunningEmulator

from .conftest import OWNER


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def env(emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "PY3CX_URL": emulator.url,
        "PY3CX_CLIENT_ID": OWNER.client_id,
        "PY3CX_CLIENT_SECRET": OWNER.secret,
        "PY3CX_CACHE_DIR": str(tmp_path / "cache"),
        "PY3CX_CONFIG": str(tmp_path / "config.toml"),
        "COLUMNS": "200",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def cli(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """Run `3cx ARGS` in this process through the console script's `main()` (stdout is not a
    terminal, so JSON; stdin is not one either, so nothing can be confirmed interactively)."""
    from py3cx.cli.main import main

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["3cx", *args])
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def run_script(env: dict[str, str], *args: str) -> Result:
    """Run the installed console script in a subprocess, the way a user does."""
    script = Path(sys.executable).parent / "3cx"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "py3cx.cli.main"]
    proc = subprocess.run(
        [*command, *args],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}, **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def emails(client: Client) -> set[str]:
    return {
        u["EmailAddress"] for u in client.paginate("Users", select=["EmailAddress"]) if u.get("EmailAddress")
    }


STAFF = "Email,FirstName,LastName,Number,Department\nnew.one@example.com,New,One,,Sales\nbroken,Bad,Row,,\n"


def test_dry_run_shows_the_plan_and_changes_nothing(
    cli: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    staff = tmp_path / "staff.csv"
    staff.write_text(STAFF, encoding="utf-8")
    before = emails(client)
    result = cli("users", "sync", str(staff), "--dry-run")
    body = result.json()
    assert body["dry_run"] is True and body["result"] is None
    assert body["plan"]["counts"]["create"] == 1 and body["plan"]["counts"]["invalid"] == 1
    assert "dry run: nothing was changed" in result.err
    assert emails(client) == before


def test_console_script_sync_says_which_lines_failed_exits_1_and_a_second_run_changes_nothing(
    env: dict[str, str], client: Client, tmp_path: Path
) -> None:
    staff = tmp_path / "staff.csv"
    staff.write_text(STAFF, encoding="utf-8")
    first = run_script(env, "users", "sync", str(staff))
    assert first.code == 1
    assert "line 3: broken" in first.err and "1 row(s) failed (lines 3)" in first.err
    assert [o["action"] for o in first.json()["result"]["outcomes"]] == ["create"]
    assert "new.one@example.com" in emails(client)

    second = run_script(env, "users", "sync", str(staff))
    assert second.json()["result"] is None  # nothing pending: nothing sent
    assert second.json()["plan"]["counts"]["unchanged"] == 1
    assert "nothing to change" in second.err


def test_clean_file_syncs_with_exit_code_0(cli: Callable[..., Result], tmp_path: Path) -> None:
    staff = tmp_path / "staff.csv"
    staff.write_text("Email,FirstName\nclean@example.com,Clean\n", encoding="utf-8")
    assert cli("users", "sync", str(staff)).code == 0
    assert cli("users", "sync", str(staff)).code == 0


def test_delete_missing_is_refused_without_yes_when_nobody_can_confirm(
    cli: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    keep = sorted(emails(client))[0]
    staff = tmp_path / "staff.csv"
    staff.write_text(f"Email\n{keep}\n", encoding="utf-8")
    before = emails(client)
    refused = cli("users", "sync", str(staff), "--delete-missing")
    assert refused.code == 2 and "pass --yes" in refused.err
    assert emails(client) == before
    done = cli("users", "sync", str(staff), "--delete-missing", "--yes")
    assert done.code == 0
    assert emails(client) == {keep}


def test_unknown_column_is_a_usage_error_with_a_hint(cli: Callable[..., Result], tmp_path: Path) -> None:
    staff = tmp_path / "staff.csv"
    staff.write_text("Emial\nx@example.com\n", encoding="utf-8")
    result = cli("users", "sync", str(staff))
    assert result.code == 2
    assert "unknown column 'Emial'" in result.err and "hint:" in result.err
    assert "Traceback" not in result.err


def test_users_create_takes_the_first_free_number_and_refuses_a_second_create(
    cli: Callable[..., Result],
) -> None:
    created = cli(
        "users",
        "create",
        "--email",
        "Kim.OHara@example.com",
        "--first-name",
        "Kim",
        "--department",
        "support",
    )
    assert created.code == 0, created.err
    number = created.json()["number"]

    shown = cli("users", "show", "kim.ohara@EXAMPLE.com").json()
    assert (shown["Number"], shown["FirstName"]) == (number, "Kim")

    again = cli("users", "create", "--email", "kim.ohara@example.com")
    assert again.code == 2 and "already exists" in again.err


def test_users_update_and_delete(cli: Callable[..., Result], client: Client) -> None:
    user = next(iter(client.paginate("Users", select=["Number", "EmailAddress"])))
    number = user["Number"]
    updated = cli("users", "update", number, "--mobile", "020 7946 0018", "--region", "GB")
    assert updated.code == 0, updated.err
    assert updated.json()["body"] == {"Mobile": "+442079460018"}

    renumber = cli("users", "update", number, "--number", "199")
    assert renumber.code == 2 and "does not change a user's extension number" in renumber.err

    assert cli("users", "delete", number).code == 2  # no --yes and no terminal to ask
    assert cli("users", "delete", number, "--yes").code == 0
    assert user["EmailAddress"] not in emails(client)


def test_queue_agents_add_and_remove_from_the_command_line(
    cli: Callable[..., Result], client: Client
) -> None:
    agents = cli("queues", "agents", "list", "0336").json()["value"]
    numbers = [a["Number"] for a in agents]
    outsider = next(
        u["Number"] for u in client.paginate("Users", select=["Number"]) if u["Number"] not in numbers
    )

    added = cli("queues", "agents", "add", "0336", outsider)
    assert added.code == 0, added.err
    assert added.json()["agents"] == [*numbers, outsider]

    removed = cli("queues", "agents", "remove", "0336", numbers[0])
    assert removed.json()["agents"] == [*numbers[1:], outsider]

    unknown = cli("queues", "agents", "add", "0336", "999")
    assert unknown.code == 2 and "not a user's extension: 999" in unknown.err


def test_departments_and_queues_sync_from_files(
    cli: Callable[..., Result], client: Client, tmp_path: Path
) -> None:
    departments = tmp_path / "departments.csv"
    departments.write_text("Name\nLegal\n", encoding="utf-8")
    assert cli("departments", "sync", str(departments)).json()["result"]["counts"]["create"] == 1
    assert cli("departments", "sync", str(departments)).json()["plan"]["counts"]["unchanged"] == 1

    queues = tmp_path / "queues.csv"
    queues.write_text("Number,Name,Agents\n0336,Sales Queue,100 101\n", encoding="utf-8")
    first = cli("queues", "sync", str(queues))
    assert first.code == 0, first.err
    assert cli("queues", "sync", str(queues)).json()["plan"]["counts"]["unchanged"] == 1
    listed = {q["Number"]: q for q in cli("queues", "list").json()["value"]}
    assert listed["0336"]["Agents"] == "100 101"


@pytest.mark.parametrize("group", ["users", "departments", "queues"])
def test_each_provisioning_command_group_lives_in_the_module_named_after_it(group: str) -> None:
    import importlib

    from py3cx.cli.main import app

    registered = {info.name: info.typer_instance for info in app.registered_groups}
    assert registered[group] is getattr(importlib.import_module(f"py3cx.cli.{group}"), f"{group}_app")


def test_queue_agents_live_in_the_agents_module() -> None:
    from py3cx.cli.agents import agents_app
    from py3cx.cli.queues import queues_app

    assert {info.name: info.typer_instance for info in queues_app.registered_groups}["agents"] is agents_app
