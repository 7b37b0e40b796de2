"""`3cx queues`: list, show, create, update, delete, sync from a CSV or XLSX file, and
`3cx queues agents` (see `agents.py`). A thin layer over :mod:`py3cx.provisioning`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from py3cx._exceptions import ConfigError
from py3cx.cli import output
from py3cx.cli.agents import agents_app
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

queues_app = typer.Typer(
    help="Queues: list, show, create, update, delete, sync from a file, agents.", no_args_is_help=True
)
queues_app.add_typer(agents_app, name="agents")

QUEUE_LIST_COLUMNS = ("Id", "Number", "Name", "PollingStrategy", "RingTimeout", "Agents")


def register(app: typer.Typer) -> None:
    """Add the `queues` group (with `queues agents`) to the `3cx` command."""
    app.add_typer(queues_app, name="queues")


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
