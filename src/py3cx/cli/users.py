"""`3cx users|departments|queues`: list, show, create, update, delete, and sync from a CSV or XLSX file.

A thin layer over :mod:`py3cx.provisioning`: `create` and `update` are one-row plans, so they
check e-mails, numbers and departments exactly as `sync` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from py3cx._exceptions import ConfigError
from py3cx.cli import output
from py3cx.cli.options import JsonOption, connect
from py3cx.cli.provisioning import apply_one_row, confirm, one_row, run_sync

if TYPE_CHECKING:
    from py3cx._client import Client
    from py3cx.provisioning import Match, Plan, SourceRow

users_app = typer.Typer(
    help="Users (extensions): list, show, create, update, delete, sync from a file.", no_args_is_help=True
)
departments_app = typer.Typer(
    help="Departments (the Groups entity set): list, show, create, update, delete, sync.",
    no_args_is_help=True,
)
queues_app = typer.Typer(
    help="Queues: list, show, create, update, delete, sync from a file, agents.", no_args_is_help=True
)
agents_app = typer.Typer(
    help="A queue's agents, changed by read-modify-write (the other agents stay).", no_args_is_help=True
)
queues_app.add_typer(agents_app, name="agents")


class MatchBy(str, Enum):
    email = "email"
    number = "number"


USER_LIST_COLUMNS = ("Id", "Number", "FirstName", "LastName", "EmailAddress", "Mobile", "Department")
GROUP_LIST_COLUMNS = ("Id", "Number", "Name", "Language", "IsDefault")
QUEUE_LIST_COLUMNS = ("Id", "Number", "Name", "PollingStrategy", "RingTimeout", "Agents")

FileArg = Annotated[
    Path, typer.Argument(help="A .csv (UTF-8) or .xlsx file; the first row names the columns.")
]
SheetOption = Annotated[str | None, typer.Option("--sheet", help="XLSX sheet to read (default: the first).")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")]
DeleteMissingOption = Annotated[
    bool, typer.Option("--delete-missing", help="Also delete what the PBX has and the file does not list.")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting.")]
RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="Country (ISO code, e.g. GB) of phone numbers written without +.",
        envvar="PY3CX_REGION",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the `users`, `departments` and `queues` groups to the `3cx` command."""
    app.add_typer(users_app, name="users")
    app.add_typer(departments_app, name="departments")
    app.add_typer(queues_app, name="queues")


# -- users -------------------------------------------------------------------------------------


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


# -- departments -------------------------------------------------------------------------------


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


# -- queues ------------------------------------------------------------------------------------


def _queueone_row(queue: Mapping[str, Any]) -> dict[str, Any]:
    from py3cx.provisioning.queues import agent_numbers

    out = {k: queue.get(k) for k in QUEUE_LIST_COLUMNS if k in queue}
    out["Agents"] = " ".join(agent_numbers(queue))
    return out


@queues_app.command("list")
def queues_list(as_json: JsonOption = False) -> None:
    """List queues with their agents' extensions."""
    from py3cx.provisioning.directory import QUEUE_SELECT

    with connect() as client:
        rows = [
            _queueone_row(q)
            for q in client.paginate("Queues", select=QUEUE_SELECT, expand="Agents", orderby="Number")
        ]
    output.emit({"value": rows}, as_json=as_json, columns=QUEUE_LIST_COLUMNS, title="Queues")


@queues_app.command("show")
def queues_show(
    number: Annotated[str, typer.Argument(help="Queue number, e.g. 0336.")], as_json: JsonOption = False
) -> None:
    """Show one queue (all properties, agents expanded)."""
    from py3cx.odata import key_path
    from py3cx.provisioning import find_queue

    with connect() as client:
        found = find_queue(client, number)
        full = client.get(key_path("Queues", found["Id"]), expand="Agents,Managers")
    output.emit(full, as_json=as_json, title=f"Queue {found.get('Number')}")


NameOption = Annotated[str | None, typer.Option("--name", help="Queue name.")]
AgentsOption = Annotated[
    str | None, typer.Option("--agents", help='All agents\' extensions, e.g. "101 102".')
]
RingTimeoutOption = Annotated[str | None, typer.Option("--ring-timeout", help="Seconds to ring an agent.")]
StrategyOption = Annotated[
    str | None, typer.Option("--polling-strategy", help="e.g. Hunt, RingAll, LongestWaiting.")
]


