"""Queues from a file, and queue agents changed one by one.

A PATCH of ``Queues(id)`` with ``Agents`` replaces the whole agent list (spec/BEHAVIOUR.md §5),
so every change of agents here is read-modify-write: read the queue's current agents, build the
complete new list (keeping each kept agent's entry as the PBX gave it, skill group included),
and PATCH that list. Queue numbers are text: ``0336`` keeps its zero.

In a file, ``Agents`` is the complete list for the queue (extension numbers separated by spaces,
commas or semicolons); their order is not compared, since a PBX may return them in its own order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from py3cx._exceptions import ConfigError
from py3cx.odata import F, key_path
from py3cx.provisioning.directory import USER_SELECT, Directory, Entity, display_name, read_directory
from py3cx.provisioning.driver import Flow, Read, Send
from py3cx.provisioning.fields import (
    Column,
    cells_by_field,
    checked,
    dn_number,
    header_map,
    number_list,
    whole_number,
)
from py3cx.provisioning.plan import Action, Change, Plan
from py3cx.provisioning.source import SourceRow

__all__ = [
    "QUEUE_COLUMNS",
    "AgentChange",
    "agents_flow",
    "compute_queue_plan",
    "find_queue_flow",
    "queue_plan_flow",
]

QUEUE_COLUMNS = (
    Column("Number", ("queue", "queue number", "extension")),
    Column("Name", ("queue name",)),
    Column("Agents", ("members", "extensions")),
    Column("RingTimeout", ("ring timeout", "ring time")),
    Column("PollingStrategy", ("polling strategy", "strategy", "ring strategy")),
)


def queue_plan_flow(rows: Sequence[SourceRow], *, delete_missing: bool = False) -> Flow[Plan]:
    """Read users, queues and DN numbers, then compute the plan (see :func:`compute_queue_plan`)."""
    directory = yield from read_directory(users=True, queues=True)
    return compute_queue_plan(rows, directory, delete_missing=delete_missing)


def agent_entry(user: Entity, current: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The agent entry for a user: the queue's own entry when it has one, else a new one."""
    for agent in current:
        if str(agent.get("Number")) == str(user.get("Number")):
            return dict(agent)
    return {"Id": user.get("Id"), "Name": display_name(user), "Number": str(user.get("Number"))}


def agent_numbers(queue: Mapping[str, Any]) -> list[str]:
    """The extension numbers of a queue's agents, in the PBX's order."""
    return [str(a.get("Number")) for a in queue.get("Agents") or [] if isinstance(a, Mapping)]


def compute_queue_plan(
    rows: Sequence[SourceRow], directory: Directory, *, delete_missing: bool = False
) -> Plan:
    """Compare the rows with the PBX's queues and say, per row, what applying would do.

    A row is matched by queue number, or by name when it has no number; a new queue without a
    number gets the PBX's first free queue number when applied. An agent that is not a user's
    extension makes the row invalid.
    Raises ConfigError for an unknown column or ``delete_missing`` with no valid row.
    Example: ``compute_queue_plan([SourceRow(2, {"Number": "0336", "Agents": "100 101"})], directory)``.
    """
    mapping = header_map(rows, QUEUE_COLUMNS)
    users = directory.users_by_number()
    by_number = {str(q.get("Number")): q for q in directory.queues if q.get("Number")}
    by_name: dict[str, list[Entity]] = {}
    for queue in directory.queues:
        by_name.setdefault(str(queue.get("Name") or "").casefold(), []).append(queue)
    in_use = directory.numbers_in_use()
    seen: dict[str, int | None] = {}
    named: set[Any] = set()
    changes: list[Change] = []
    for row in rows:
        cells = cells_by_field(row.values, mapping)
        problems: list[str] = []
        number = (
            checked(problems, "Number", partial(dn_number, cells["Number"])) if "Number" in cells else None
        )
        name = cells.get("Name")
        label = number or cells.get("Number") or name or f"line {row.line}"
        if cells.get("Number", "").strip() in by_number:
            named.add(by_number[cells["Number"].strip()].get("Id"))
        body: dict[str, Any] = {}
        if name:
            body["Name"] = name
        if "RingTimeout" in cells:
            timeout = checked(problems, "RingTimeout", partial(whole_number, cells["RingTimeout"], minimum=1))
            body["RingTimeout"] = timeout
        if "PollingStrategy" in cells:
            body["PollingStrategy"] = cells["PollingStrategy"]
        agents: list[str] | None = None
        if "Agents" in cells:
            agents = checked(problems, "Agents", partial(number_list, cells["Agents"]))
            unknown = [n for n in agents or [] if n not in users]
            if unknown:
                problems.append(f"unknown agent extension(s): {' '.join(unknown)}")
        if number is not None:
            matches = [by_number[number]] if number in by_number else []
        else:
            matches = by_name.get((name or "").casefold(), []) if name else []
        key = number or (name or "").casefold()
        if not key and not problems:
            problems.append("no queue number or name")
        elif key in seen:
            problems.append(f"same queue as line {seen[key]}")
        else:
            seen[key] = row.line
        if not problems and len(matches) > 1:
            reason = f"queues {', '.join(str(q.get('Number')) for q in matches)} all have this name"
            changes.append(Change(Action.CONFLICT, "Queues", label, line=row.line, reason=reason))
            continue
        if problems:
            changes.append(Change(Action.INVALID, "Queues", label, line=row.line, reason="; ".join(problems)))
            continue
        if matches:
            queue = matches[0]
            named.add(queue.get("Id"))
            changes.append(_compare(queue, body, agents, users, row.line))
            continue
        if number is not None and number in in_use:
            reason = f"number {number} is already in use by {in_use[number]}"
            changes.append(Change(Action.CONFLICT, "Queues", label, line=row.line, reason=reason))
            continue
        if not name:
            changes.append(
                Change(Action.INVALID, "Queues", label, line=row.line, reason="a new queue needs a Name")
            )
            continue
        create: dict[str, Any] = {"Number": number} if number else {}
        create.update(body)
        if agents is not None:
            create["Agents"] = [agent_entry(users[n]) for n in agents]
        changes.append(
            Change(Action.CREATE, "Queues", label, line=row.line, body=create, allocate_number=number is None)
        )
    if delete_missing:
        if all(c.skipped for c in changes):
            raise ConfigError(
                "refusing to delete queues: the file has no valid row",
                hint="fix the file first; --delete-missing deletes every queue the file does not list",
            )
        for queue in directory.queues:
            if queue.get("Id") not in named:
                label = f"{queue.get('Number')} {queue.get('Name') or ''}".strip()
                changes.append(Change(Action.DELETE, "Queues", label, id=queue.get("Id")))
    return Plan("Queues", tuple(changes))


