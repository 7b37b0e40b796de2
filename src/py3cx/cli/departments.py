"""`3cx departments`: list, show, create, update, delete, and sync from a CSV or XLSX file.

Departments are the PBX's `Groups` entity set; a thin layer over :mod:`py3cx.provisioning`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from py3cx._exceptions import ConfigError
from py3cx.cli import output
from py3cx.cli.options import JsonOption, connect
from py3cx.cli.provisioning import (
    DeleteMissingOption,
    DryRunOption,
    FileArg,
    SheetOption,
    YesOption,
    apply_one_row,
    confirm,
    one_row,
    run_sync,
)

if TYPE_CHECKING:
    from py3cx._client import Client
    from py3cx.provisioning import Plan, SourceRow

departments_app = typer.Typer(
    help="Departments (the Groups entity set): list, show, create, update, delete, sync.",
    no_args_is_help=True,
)

GROUP_LIST_COLUMNS = ("Id", "Number", "Name", "Language", "IsDefault")


def register(app: typer.Typer) -> None:
    """Add the `departments` group to the `3cx` command."""
    app.add_typer(departments_app, name="departments")


@departments_app.command("list")
def departments_list(as_json: JsonOption = False) -> None:
    """List departments."""
    from py3cx.provisioning.directory import GROUP_SELECT

    with connect() as client:
        rows = list(client.paginate("Groups", select=GROUP_SELECT, orderby="Name"))
    output.emit({"value": rows}, as_json=as_json, columns=GROUP_LIST_COLUMNS, title="Departments")


@departments_app.command("show")
def departments_show(
    name: Annotated[str, typer.Argument(help="Department name.")], as_json: JsonOption = False
) -> None:
    """Show one department with its members."""
    from py3cx.odata import key_path
    from py3cx.provisioning import find_department

    with connect() as client:
        found = find_department(client, name)
        full = client.get(key_path("Groups", found["Id"]), expand="Members")
    output.emit(full, as_json=as_json, title=f"Department {found.get('Name')}")


@departments_app.command("create")
def departments_create(
    name: Annotated[str, typer.Argument(help="Department name.")],
    language: Annotated[str | None, typer.Option("--language", help="Prompt language, e.g. EN.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a department."""
    from py3cx.provisioning import plan_departments

    with connect() as client:
        plan = plan_departments(client, [one_row(Name=name, Language=language)])
        done = apply_one_row(client, plan, allowed=("create",))
    output.emit(done, as_json=as_json, title="Created")


@departments_app.command("update")
def departments_update(
    name: Annotated[str, typer.Argument(help="Department name.")],
    new_name: Annotated[str | None, typer.Option("--name", help="Rename the department.")] = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
) -> None:
    """Rename a department or change its language."""
    from py3cx.odata import key_path
    from py3cx.provisioning import find_department

    body = {k: v for k, v in {"Name": new_name, "Language": language}.items() if v}
    if not body:
        raise ConfigError("nothing to change", hint="give --name or --language")
    with connect() as client:
        found = find_department(client, name)
        client.patch(key_path("Groups", found["Id"]), body)
    output.info(f"updated department {found.get('Name')}")


@departments_app.command("delete")
def departments_delete(
    name: Annotated[str, typer.Argument(help="Department name.")], yes: YesOption = False
) -> None:
    """Delete a department (never the default one)."""
    from py3cx.odata import key_path
    from py3cx.provisioning import find_department
    from py3cx.provisioning.departments import is_default_group

    with connect() as client:
        found = find_department(client, name)
        if is_default_group(found):
            raise ConfigError(f"{found.get('Name')} is the default department", hint="the PBX keeps it")
        confirm(f"department {found.get('Name')}", yes)
        client.delete(key_path("Groups", found["Id"]))
    output.info(f"deleted department {found.get('Name')}")


@departments_app.command("sync")
def departments_sync(
    file: FileArg,
    delete_missing: DeleteMissingOption = False,
    dry_run: DryRunOption = False,
    sheet: SheetOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Make the PBX's departments match a file (columns: Name, Language); plan, then apply."""
    from py3cx.provisioning import plan_departments

    def make_plan(client: Client, rows: list[SourceRow]) -> Plan:
        return plan_departments(client, rows, delete_missing=delete_missing)

    run_sync(file, sheet, make_plan, dry_run=dry_run, yes=yes, as_json=as_json)
