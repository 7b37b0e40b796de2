"""The user documentation stays true to the `3cx` command it describes.

`docs/cli.md` is generated from the command's own `--help` (`tools/cli_docs.py`); these tests
fail when it is stale, when a command has no help text, and when a hand-written page shows a
`3cx` command or option that does not exist or links to a page that does not exist.
"""

from __future__ import annotations

import doctest
import importlib.util
import re
import shlex
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from py3cx._config import save_profile
from py3cx.emulator import ApiClient, EmulatorConfig, running_emulator

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _load_cli_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cli_docs", ROOT / "tools" / "cli_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


cli_docs = _load_cli_docs()


@pytest.fixture(scope="module")
def commands() -> list[Any]:
    return list(cli_docs.walk())


def test_cli_page_is_what_the_generator_makes_of_the_current_commands(commands: list[Any]) -> None:
    current = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert current == cli_docs.render(commands), (
        "docs/cli.md is stale: run `.venv/bin/python tools/cli_docs.py`"
    )


def test_check_mode_fails_on_a_stale_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "cli.md"
    stale.write_text("# an old page\n", encoding="utf-8")
    monkeypatch.setattr(cli_docs, "CLI_MD", stale)
    assert cli_docs.main(["--check"]) == 1
    assert stale.read_text(encoding="utf-8") == "# an old page\n"
    assert cli_docs.main([]) == 0
    assert cli_docs.main(["--check"]) == 0


def test_every_command_has_a_help_text(commands: list[Any]) -> None:
    without = [c.name for c in commands if c.path and not c.summary.strip()]
    assert without == [], f"commands without a help text: {without}"


def test_every_command_has_its_own_section_with_its_usage_line(commands: list[Any]) -> None:
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    for command in commands:
        assert f"\n## {command.name}\n" in page
        assert command.help.startswith(f"Usage: {command.name} ")


def test_the_cli_page_is_plain_text_at_a_fixed_width(commands: list[Any]) -> None:
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert "\x1b[" not in page and "╭" not in page
    for command in commands:
        assert max(len(line) for line in command.help.splitlines()) <= cli_docs.WIDTH, command.name


# -- hand-written pages -------------------------------------------------------------------------

HAND_WRITTEN = [
    "index.md",
    "emulator.md",
    "connect.md",
    "webhooks.md",
    "exporter.md",
    "mcp.md",
    "library.md",
    "howto/exports.md",
    "howto/live-calls.md",
    "howto/troubleshooting.md",
    "howto/tokens.md",
]


