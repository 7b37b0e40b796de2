"""Simulated calls drive XAPI too: live ones in ActiveCalls, ended ones in CallHistoryView and the
`_calls` table the reports use; `Pbx.MakeCall` and `Pbx.DropCall` act on them; `watch_active`
follows them from either API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

import py3cx
from py3cx._durations import parse_datetime
from py3cx.callcontrol.active import awatch_active, watch_active
from py3cx.emulator import ApiClient

Emulator = Phones = Any  # the conftest's fixtures


@pytest.fixture
def owner(pbx: Emulator, owner_client: ApiClient) -> Iterator[py3cx.Client]:
    with py3cx.Client(pbx.url, owner_client.client_id, owner_client.secret) as client:
        yield client


def active_ids(client: py3cx.Client) -> set[int]:
    return {row["Id"] for row in client.paginate("ActiveCalls")}


def test_a_live_call_is_in_active_calls_and_an_ended_one_in_call_history(
    owner: py3cx.Client, phones: Phones, pbx: Emulator
) -> None:
    call = phones.call("+442079460999", "0336")
    rows = {row["Id"]: row for row in owner.paginate("ActiveCalls")}
    assert rows[call["callid"]]["Caller"] == "+442079460999"
    assert rows[call["callid"]]["Status"] == "Ringing"
    phones.answer(call["callid"])
    assert {row["Id"]: row for row in owner.paginate("ActiveCalls")}[call["callid"]]["Status"] == "Talking"
    phones.end(call["callid"])
    assert call["callid"] not in active_ids(owner)
    segments = owner.get("CallHistoryView", orderby="SegmentId desc", top=2)["value"]
    assert [s["SrcCallerNumber"] for s in segments] == ["+442079460999", "+442079460999"]
    assert sorted((s["DstDn"], s["CallAnswered"]) for s in segments) == [
        ("0336", False),
        (segments[0]["DstDn"], True),
    ]
    with pbx.state.engine.connect() as conn:
        recorded = (
            conn.execute(sa.select(pbx.state.calls).order_by(pbx.state.calls.c.call_id.desc()))
            .mappings()
            .first()
        )
    assert recorded is not None
    assert (recorded["queue_dn"], recorded["answered"], recorded["abandoned"]) == ("0336", 1, 0)
    assert recorded["caller_number"] == "+442079460999" and recorded["direction"] == "inbound"


def test_xapi_make_call_starts_a_simulated_call_and_drop_call_ends_it(
    owner: py3cx.Client, phones: Phones
) -> None:
    answer = owner.post("Users/Pbx.MakeCall", {"dn": "111", "destination": "+4930123000"})
    assert answer["FinalStatus"] == "Success" and answer["Result"]["Status"] == "Dialing"
    callid = answer["Result"]["CallId"]
    deadline = time.monotonic() + 2
    while callid not in active_ids(owner):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    owner.post(f"ActiveCalls({callid})/Pbx.DropCall")
    assert callid not in {c["callid"] for c in phones.calls()["active"]}
    assert callid not in active_ids(owner)


def test_watch_active_follows_calls_through_call_control(
    pbx: Emulator, phones: Phones, route_point: ApiClient
) -> None:
    with py3cx.Client(pbx.url, route_point.client_id, route_point.secret) as client:
        watcher = watch_active(client, interval=0.2)
        try:
            assert next(watcher) == []
            call = phones.call("+385141112222", "112")
            rows = next(r for r in watcher if r)
            assert [(r["Id"], r["Caller"], r["Callee"], r["Status"]) for r in rows] == [
                (call["callid"], "+385141112222", "112", "Ringing")
            ]
            phones.end(call["callid"])
            assert next(r for r in watcher if not r) == []
        finally:
            watcher.close()


def test_watch_active_polls_xapi_for_other_clients(owner: py3cx.Client, phones: Phones) -> None:
    watcher = watch_active(owner, interval=0.1)
    try:
        call = phones.call("+385141113333", "113")
        rows = next(r for r in watcher if call["callid"] in {x["Id"] for x in r})
        assert {"Caller", "Callee", "Status", "EstablishedAt"} <= set(rows[-1])
    finally:
        watcher.close()


def started_at(client: py3cx.Client, callid: int) -> datetime:
    row = next(r for r in client.paginate("ActiveCalls") if r["Id"] == callid)
    return parse_datetime(row["EstablishedAt"])


def same_moment(shown: str, expected: datetime) -> bool:
    return abs((parse_datetime(shown) - expected).total_seconds()) < 0.001  # shown to the millisecond


def test_a_call_in_progress_when_the_watch_starts_keeps_its_real_start(
    pbx: Emulator, phones: Phones, route_point: ApiClient, owner: py3cx.Client
) -> None:
    call = phones.call("+385141114444", "113")
    phones.answer(call["callid"])
    expected = started_at(owner, call["callid"])
    with py3cx.Client(pbx.url, route_point.client_id, route_point.secret) as client:
        watcher = watch_active(client, interval=0.2)
        try:
            row = next(r for r in next(watcher) if r["Id"] == call["callid"])
        finally:
            watcher.close()
    assert row["Status"] == "Talking" and same_moment(row["EstablishedAt"], expected)


def test_the_async_watch_keeps_the_real_start_too_and_names_the_queue(
    pbx: Emulator, phones: Phones, route_point: ApiClient, owner: py3cx.Client
) -> None:
    call = phones.call("+385141115555", "0337")
    expected = started_at(owner, call["callid"])
    name = next(q["Name"] for q in owner.paginate("Queues") if q["Number"] == "0337")

    async def first_rows() -> list[dict[str, Any]]:
        async with py3cx.AsyncClient(pbx.url, route_point.client_id, route_point.secret) as client:
            watcher = awatch_active(client, interval=0.2)
            try:
                return await watcher.__anext__()
            finally:
                await watcher.aclose()

    row = next(r for r in asyncio.run(first_rows()) if r["Id"] == call["callid"])
    assert same_moment(row["EstablishedAt"], expected)
    assert row["Callee"] == f"0337 {name}"  # the queue by number and name, as ActiveCalls has it


def test_a_calls_id_is_the_same_live_and_in_the_call_log(owner: py3cx.Client, phones: Phones) -> None:
    """One id per call: Call Control's `callid`, ActiveCalls' `Id` and the call log's `CallId`
    (connect keys a call's events by it, whichever source saw the call first)."""
    call = phones.call("+442079460998", "100")
    assert call["callid"] in active_ids(owner)
    phones.answer(call["callid"])
    phones.end(call["callid"])
    today = datetime.now().astimezone().date().isoformat()
    rows = owner.get(
        "ReportCallLogData/Pbx.GetCallLogData(periodFrom="
        + today
        + "T00:00:00Z,periodTo="
        + today
        + "T23:59:59Z,sourceType=0,sourceFilter='',destinationType=0,destinationFilter='',callsType=0,"
        "callTimeFilterType=0,callTimeFilterFrom='0:00:0',callTimeFilterTo='0:00:0',hidePcalls=true)",
        filter="SourceCallerId eq '+442079460998'",
    )["value"]
    assert rows and {row["CallId"] for row in rows} == {call["callid"]}
