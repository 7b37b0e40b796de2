"""The shared face of the provisioning commands (`3cx users|departments|queues`): a plan shown as a
table (or JSON), applied, and every failed row reported by line with a non-zero exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from py3cx._exceptions import ConfigError
from py3cx.cli import output
from py3cx.cli.options import connect

if TYPE_CHECKING:
    from py3cx._client import Client
    from py3cx.provisioning import Plan, SourceRow

# Options shared by the `users`, `departments` and `queues` commands.
FileArg = Annotated[
    Path, typer.Argument(help="A .csv (UTF-8) or .xlsx file; the first row names the columns.")
]
SheetOption = Annotated[str | None, typer.Option("--sheet", help="XLSX sheet to read (default: the first).")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")]
DeleteMissingOption = Annotated[
    bool, typer.Option("--delete-missing", help="Also delete what the PBX has and the file does not list.")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting.")]


def plan_rows(plan: Plan) -> list[dict[str, Any]]:
    """The plan as table rows (action, line, what, details); unchanged rows are only counted."""
    from py3cx.provisioning import Action

    return [
        {"action": c.action.value, "line": c.line or "", "what": c.label, "details": c.describe()}
        for c in plan.ordered()
        if c.action is not Action.UNCHANGED
    ]


def confirm_deletes(plan: Plan, yes: bool) -> None:
    """Ask before a plan deletes anything, unless `--yes`.

    Raises ConfigError when nobody is at a terminal to answer, typer.Abort when the answer is no.
    """
    from py3cx.provisioning import Action

    deletes = plan.of(Action.DELETE)
    if not deletes or yes:
        return
    what = f"{len(deletes)} {plan.entity_set.lower()}: " + ", ".join(c.label for c in deletes[:5])
    what += " ..." if len(deletes) > 5 else ""
    if not sys.stdin.isatty():
        raise ConfigError(
            f"the plan deletes {what}", hint="pass --yes to confirm, or --dry-run to look first"
        )
    typer.confirm(f"Delete {what}?", abort=True)


def run_sync(
    file: Path,
    sheet: str | None,
    make_plan: Callable[[Client, list[SourceRow]], Plan],
    *,
    dry_run: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Read a file, show its plan, apply it (unless `dry_run`) and report every failed row by line.

    Prints one JSON document when piped or with `--json`. Raises ConfigError for a bad file,
    typer.Exit(1) when any row failed. Example: `run_sync(path, None, make_plan, dry_run=True, ...)`.
    """
    from py3cx.provisioning import apply_plan, read_rows

    rows = read_rows(file, sheet=sheet)
    json_out = output.json_mode(as_json)
    with connect() as client:
        plan = make_plan(client, rows)
        counts = plan.counts()
        if not json_out:
            shown = plan_rows(plan)
            if shown:
                output.console.print(output.table(shown, title=f"Plan for {file.name}"))
        output.info(
            "plan: " + ", ".join(f"{n} {a}" for a, n in counts.items() if n)
            if plan.changes
            else "plan: empty"
        )
        result = None
        if not dry_run and plan.pending:
            confirm_deletes(plan, yes)
            result = apply_plan(client, plan)
    if json_out:
        output.write_json({"dry_run": dry_run, "plan": plan.as_dict(), "result": result and result.as_dict()})
    if result is not None:
        done = result.counts()
        output.info("applied: " + ", ".join(f"{n} {a}" for a, n in done.items() if a != "failed"))
    elif dry_run:
        output.info("dry run: nothing was changed")
    else:
        output.info("nothing to change")
    problems = result.problems if result is not None else plan.problems
    for change, message in problems:
        where = f"line {change.line}: " if change.line is not None else ""
        output.warn(f"{where}{change.label}: {message}")
    if problems:
        lines = ", ".join(str(c.line) for c, _ in problems if c.line is not None)
        output.error(f"{len(problems)} row(s) failed" + (f" (lines {lines})" if lines else ""))
        raise typer.Exit(1)


def apply_one_row(client: Client, plan: Plan, *, allowed: tuple[str, ...]) -> dict[str, Any]:
    """Apply the one-row plan of a `create` or `update` command and return what was done.

    Raises ConfigError for a skipped row or an action the command does not allow (a `create`
    of a user who exists); typer.Exit(1) after printing the PBX's refusal.
    """
    from py3cx.provisioning import apply_plan

    change = plan.changes[0]
    if change.skipped:
        raise ConfigError(change.reason or "refused")
    if change.action.value not in allowed:
        if change.action.value in ("update", "unchanged"):
            raise ConfigError(f"{change.label} already exists", hint="change it with the `update` command")
        raise ConfigError(f"cannot {change.action.value} {change.label} here")
    if change.action.value == "unchanged":
        return {"action": "unchanged", "label": change.label, "id": change.id}
    result = apply_plan(client, plan)
    if result.refused:
        output.error(f"the PBX refused: {result.refused[0].error}")
        raise typer.Exit(1)
    return result.outcomes[0].as_dict()


def confirm(what: str, yes: bool) -> None:
    """Ask before deleting `what`, unless `--yes`. Raises ConfigError when nobody can answer."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise ConfigError(f"not deleting {what} without confirmation", hint="pass --yes")
    typer.confirm(f"Delete {what}?", abort=True)


def one_row(**cells: str | None) -> SourceRow:
    """A row built from command options (no file line); options not given are left out.

    Example: `one_row(EmailAddress="ann@example.com", Number=None)`.
    """
    from py3cx.provisioning import SourceRow

    return SourceRow(None, {k: v for k, v in cells.items() if v})