@queues_app.command("create")
def queues_create(
    name: NameOption = None,
    number: Annotated[
        str | None, typer.Option("--number", help="Queue number; default: the first free one.")
    ] = None,
    agents: AgentsOption = None,
    ring_timeout: RingTimeoutOption = None,
    strategy: StrategyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a queue; without --number the PBX gives the first free queue number."""
    from py3cx.provisioning import plan_queues

    if not name:
        raise ConfigError("a new queue needs --name")
    row = one_row(Number=number, Name=name, Agents=agents, RingTimeout=ring_timeout, PollingStrategy=strategy)
    with connect() as client:
        done = apply_one_row(client, plan_queues(client, [row]), allowed=("create",))
    output.emit(done, as_json=as_json, title="Created")


@queues_app.command("update")
def queues_update(
    number: Annotated[str, typer.Argument(help="Queue number, e.g. 0336.")],
    name: NameOption = None,
    agents: AgentsOption = None,
    ring_timeout: RingTimeoutOption = None,
    strategy: StrategyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a queue; --agents replaces the whole agent list (see `queues agents add|remove`)."""
    from py3cx.provisioning import find_queue, plan_queues

    with connect() as client:
        found = find_queue(client, number)
        row = one_row(
            Number=str(found["Number"]),
            Name=name,
            Agents=agents,
            RingTimeout=ring_timeout,
            PollingStrategy=strategy,
        )
        done = apply_one_row(client, plan_queues(client, [row]), allowed=("update", "unchanged"))
    output.emit(done, as_json=as_json, title="Updated")


@queues_app.command("delete")
def queues_delete(
    number: Annotated[str, typer.Argument(help="Queue number.")], yes: YesOption = False
) -> None:
    """Delete a queue."""
    from py3cx.odata import key_path
    from py3cx.provisioning import find_queue

    with connect() as client:
        found = find_queue(client, number)
        confirm(f"queue {found.get('Number')} ({found.get('Name')})", yes)
        client.delete(key_path("Queues", found["Id"]))
    output.info(f"deleted queue {found.get('Number')}")


@queues_app.command("sync")
def queues_sync(
    file: FileArg,
    delete_missing: DeleteMissingOption = False,
    dry_run: DryRunOption = False,
    sheet: SheetOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Make the PBX's queues match a file (Number, Name, Agents, RingTimeout, PollingStrategy)."""
    from py3cx.provisioning import plan_queues

    def make_plan(client: Client, rows: list[SourceRow]) -> Plan:
        return plan_queues(client, rows, delete_missing=delete_missing)

    run_sync(file, sheet, make_plan, dry_run=dry_run, yes=yes, as_json=as_json)


QueueArg = Annotated[str, typer.Argument(help="Queue number, e.g. 0336 (leading zeros kept).")]
ExtensionsArg = Annotated[list[str], typer.Argument(help="Extension numbers.")]


@agents_app.command("list")
def agents_list(queue: QueueArg, as_json: JsonOption = False) -> None:
    """List a queue's agents."""
    from py3cx.provisioning import find_queue

    with connect() as client:
        found = find_queue(client, queue)
    output.emit(
        {"value": found.get("Agents") or []}, as_json=as_json, title=f"Agents of {found.get('Number')}"
    )


@agents_app.command("add")
def agents_add(queue: QueueArg, extensions: ExtensionsArg, as_json: JsonOption = False) -> None:
    """Add agents to a queue; the other agents stay."""
    from py3cx.provisioning import add_queue_agents

    with connect() as client:
        change = add_queue_agents(client, queue, extensions)
    _show_agent_change(change.as_dict(), "added", "already agents", as_json)


@agents_app.command("remove")
def agents_remove(queue: QueueArg, extensions: ExtensionsArg, as_json: JsonOption = False) -> None:
    """Remove agents from a queue; the other agents stay."""
    from py3cx.provisioning import remove_queue_agents

    with connect() as client:
        change = remove_queue_agents(client, queue, extensions)
    _show_agent_change(change.as_dict(), "removed", "not agents", as_json)


def _show_agent_change(change: dict[str, Any], verb: str, ignored: str, as_json: bool) -> None:
    if output.json_mode(as_json):
        output.write_json(change)
        return
    if change["changed"]:
        output.info(f"queue {change['queue']}: {verb} {' '.join(change['changed'])}")
    else:
        output.info(f"queue {change['queue']}: nothing to change")
    if change["ignored"]:
        output.info(f"{ignored}: {' '.join(change['ignored'])}")
    output.console.print(f"agents of {change['queue']}: {' '.join(change['agents']) or '(none)'}")
