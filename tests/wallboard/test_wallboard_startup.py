"""A wallboard started in the middle of the day starts from the PBX's own data: today's answered
and abandoned queue calls from the report, the real start of the calls in progress (ActiveCalls),
and the queues' names; the events take it on from there."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx2

import py3cx
from py3cx._durations import parse_datetime

Phones = StartWallboard = Any  # the conftest's fixtures
QUEUE = "0338"


def board_when(url: str, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        picture: dict[str, Any] = httpx2.get(url + "/api/board", timeout=5).json()
        if ready(picture):
            return picture
        assert time.monotonic() < deadline, f"the board never got there: {picture}"
        time.sleep(0.05)


def queue_call(phones: Phones, *, answer: bool, end: bool) -> dict[str, Any]:
    call: dict[str, Any] = phones.post("calls", {"from": "+442079460555", "to": QUEUE})
    if answer:
        phones.post(f"calls/{call['callid']}/answer")
    if end:
        phones.post(f"calls/{call['callid']}/end")
    return call


def test_a_board_started_mid_day_shows_today_so_far_and_the_real_start_of_calls_in_progress(
    pbx_client: py3cx.Client, phones: Phones, start_wallboard: StartWallboard
) -> None:
    queue_call(phones, answer=True, end=True)
    queue_call(phones, answer=False, end=True)
    going = queue_call(phones, answer=True, end=False)
    client, today = pbx_client, date.today()
    totals = next(
        r
        for r in client.reports.rows("queue-performance-totals", start=today, end=today)
        if r["QueueDn"] == QUEUE
    )
    active = next(r for r in client.paginate("ActiveCalls") if r["Id"] == going["callid"])
    name = next(q["Name"] for q in client.paginate("Queues") if q["Number"] == QUEUE)
    answered = totals.get("ExtensionAnsweredCount", 0)
    abandoned = totals.get("QueueReceivedCount", 0) - answered
    assert answered >= 1 and abandoned >= 1  # the two ended calls are in today's report

    with start_wallboard() as url:
        picture = board_when(
            url, lambda p: p["connected"] and any(c["Id"] == going["callid"] for c in p["calls"])
        )
    queue = next(q for q in picture["queues"] if q["dn"] == QUEUE)
    # the call still going is not in the report yet: the events count it, once
    assert (queue["answered"], queue["abandoned"], queue["name"]) == (answered + 1, abandoned, name)
    call = next(c for c in picture["calls"] if c["Id"] == going["callid"])
    started = parse_datetime(active["EstablishedAt"])
    assert abs((parse_datetime(call["EstablishedAt"]) - started).total_seconds()) < 0.001
    agent = next(x for x in picture["extensions"] if x["dn"] == going["participants"][-1]["dn"])
    assert agent["status"] == "talking" and abs(agent["since"] - started.timestamp()) < 0.001