def _compare(
    queue: Entity,
    body: dict[str, Any],
    agents: list[str] | None,
    users: Mapping[str, Entity],
    line: int | None,
) -> Change:
    patch = {k: v for k, v in body.items() if queue.get(k) != v}
    before: dict[str, Any] = {k: queue.get(k) for k in patch}
    current = [a for a in queue.get("Agents") or [] if isinstance(a, Mapping)]
    if agents is not None and set(agents) != set(agent_numbers(queue)):
        patch["Agents"] = [agent_entry(users[n], current) for n in agents]
        before["Agents"] = current
    action = Action.UPDATE if patch else Action.UNCHANGED
    label = str(queue.get("Number"))
    return Change(action, "Queues", label, line=line, id=queue.get("Id"), body=patch, before=before)


@dataclass(frozen=True)
class AgentChange:
    """What ``3cx queues agents add|remove`` did to one queue.

    ``changed`` lists the extensions added (or removed); ``ignored`` those that were already
    agents (add) or were not agents (remove); ``agents`` is the list after the change.
    """

    queue: str
    queue_id: int
    changed: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "id": self.queue_id,
            "changed": self.changed,
            "ignored": self.ignored,
            "agents": self.agents,
        }


def find_queue_flow(reference: str) -> Flow[Entity]:
    """Find one queue by its number (as text: ``0336``), agents expanded.

    Filtering the list by number works on every build (20.0.4 has no ``Queues(Number=...)`` key).
    Raises ConfigError when no queue has that number.
    """
    try:
        number = dn_number(reference)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    found = yield Read("Queues", filter=F("Number") == number, expand="Agents")
    if not found:
        raise ConfigError(f"no queue with number {number}", hint="`3cx queues list` shows the queues")
    queue: Entity = found[0]
    return queue


def agents_flow(queue_number: str, extensions: Iterable[str], *, add: bool) -> Flow[AgentChange]:
    """Add (``add=True``) or remove agents of one queue by read-modify-write; the other agents stay.

    Nothing is sent when the list would not change. Raises ConfigError for an unknown queue, a
    bad extension number, or (when adding) an extension that is not a user.
    """
    try:
        wanted = number_list(" ".join(extensions))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if not wanted:
        raise ConfigError("no extension given", hint="name one or more extension numbers, e.g. 101 102")
    queue = yield from find_queue_flow(queue_number)
    current = [dict(a) for a in queue.get("Agents") or [] if isinstance(a, Mapping)]
    numbers = agent_numbers(queue)
    if add:
        changed = [n for n in wanted if n not in numbers]
        ignored = [n for n in wanted if n in numbers]
        if changed:
            users = yield Read("Users", filter=F("Number").in_(changed), select=USER_SELECT)
            by_number = {str(u.get("Number")): u for u in users}
            unknown = [n for n in changed if n not in by_number]
            if unknown:
                raise ConfigError(
                    f"not a user's extension: {' '.join(unknown)}",
                    hint="queue agents must be users' extensions",
                )
            new_list = current + [agent_entry(by_number[n]) for n in changed]
    else:
        changed = [n for n in wanted if n in numbers]
        ignored = [n for n in wanted if n not in numbers]
        new_list = [a for a in current if str(a.get("Number")) not in changed]
    if changed:
        yield Send("PATCH", key_path("Queues", queue["Id"]), {"Agents": new_list})
        numbers = [str(a.get("Number")) for a in new_list]
    return AgentChange(str(queue.get("Number")), int(queue["Id"]), changed, ignored, numbers)