def _shell_commands(markdown: str) -> list[str]:
    """`3cx ...` lines of the shell blocks of a page (`$ ` prompts removed, `\\` joined)."""
    found: list[str] = []
    for block in re.findall(r"```(?:sh|bash|console|shell)\n(.*?)```", markdown, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("3cx "):
                found.append(line.split(" #", 1)[0].split(" | ", 1)[0].split(" > ", 1)[0].strip())
    return found


def _resolve(root: Any, words: list[str]) -> tuple[list[str], Any, list[str]]:
    """Walk `words` down the command tree: (the command's words, the command, what follows)."""
    command, used = root, []
    rest = list(words)
    while rest and hasattr(command, "commands") and rest[0] in command.commands:
        command = command.commands[rest[0]]
        used.append(rest.pop(0))
    return used, command, rest


def _options_of(command: Any) -> set[str]:
    names: set[str] = set()
    for param in command.params:
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


# pages whose shell blocks show `3cx` commands (index.md and library.md show none)
COMMAND_PAGES = [page for page in HAND_WRITTEN if page not in ("index.md", "library.md")]


@pytest.mark.parametrize("page", COMMAND_PAGES)
def test_every_command_a_page_shows_exists_with_those_options(page: str) -> None:
    import typer.main

    from py3cx.cli.main import app

    root = typer.main.get_command(app)
    global_options = _options_of(root)
    shown = _shell_commands((DOCS / page).read_text(encoding="utf-8"))
    assert shown, f"{page}: no 3cx command found in its shell blocks"
    problems = []
    for line in shown:
        words = shlex.split(line)[1:]
        while words and words[0].startswith("-"):  # global options before the command
            option = words.pop(0).split("=", 1)[0]
            if option not in global_options:
                problems.append(f"{line}: unknown global option {option}")
            elif option in {"--profile", "-p", "--url", "--client-id", "--ca-bundle"} and words:
                words.pop(0)
        used, command, rest = _resolve(root, words)
        if not used or hasattr(command, "commands"):
            problems.append(f"{line}: not a command")
            continue
        known = _options_of(command)
        for word in rest:
            option = word.split("=", 1)[0]
            if option.startswith("--") and option not in known:
                problems.append(f"{line}: {' '.join(used)} has no option {option}")
    assert problems == []


def _heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of a page: lower case, punctuation dropped, spaces to `-`."""
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M), re.M):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("page", HAND_WRITTEN)
def test_every_relative_link_of_a_page_points_at_a_file_and_heading_that_exist(page: str) -> None:
    path = DOCS / page
    text = path.read_text(encoding="utf-8")
    broken = []
    for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        linked = (path.parent / target).resolve() if target else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif (
            anchor
            and linked.suffix == ".md"
            and anchor not in _heading_anchors(linked.read_text(encoding="utf-8"))
        ):
            broken.append(f"{target}#{anchor}: no such heading")
    assert broken == []


def test_the_index_links_every_page_of_the_docs() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md") if p.name != "index.md")
    unlinked = [page for page in pages if f"({page})" not in index and f"({page}#" not in index]
    assert unlinked == []


# -- examples: every Python example of a page runs against the emulator -------------------------

RUN_PAGES = ["library.md", "emulator.md", "howto/live-calls.md", "howto/tokens.md"]
OWNER = ApiClient("owner", "owner-secret", "SystemOwner")
ADMIN = ApiClient("admin", "admin-secret", "SystemAdmin")
ROUTE_POINT = ApiClient("8000", "route-point-secret", "SystemOwner")


def _examples(page: str) -> list[tuple[str, str]]:
    """(id, code) of each `python` and `pycon` block, unless the line before says `<!-- not run`."""
    text = (DOCS / page).read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"^```(python|pycon)\n(.*?)^```", text, flags=re.S | re.M):
        before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
        if before.startswith("<!-- not run"):
            continue
        line = text.count("\n", 0, match.start()) + 1
        found.append((f"{page}:{line}:{match.group(1)}", match.group(2)))
    return found


EXAMPLES = [example for page in RUN_PAGES for example in _examples(page)]


@pytest.fixture(scope="module")
def documented_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The PBX the examples assume: an emulator whose calls end on 31 March 2025, the environment
    naming its System Owner client, and the profiles `admin` and `routepoint`."""
    config = EmulatorConfig(
        seed=1, calls=400, clients=[OWNER, ADMIN, ROUTE_POINT], now=datetime(2025, 4, 1, tzinfo=timezone.utc)
    )
    with running_emulator(config) as emu, pytest.MonkeyPatch.context() as env:
        env.setenv("PY3CX_CONFIG", str(tmp_path_factory.mktemp("config") / "config.toml"))
        env.setenv("PY3CX_URL", emu.url)
        env.setenv("PY3CX_CLIENT_ID", OWNER.client_id)
        env.setenv("PY3CX_CLIENT_SECRET", OWNER.secret)
        save_profile("admin", emu.url, ADMIN.client_id, ADMIN.secret)
        save_profile("routepoint", emu.url, ROUTE_POINT.client_id, ROUTE_POINT.secret)
        yield emu.url


def test_every_run_page_has_examples_to_run() -> None:
    for page in RUN_PAGES:
        assert _examples(page), page


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("where", "code"), EXAMPLES, ids=[where for where, _ in EXAMPLES])
def test_documented_example_runs_against_the_emulator(
    where: str, code: str, documented_pbx: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    if where.endswith(":pycon"):
        test = doctest.DocTestParser().get_doctest(code, {}, where, where, 0)
        report: list[str] = []
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test, out=report.append)
        assert runner.failures == 0, "".join(report)
    else:
        exec(compile(code, where, "exec"), {"__name__": "__main__"})
