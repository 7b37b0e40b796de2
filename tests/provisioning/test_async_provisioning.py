"""The async faces run the same steps: AsyncClient on the emulator's ASGI app, in process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx2

from py3cx import AsyncClient, F
from py3cx.emulator import create_app
from py3cx.provisioning import (
    SourceRow,
    add_queue_agents_async,
    apply_plan_async,
    plan_queues_async,
    plan_users_async,
    remove_queue_agents_async,
)

from .conftest import OWNER, emulator_config

T = TypeVar("T")


def with_pbx(scenario: Callable[[AsyncClient], Awaitable[T]]) -> T:
    async def main() -> T:
        transport = httpx2.ASGITransport(app=create_app(emulator_config()))
        async with AsyncClient("http://pbx.test", OWNER.client_id, OWNER.secret, transport=transport) as pbx:
            return await scenario(pbx)

    return asyncio.run(main())


def test_async_sync_applied_twice_changes_nothing_the_second_time() -> None:
    rows = [
        SourceRow(2, {"Email": "async.one@example.com", "FirstName": "One", "Department": "Sales"}),
        SourceRow(3, {"Email": "async.two@example.com", "FirstName": "Two", "Number": "188"}),
        SourceRow(4, {"Email": "@nowhere", "FirstName": "Bad"}),
    ]

    async def scenario(pbx: AsyncClient) -> tuple[dict[str, int], dict[str, int], list[str]]:
        first = await apply_plan_async(pbx, await plan_users_async(pbx, rows))
        second = await plan_users_async(pbx, rows)
        found = await pbx.get("Users", filter=F("EmailAddress").startswith("async."), select=["Number"])
        return first.counts(), second.counts(), sorted(u["Number"] for u in found["value"])

    first, second, numbers = with_pbx(scenario)
    assert (first["create"], first["failed"]) == (2, 1)
    assert (second["unchanged"], second["create"], second["invalid"]) == (2, 0, 1)
    assert "188" in numbers and len(numbers) == 2


def test_async_agents_add_and_remove_keep_the_other_agents() -> None:
    async def scenario(pbx: AsyncClient) -> tuple[list[str], list[str], list[str]]:
        queue = (await pbx.get("Queues", filter=F("Number") == "0337", expand="Agents"))["value"][0]
        before = [a["Number"] for a in queue["Agents"]]
        users = [u["Number"] async for u in pbx.paginate("Users", select=["Number"])]
        outsider = next(n for n in users if n not in before)
        await add_queue_agents_async(pbx, "0337", [outsider])
        removed = await remove_queue_agents_async(pbx, "0337", [before[0]])
        return before, [outsider], removed.agents

    before, added, after = with_pbx(scenario)
    assert after == before[1:] + added


def test_async_queue_plan_matches_the_sync_rules() -> None:
    async def scenario(pbx: AsyncClient) -> list[str]:
        plan = await plan_queues_async(pbx, [SourceRow(2, {"Number": "0336", "Agents": "999"})])
        return [c.reason or "" for c in plan.skipped]

    assert with_pbx(scenario) == ["unknown agent extension(s): 999"]
