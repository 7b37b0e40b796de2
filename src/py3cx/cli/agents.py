"""`3cx queues agents`: list, add and remove a queue's agents by read-modify-write, so the
other agents stay (a PATCH of `Agents` replaces the whole list on a PBX).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from py3cx.cli import output
from py3cx.cli.options import JsonOption, connect

agents_app = typer.Typer(
    help="A queue's agents, changed by read-modify-write (the other agents stay).", no_args_is_help=True
)

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
