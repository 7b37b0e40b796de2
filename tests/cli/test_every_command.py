"""Every `3cx` command, given a bad input a person could type, answers with a message (and exit
status 2 for usage, 1 for the PBX), never a traceback. A new command must add its row here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import typer.main

from clirun import Result, run_3cx
from py3cx.cli.main import app

# a PBX that is not there: what a typo in the URL gives (connection refused, at once)
NOWHERE = {"PY3CX_URL": "http://127.0.0.1:9", "PY3CX_CLIENT_ID": "someone", "PY3CX_CLIENT_SECRET": "s3cret"}
REPORT_ROW = ["--tz", "Mars/Base", "--from", "2026-02-01", "--to", "2026-02-02", "-o", "{tmp}/r.csv"]

# command -> (arguments, extra environment)
BAD_INPUTS: dict[str, tuple[list[str], dict[str, str]]] = {
    "token": ([], NOWHERE),
    "get": (["Users", "--orderby", "Name sideways up"], NOWHERE),
    "swagger": (["-o", "{tmp}/no-such-folder/spec.yaml"], NOWHERE),
    "history": (["--from", "2026-02-30", "--to", "2026-03-01"], NOWHERE),
    "wallboard": (["--port", "99999"], NOWHERE),
    "demo": (["--calls", "-5"], {}),
    "config set": (["office", "--url", "ftp://pbx", "--client-id", "a"], {"PY3CX_CLIENT_SECRET": "s3cret"}),
    "config use": (["nowhere"], {}),
    "config list": ([], {"PY3CX_CONFIG": "{tmp}/broken.toml"}),
    "config show": (["nowhere"], {}),
    "config delete": (["nowhere"], {}),
    "calls active": (["--source", "telepathy"], NOWHERE),
    "report list": (["--bogus"], {}),
    "users list": ([], NOWHERE),
    "users show": (["100"], NOWHERE),
    "users create": (["--number", "100", "--first-name", "A", "--email", "not-an-email"], NOWHERE),
    "users update": (["100", "--email", "not-an-email"], NOWHERE),
    "users delete": (["100", "--yes"], NOWHERE),
    "users sync": (["{tmp}/no-such.csv"], NOWHERE),
    "departments list": ([], NOWHERE),
    "departments show": (["Sales"], NOWHERE),
    "departments create": (["Sales"], NOWHERE),
    "departments update": (["Sales", "--name", "Sales 2"], NOWHERE),
    "departments delete": (["Sales", "--yes"], NOWHERE),
    "departments sync": (["{tmp}/no-such.xlsx"], NOWHERE),
    "queues list": ([], NOWHERE),
    "queues show": (["0336"], NOWHERE),
    "queues create": (["0336", "--name", "Sales"], NOWHERE),
    "queues update": (["0336", "--name", "Sales"], NOWHERE),
    "queues delete": (["0336", "--yes"], NOWHERE),
    "queues sync": (["{tmp}/no-such.csv"], NOWHERE),
    "queues agents list": (["0336"], NOWHERE),
    "queues agents add": (["0336", "100"], NOWHERE),
    "queues agents remove": (["0336", "100"], NOWHERE),
    "call make": (["100", "101"], NOWHERE),
    "call answer": (["100", "1"], NOWHERE),
    "call drop": (["100", "1"], NOWHERE),
    "call divert": (["100", "1", "101"], NOWHERE),
    "call transfer": (["100", "1", "101"], NOWHERE),
    "call route": (["100", "1", "101"], NOWHERE),
    "call list": (["100"], NOWHERE),
    "call dns": ([], NOWHERE),
    "events watch": (["--limit", "1"], NOWHERE),
    "emulator serve": (["--faults", "500=2"], {}),
    "connect migrate": ([], {"PY3CX_DB": "mysql://u@h/d"}),
    "connect rotate-key": ([], {"PY3CX_CONNECT_KEY": "not-a-key"}),
    "connect sync": (["--pbx", "nowhere"], {}),
    "connect status": ([], {"PY3CX_DB": "postgresql+psycopg://u:pw@127.0.0.1:9/x"}),
    "connect run": (["--listen", "nowhere"], {}),
    "connect worker": ([], {}),
    "connect pbx add": (
        ["bad name", "--url", "https://pbx", "--client-id", "a"],
        {"PY3CX_CLIENT_SECRET": "s"},
    ),
    "connect pbx import": (["{tmp}/no-such.json"], {}),
    "connect pbx list": ([], {"PY3CX_CONNECT_KEY": "not-a-key"}),
    "connect pbx remove": (["nowhere", "--yes"], {}),
    "connect pbx test": (["nowhere"], {}),
    "connect endpoint add": (["ftp://crm.example.com/hooks", "--secret", "not-a-whsec"], {}),
    "connect endpoint list": ([], {"PY3CX_DB": "mysql://u@h/d"}),
    "connect endpoint disable": (["999"], {}),
    "connect endpoint enable": (["999"], {}),
    "connect endpoint remove": (["999", "--yes"], {}),
    "connect endpoint rotate-secret": (["999"], {}),
    "connect endpoint limits": (["999", "--rate-limit", "0"], {}),
    "connect deliveries": (["--endpoint", "x"], {}),
    "connect replay": (["--since", "2026-13-01"], {}),
    "connect contacts import": (["{tmp}/no-such.csv"], {}),
    "connect key add": (["nowhere", "--label", "CRM"], {}),
    "connect key list": (["nowhere"], {}),
    "connect key revoke": (["999"], {}),
    "connect key rotate": (["999", "--overlap", "-1"], {}),
    "exporter": (["--listen", "127.0.0.1:99999"], {}),
    "mcp serve": (["--allow", "launch_missiles"], {}),
}


def _commands() -> Iterator[str]:
    def walk(command: Any, path: list[str]) -> Iterator[str]:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path)

    yield from walk(typer.main.get_command(app), [])


COMMANDS = list(_commands())


def test_every_command_has_a_row_of_bad_input() -> None:
    missing = [c for c in COMMANDS if c not in BAD_INPUTS and not c.startswith("report ")]
    assert missing == []
    assert sorted(set(BAD_INPUTS) - set(COMMANDS)) == []


def _run(command: str, tmp: Path) -> Result:
    args, extra = BAD_INPUTS.get(command, (REPORT_ROW, NOWHERE))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PY3CX_")}
    env.update(
        PY3CX_CONFIG=str(tmp / "config.toml"),
        PY3CX_CACHE_DIR=str(tmp / "cache"),
        PY3CX_DB=f"sqlite:///{tmp / 'connect.db'}",
        PY3CX_CONNECT_KEY_FILE=str(tmp / "connect.key"),
    )
    env.update({k: v.replace("{tmp}", str(tmp)) for k, v in extra.items()})
    return run_3cx([*command.split(), *(a.replace("{tmp}", str(tmp)) for a in args)], env, timeout=90)


def test_every_command_answers_bad_input_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("[profiles.office\nurl = ")
    folders = {c: tmp_path / c.replace(" ", "-") for c in COMMANDS}
    for folder in folders.values():
        folder.mkdir()
        (folder / "broken.toml").write_text("[profiles.office\nurl = ")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(COMMANDS, pool.map(lambda c: _run(c, folders[c]), COMMANDS), strict=True))
    bad = {
        command: (result.returncode, result.stderr.strip().splitlines()[-3:])
        for command, result in results.items()
        if result.returncode not in (1, 2) or "Traceback" in result.stderr or "rror" not in result.stderr
    }
    assert bad == {}
    assert not list(folders["swagger"].glob("no-such-folder"))


@pytest.mark.parametrize("command", ["call make", "users list", "token"])
def test_a_refused_connection_names_the_host_and_port(command: str, tmp_path: Path) -> None:
    result = _run(command, tmp_path)
    assert result.returncode == 1 and "127.0.0.1:9" in result.stderr and "hint:" in result.stderr
