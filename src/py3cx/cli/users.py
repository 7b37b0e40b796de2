"""`3cx users`: list, show, create, update, delete, and sync from a CSV or XLSX file.

A thin layer over :mod:`py3cx.provisioning`: `create` and `update` are one-row plans, so they
check e-mails, numbers and departments exactly as `sync` does. Departments, queues and their
agents have modules of their own (`departments.py`, `queues.py`, `agents.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

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
    from py3cx.provisioning import Match, Plan, SourceRow

users_app = typer.Typer(
    help="Users (extensions): list, show, create, update, delete, sync from a file.", no_args_is_help=True
)


class MatchBy(str, Enum):
    email = "email"
    number = "number"


USER_LIST_COLUMNS = ("Id", "Number", "FirstName", "LastName", "EmailAddress", "Mobile", "Department")

RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="Country (ISO code, e.g. GB) of phone numbers written without +.",
        envvar="PY3CX_REGION",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the `users` group to the `3cx` command."""
    app.add_typer(users_app, name="users")


def _userone_row(user: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: user.get(k) for k in USER_LIST_COLUMNS if k in user}
    groups = [g for g in user.get("Groups") or [] if isinstance(g, Mapping)]
    out["Department"] = ", ".join(str(g.get("Name") or g.get("GroupId")) for g in groups)
    return out


@users_app.command("list")
def users_list(
    top: Annotated[int | None, typer.Option("--top", min=1, help="At most this many users.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List users with their departments."""
    from py3cx.provisioning.directory import USER_SELECT

    with connect() as client:
        rows = [
            _userone_row(u)
            for u in client.paginate("Users", select=USER_SELECT, expand="Groups", orderby="Number", top=top)
        ]
    output.emit({"value": rows}, as_json=as_json, columns=USER_LIST_COLUMNS, title="Users")


@users_app.command("show")
def users_show(
    user: Annotated[str, typer.Argument(help="Extension number or e-mail address.")],
    as_json: JsonOption = False,
) -> None:
    """Show one user (all properties, departments expanded)."""
    from py3cx.odata import key_path
    from py3cx.provisioning import find_user

    with connect() as client:
        found = find_user(client, user)
        full = client.get(key_path("Users", found["Id"]), expand="Groups")
    output.emit(full, as_json=as_json, title=f"User {found.get('Number')}")


@users_app.command("create")
def users_create(
    email: Annotated[
        str | None, typer.Option("--email", help="E-mail address (matches users in sync).")
    ] = None,
    first_name: Annotated[str | None, typer.Option("--first-name")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name")] = None,
    number: Annotated[
        str | None, typer.Option("--number", help="Extension; default: the first free one.")
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Department name or GRP number.")
    ] = None,
    mobile: Annotated[str | None, typer.Option("--mobile", help="Mobile number (+44...).")] = None,
    caller_id: Annotated[str | None, typer.Option("--outbound-caller-id", help="Outbound caller id.")] = None,
    region: RegionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a user; without --number the PBX gives the first free extension."""
    from py3cx.provisioning import plan_users

    if not email and not number:
        raise ConfigError("give --email or --number", hint="a user is found again by its e-mail or extension")
    row = one_row(
        EmailAddress=email,
        FirstName=first_name,
        LastName=last_name,
        Number=number,
        Department=department,
        Mobile=mobile,
        OutboundCallerID=caller_id,
    )
    with connect() as client:
        plan = plan_users(client, [row], match="email" if email else "number", region=region)
        done = apply_one_row(client, plan, allowed=("create",))
    output.emit(done, as_json=as_json, title="Created")


@users_app.command("update")
def users_update(
    user: Annotated[str, typer.Argument(help="Extension number or e-mail address.")],
    email: Annotated[str | None, typer.Option("--email")] = None,
    first_name: Annotated[str | None, typer.Option("--first-name")] = None,
    last_name: Annotated[str | None, typer.Option("--last-name")] = None,
    department: Annotated[str | None, typer.Option("--department", help="Move to this department.")] = None,
    mobile: Annotated[str | None, typer.Option("--mobile")] = None,
    caller_id: Annotated[str | None, typer.Option("--outbound-caller-id")] = None,
    number: Annotated[
        str | None, typer.Option("--number", help="Refused: the PBX keeps a user's number.")
    ] = None,
    region: RegionOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change some fields of a user; fields not given stay as they are."""
    from py3cx.provisioning import find_user, plan_users

    if number:
        raise ConfigError(
            "the PBX does not change a user's extension number",
            hint="delete the user and create it again with the new number",
        )
    with connect() as client:
        found = find_user(client, user)
        row = one_row(
            Number=str(found["Number"]),
            EmailAddress=email,
            FirstName=first_name,
            LastName=last_name,
            Department=department,
            Mobile=mobile,
            OutboundCallerID=caller_id,
        )
        plan = plan_users(client, [row], match="number", region=region)
        done = apply_one_row(client, plan, allowed=("update", "unchanged"))
    output.emit(done, as_json=as_json, title="Updated")


@users_app.command("delete")
def users_delete(
    user: Annotated[str, typer.Argument(help="Extension number or e-mail address.")], yes: YesOption = False
) -> None:
    """Delete one user."""
    from py3cx.odata import key_path
    from py3cx.provisioning import find_user

    with connect() as client:
        found = find_user(client, user)
        confirm(f"user {found.get('Number')} ({found.get('EmailAddress') or 'no e-mail'})", yes)
        client.delete(key_path("Users", found["Id"]))
    output.info(f"deleted user {found.get('Number')}")


@users_app.command("sync")
def users_sync(
    file: FileArg,
    match: Annotated[
        MatchBy, typer.Option("--match", help="Find each row's user by e-mail (any case) or by number.")
    ] = MatchBy.email,
    delete_missing: DeleteMissingOption = False,
    dry_run: DryRunOption = False,
    region: RegionOption = None,
    sheet: SheetOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Make the PBX's users match a file: show the plan, then apply it (a second run changes nothing).

    Columns: Email, FirstName, LastName, Number, Department, Mobile, OutboundCallerID. A blank cell
    leaves that field as it is; a row without a number gets the first free extension. Rows with
    an error are reported by line and skipped; the exit code is 1 when any row failed.
    """
    from py3cx.provisioning import plan_users

    match_by: Match = "number" if match is MatchBy.number else "email"

    def make_plan(client: Client, rows: list[SourceRow]) -> Plan:
        return plan_users(client, rows, match=match_by, delete_missing=delete_missing, region=region)

    run_sync(file, sheet, make_plan, dry_run=dry_run, yes=yes, as_json=as_json)
