"""The typed methods of ``client.xapi`` against the emulator, over HTTP (ASGI transport).

Covers the entity sets the emulator serves with realistic data: Users, Groups, Queues, Defs,
SystemStatus, ActiveCalls, CallHistoryView, EventLogs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from py3cx import AsyncClient, Client, F, NotFoundError, PermissionDeniedError, TimeSpan, function_path
from py3cx.emulator import running_emulator
from py3cx.xapi import XAPI, AsyncPager, AsyncXAPI
from py3cx.xapi.models import (
    ActiveCall,
    CallHistoryView,
    Defs,
    EventLog,
    EventLogType,
    Group,
    Queue,
    SystemParameters,
    SystemStatus,
    User,
)

from .emulated_pbx import ADMIN, ANCHOR, emulator_app, run, xapi_requests


@pytest.fixture(scope="module")
def shared_app() -> Starlette:
    """One emulator for the tests that only read."""
    return emulator_app()


def test_client_xapi_is_the_typed_facade(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> Any:
        return pbx.xapi

    assert isinstance(run(shared_app, scenario), AsyncXAPI)


def test_list_yields_every_user_as_a_model_fetching_page_by_page(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[list[User], list[dict[str, Any]], int]:
        raw = (await pbx.get("Users"))["value"]
        before = xapi_requests(shared_app)
        users = [user async for user in pbx.xapi.users.list(page_size=7)]
        return users, raw, xapi_requests(shared_app) - before

    users, raw, requests = run(shared_app, scenario)
    assert all(isinstance(user, User) for user in users)
    assert [user.Id for user in users] == [row["Id"] for row in raw]
    assert requests == len(raw) // 7 + 1  # full pages, then the short one that ends it


def test_a_pager_sends_nothing_until_it_is_iterated(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[int, int]:
        before = xapi_requests(shared_app)
        pager = pbx.xapi.users.list(top=3)
        untouched = xapi_requests(shared_app) - before
        await pager.to_list()
        return untouched, xapi_requests(shared_app) - before

    assert run(shared_app, scenario) == (0, 1)


def test_top_caps_the_rows_and_skip_starts_further_on(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[list[int | None], list[int | None]]:
        every = [u.Id async for u in pbx.xapi.users.list(orderby="Id")]
        some = [u.Id async for u in pbx.xapi.users.list(orderby="Id", skip=2, top=5, page_size=2)]
        return every, some

    every, some = run(shared_app, scenario)
    assert some == every[2:7]


def test_filter_built_with_f_finds_a_name_with_a_quote(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> list[User]:
        quoted = await pbx.xapi.users.create(User(Number="861", FirstName="Seán", LastName="O'Brien"))
        found = await pbx.xapi.users.list(filter=F("LastName") == "O'Brien").to_list()
        await pbx.xapi.users.delete(quoted.Id or 0)
        return found

    found = run(emulator_app(), scenario)
    assert "861" in [u.Number for u in found]
    assert {u.LastName for u in found} == {"O'Brien"}


def test_count_first_and_raw(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[int, int, User | None, dict[str, Any]]:
        total = len((await pbx.get("Users"))["value"])
        pager = pbx.xapi.users.list(select=["Id", "Number"], orderby="Number")
        count = await pager.count()
        first = await pager.first()
        raw = [row async for row in pager.raw()]
        return total, count, first, raw[0]

    total, count, first, raw = run(shared_app, scenario)
    assert count == total
    assert first is not None and first.Number == raw["Number"]
    assert set(raw) <= {"Id", "Number", "@odata.etag"}
    assert first.FirstName is None  # not selected, so absent: None rather than an error


def test_get_by_key_and_by_number_give_the_same_user(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[User, User, User]:
        listed = await pbx.xapi.users.list(top=1, orderby="Number").first()
        assert listed is not None and listed.Id is not None and listed.Number is not None
        return listed, await pbx.xapi.users.get(listed.Id), await pbx.xapi.users.get_by_number(listed.Number)

    listed, by_id, by_number = run(shared_app, scenario)
    assert by_id.Id == by_number.Id == listed.Id
    assert by_id.EmailAddress == by_number.EmailAddress is not None


def test_create_update_delete_a_user(shared_app: Starlette) -> None:
    app = emulator_app()

    async def scenario(pbx: AsyncClient) -> tuple[User, User, Exception | None]:
        created = await pbx.xapi.users.create(
            User(Number="850", FirstName="Ann", LastName="Lee", EmailAddress="ann.lee@example.com")
        )
        assert created.Id is not None
        await pbx.xapi.users.update(created.Id, User(FirstName="Anne"))
        changed = await pbx.xapi.users.get(created.Id)
        await pbx.xapi.users.delete(created.Id)
        try:
            await pbx.xapi.users.get(created.Id)
        except NotFoundError as exc:
            return created, changed, exc
        return created, changed, None

    created, changed, gone = run(app, scenario)
    assert created.Number == "850"
    # PATCH carried FirstName only: the other fields kept their values.
    assert (changed.FirstName, changed.LastName, changed.EmailAddress) == (
        "Anne",
        "Lee",
        "ann.lee@example.com",
    )
    assert isinstance(gone, NotFoundError)


def test_update_accepts_a_plain_mapping_too() -> None:
    app = emulator_app()

    async def scenario(pbx: AsyncClient) -> User:
        user = await pbx.xapi.users.list(top=1).first()
        assert user is not None and user.Id is not None
        await pbx.xapi.users.update(user.Id, {"LastName": "Mapping"})
        return await pbx.xapi.users.get(user.Id)

    assert run(app, scenario).LastName == "Mapping"


def test_a_missing_user_is_not_found(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> None:
        await pbx.xapi.users.get(987654)

    with pytest.raises(NotFoundError):
        run(shared_app, scenario)


def test_groups_queues_and_a_queues_agents(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[list[Group], list[Queue], list[Any]]:
        groups = await pbx.xapi.groups.list().to_list()
        queues = await pbx.xapi.queues.list(expand="Agents").to_list()
        queue_id = next(q.Id for q in queues if q.Agents)
        assert queue_id is not None
        agents = await pbx.xapi.queues.list_agents(queue_id).to_list()
        return groups, queues, agents

    groups, queues, agents = run(shared_app, scenario)
    assert groups and all(isinstance(g, Group) for g in groups)
    assert queues and all(isinstance(q, Queue) for q in queues)
    assert [a.Number for a in agents] == [a.Number for a in next(q for q in queues if q.Agents).Agents or []]


def test_a_users_groups_through_the_navigation_property(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[list[Any], list[dict[str, Any]]]:
        user = await pbx.xapi.users.list(top=1).first()
        assert user is not None and user.Id is not None
        typed = await pbx.xapi.users.list_groups(user.Id).to_list()
        raw = (await pbx.get(f"Users({user.Id})/Groups"))["value"]
        return typed, raw

    typed, raw = run(shared_app, scenario)
    assert [g.GroupId for g in typed] == [row.get("GroupId") for row in raw]


def test_singletons_and_functions_of_defs_and_system_status(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[Defs, SystemParameters, SystemStatus]:
        return (
            await pbx.xapi.defs.get(),
            await pbx.xapi.defs.get_system_parameters(),
            await pbx.xapi.system_status.get(),
        )

    defs, parameters, status = run(shared_app, scenario)
    assert isinstance(defs, Defs)
    assert parameters.Version == "20.0.10.817"
    assert status.Version == parameters.Version


def test_active_calls_have_aware_times(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> list[ActiveCall]:
        return await pbx.xapi.active_calls.list(orderby="EstablishedAt asc").to_list()

    calls = run(shared_app, scenario)
    assert calls and all(isinstance(call.EstablishedAt, datetime) for call in calls)
    assert all(
        call.EstablishedAt is not None and call.EstablishedAt.utcoffset() == timedelta(0) for call in calls
    )


def test_call_history_rows_have_durations_as_timedelta(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> tuple[list[CallHistoryView], list[dict[str, Any]]]:
        typed = await pbx.xapi.call_history_view.list(top=20, orderby="SegmentId").to_list()
        raw = (await pbx.get("CallHistoryView", top=20, orderby="SegmentId"))["value"]
        return typed, raw

    typed, raw = run(shared_app, scenario)
    assert len(typed) == len(raw) == 20
    for row, wire in zip(typed, raw, strict=True):
        assert isinstance(row.CallTime, timedelta)
        assert row.model_dump(mode="json", by_alias=True, exclude_unset=True)["CallTime"] == wire["CallTime"]


def test_event_log_types_are_enum_members(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> list[EventLog]:
        return await pbx.xapi.event_logs.list(top=10).to_list()

    events = run(shared_app, scenario)
    assert events and all(isinstance(event.Type, EventLogType) for event in events)


def test_an_admin_client_gets_a_403_with_a_hint_on_call_history(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> None:
        await pbx.xapi.call_history_view.list(top=1).to_list()

    with pytest.raises(PermissionDeniedError) as caught:
        run(shared_app, scenario, client=ADMIN)
    assert caught.value.hint


def test_list_returns_a_pager_without_awaiting(shared_app: Starlette) -> None:
    async def scenario(pbx: AsyncClient) -> object:
        return pbx.xapi.users.list()

    assert isinstance(run(shared_app, scenario), AsyncPager)


def test_the_sync_client_has_the_same_methods_over_a_real_server() -> None:
    with running_emulator(emulator_app().state.emulator.config) as emu:
        owner = next(c for c in emu.clients if c.role == "SystemOwner")
        with Client(emu.url, owner.client_id, owner.secret) as pbx:
            assert isinstance(pbx.xapi, XAPI)
            users = pbx.xapi.users.list(page_size=4, top=6).to_list()
            same = pbx.xapi.users.get_by_number(users[0].Number or "")
            parameters = pbx.xapi.defs.get_system_parameters()
            count = pbx.xapi.users.list().count()
    assert len(users) == 6 and same.Id == users[0].Id
    assert parameters.Version == "20.0.10.817" and count >= 6


def test_a_report_function_pages_its_rows_and_takes_a_timedelta_for_a_time_span(
    shared_app: Starlette,
) -> None:
    start, end = ANCHOR - timedelta(days=30), ANCHOR
    no_filter: dict[str, Any] = {
        "source_type": 0,
        "source_filter": "",
        "destination_type": 0,
        "destination_filter": "",
        "calls_type": 0,
        "call_time_filter_type": 0,
    }

    async def scenario(pbx: AsyncClient) -> tuple[list[Any], list[Any], list[dict[str, Any]]]:
        report = pbx.xapi.report_call_log_data
        typed = await report.get_call_log_data(
            period_from=start,
            period_to=end,
            call_time_filter_from=timedelta(0),
            call_time_filter_to=timedelta(0),
            orderby="CdrId",
            page_size=10,
            **no_filter,
        ).to_list()
        as_text = await report.get_call_log_data(
            period_from=start,
            period_to=end,
            call_time_filter_from="0:00:0",
            call_time_filter_to="0:00:0",
            orderby="CdrId",
            **no_filter,
        ).to_list()
        path = function_path(
            "ReportCallLogData",
            "Pbx.GetCallLogData",
            periodFrom=start,
            periodTo=end,
            sourceType=0,
            sourceFilter="",
            destinationType=0,
            destinationFilter="",
            callsType=0,
            callTimeFilterType=0,
            callTimeFilterFrom=TimeSpan(timedelta(0)),
            callTimeFilterTo=TimeSpan(timedelta(0)),
            hidePcalls=False,
        )
        raw = (await pbx.get(path, orderby="CdrId"))["value"]
        return typed, as_text, raw

    typed, as_text, raw = run(shared_app, scenario)
    assert len(raw) > 10  # more than one page of 10
    assert [row.model_dump(by_alias=True, exclude_unset=True, mode="json") for row in typed] == raw
    assert as_text == typed
