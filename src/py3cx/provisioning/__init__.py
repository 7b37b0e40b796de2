"""Users, departments and queues from files: read the rows, plan, then apply.

    from py3cx import Client
    from py3cx.provisioning import apply_plan, plan_users, read_rows

    with Client("https://pbx.example.com", "my-client", "secret") as pbx:
        plan = plan_users(pbx, read_rows("staff.xlsx"), match="email")
        for change in plan.skipped:
            print(change.line, change.reason)        # bad rows, by line
        result = apply_plan(pbx, plan)              # the rest is applied; run it again: no changes

A plan is computed from one snapshot of the PBX (a listing per entity set) by pure functions
(``compute_user_plan`` and friends), so it can be shown, tested and applied separately. Every
function has an ``_async`` twin taking a :class:`py3cx.AsyncClient`; both run the same steps
(:mod:`py3cx.provisioning.driver`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from py3cx.provisioning.apply import apply_flow, first_free_number
from py3cx.provisioning.departments import (
    DEPARTMENT_COLUMNS,
    compute_department_plan,
    department_plan_flow,
    find_department_flow,
)
from py3cx.provisioning.directory import Directory, Entity
from py3cx.provisioning.driver import run, run_async
from py3cx.provisioning.plan import Action, ApplyResult, Change, Outcome, Plan
from py3cx.provisioning.queues import (
    QUEUE_COLUMNS,
    AgentChange,
    agents_flow,
    compute_queue_plan,
    find_queue_flow,
    queue_plan_flow,
)
from py3cx.provisioning.source import SourceRow, read_rows
from py3cx.provisioning.users import USER_COLUMNS, Match, compute_user_plan, find_user_flow, user_plan_flow

if TYPE_CHECKING:
    from py3cx._client import AsyncClient, Client

__all__ = [
    "DEPARTMENT_COLUMNS",
    "QUEUE_COLUMNS",
    "USER_COLUMNS",
    "Action",
    "AgentChange",
    "ApplyResult",
    "Change",
    "Directory",
    "Match",
    "Outcome",
    "Plan",
    "SourceRow",
    "add_queue_agents",
    "add_queue_agents_async",
    "apply_plan",
    "apply_plan_async",
    "compute_department_plan",
    "compute_queue_plan",
    "compute_user_plan",
    "find_department",
    "find_queue",
    "find_queue_async",
    "find_user",
    "first_free_number",
    "plan_departments",
    "plan_departments_async",
    "plan_queues",
    "plan_queues_async",
    "plan_users",
    "plan_users_async",
    "read_rows",
    "remove_queue_agents",
    "remove_queue_agents_async",
]


def plan_users(
    client: Client,
    rows: Sequence[SourceRow],
    *,
    match: Match = "email",
    delete_missing: bool = False,
    region: str | None = None,
) -> Plan:
    """Plan the users of a file against the PBX: create, update, unchanged, conflict, invalid, delete.

    Nothing is changed. Raises ConfigError for a bad file (unknown column, no key column),
    APIStatusError when the PBX refuses to list users or departments.
    Example: ``plan = plan_users(client, read_rows("staff.csv"), match="email")``.
    """
    return run(client, user_plan_flow(rows, match=match, delete_missing=delete_missing, region=region))


async def plan_users_async(
    client: AsyncClient,
    rows: Sequence[SourceRow],
    *,
    match: Match = "email",
    delete_missing: bool = False,
    region: str | None = None,
) -> Plan:
    """The async twin of :func:`plan_users`. Example: ``plan = await plan_users_async(client, rows)``."""
    return await run_async(
        client, user_plan_flow(rows, match=match, delete_missing=delete_missing, region=region)
    )


def plan_departments(client: Client, rows: Sequence[SourceRow], *, delete_missing: bool = False) -> Plan:
    """Plan the departments (``Groups``) of a file against the PBX. Nothing is changed.

    Raises ConfigError for a bad file, APIStatusError when the PBX refuses the listing.
    Example: ``plan = plan_departments(client, read_rows("departments.csv"))``.
    """
    return run(client, department_plan_flow(rows, delete_missing=delete_missing))


async def plan_departments_async(
    client: AsyncClient, rows: Sequence[SourceRow], *, delete_missing: bool = False
) -> Plan:
    """The async twin of :func:`plan_departments`."""
    return await run_async(client, department_plan_flow(rows, delete_missing=delete_missing))


def plan_queues(client: Client, rows: Sequence[SourceRow], *, delete_missing: bool = False) -> Plan:
    """Plan the queues of a file (numbers, names, complete agent lists) against the PBX. Nothing is changed.

    Raises ConfigError for a bad file, APIStatusError when the PBX refuses a listing.
    Example: ``plan = plan_queues(client, read_rows("queues.xlsx"))``.
    """
    return run(client, queue_plan_flow(rows, delete_missing=delete_missing))


async def plan_queues_async(
    client: AsyncClient, rows: Sequence[SourceRow], *, delete_missing: bool = False
) -> Plan:
    """The async twin of :func:`plan_queues`."""
    return await run_async(client, queue_plan_flow(rows, delete_missing=delete_missing))


def apply_plan(client: Client, plan: Plan) -> ApplyResult:
    """Apply the pending changes of a plan; a change the PBX refuses is recorded and the rest go on.

    Rows the plan skipped are not sent. Applying a fresh plan of the same file again changes
    nothing. Raises APIConnectionError or TokenError only when the PBX cannot be reached at all.
    Example: ``result = apply_plan(client, plan); assert result.ok, result.failed``.
    """
    return run(client, apply_flow(plan))


async def apply_plan_async(client: AsyncClient, plan: Plan) -> ApplyResult:
    """The async twin of :func:`apply_plan`."""
    return await run_async(client, apply_flow(plan))


def add_queue_agents(client: Client, queue: str, extensions: Iterable[str]) -> AgentChange:
    """Add agents to a queue by read-modify-write: every other agent stays (a PATCH replaces the list).

    Raises ConfigError for an unknown queue or an extension that is not a user's.
    Example: ``add_queue_agents(client, "0336", ["101", "102"])``.
    """
    return run(client, agents_flow(queue, extensions, add=True))


async def add_queue_agents_async(client: AsyncClient, queue: str, extensions: Iterable[str]) -> AgentChange:
    """The async twin of :func:`add_queue_agents`."""
    return await run_async(client, agents_flow(queue, extensions, add=True))


def remove_queue_agents(client: Client, queue: str, extensions: Iterable[str]) -> AgentChange:
    """Remove agents from a queue by read-modify-write; every other agent stays.

    Raises ConfigError for an unknown queue. Example: ``remove_queue_agents(client, "0336", ["101"])``.
    """
    return run(client, agents_flow(queue, extensions, add=False))


async def remove_queue_agents_async(
    client: AsyncClient, queue: str, extensions: Iterable[str]
) -> AgentChange:
    """The async twin of :func:`remove_queue_agents`."""
    return await run_async(client, agents_flow(queue, extensions, add=False))


def find_user(client: Client, reference: str) -> Entity:
    """One user by extension number or e-mail (any case), with its departments (``Groups``).

    Raises ConfigError when no user or several match. Example: ``find_user(client, "Ann@Example.com")``.
    """
    return run(client, find_user_flow(reference))


def find_department(client: Client, name: str) -> Entity:
    """One department by name (any case). Raises ConfigError when there is none.

    Example: ``find_department(client, "sales")["Id"]``.
    """
    return run(client, find_department_flow(name))


def find_queue(client: Client, number: str) -> Entity:
    """One queue by number (text: ``"0336"``), with its agents. Raises ConfigError when there is none.

    Example: ``find_queue(client, "0336")["Agents"]``.
    """
    return run(client, find_queue_flow(number))


async def find_queue_async(client: AsyncClient, number: str) -> Entity:
    """The async twin of :func:`find_queue`."""
    return await run_async(client, find_queue_flow(number))
