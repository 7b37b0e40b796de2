"""A PBX that sends fewer rows than `$top` asks (a page-size cap): paging still gets every row."""

from __future__ import annotations

import asyncio

import httpx2

import py3cx
from py3cx.emulator import create_app, running_emulator

from .emulated import owner_of, small_config, unique_pbx_url

CAP = 7


def every_segment_id() -> list[int]:
    """The SegmentIds of the small PBX, read from an emulator without a cap."""
    with running_emulator(small_config()) as plain:
        owner = owner_of(plain)
        with py3cx.Client(plain.url, owner.client_id, owner.secret) as client:
            return [row["SegmentId"] for row in client.paginate("CallHistoryView", page_size=1000)]


def test_paginate_reads_past_a_page_shorter_than_asked() -> None:
    expected = every_segment_id()
    with running_emulator(small_config(max_page_size=CAP)) as capped:
        owner = owner_of(capped)
        with py3cx.Client(capped.url, owner.client_id, owner.secret) as client:
            assert len(client.get("CallHistoryView", top=50)["value"]) == CAP
            rows = client.paginate("CallHistoryView", page_size=50)
            ids = [row["SegmentId"] for row in rows]
            assert rows.count == len(expected)
    assert len(expected) > 50 and ids == expected


def test_async_paginate_reads_past_a_page_shorter_than_asked() -> None:
    expected = every_segment_id()
    cfg = small_config(max_page_size=CAP)
    owner = owner_of(cfg)
    app = create_app(cfg)

    async def read() -> list[int]:
        transport = httpx2.ASGITransport(app)
        async with py3cx.AsyncClient(
            unique_pbx_url(), owner.client_id, owner.secret, transport=transport
        ) as c:
            return [row["SegmentId"] async for row in c.paginate("CallHistoryView", page_size=50)]

    try:
        assert asyncio.run(read()) == expected
    finally:
        app.state.emulator.close()


def test_without_a_count_paging_ends_on_an_empty_page_not_a_short_one() -> None:
    expected = every_segment_id()
    with running_emulator(small_config(max_page_size=CAP)) as capped:
        owner = owner_of(capped)
        with py3cx.Client(capped.url, owner.client_id, owner.secret) as client:
            pages = list(client.iter_pages("CallHistoryView", page_size=50, count=False))
    assert [row["SegmentId"] for page in pages for row in page.rows] == expected
    assert pages[-1].rows == [] and all(page.count is None for page in pages)


def test_a_count_sent_as_a_string_ends_paging_like_a_number() -> None:
    """A PBX in front of which the count comes as a string (IEEE754Compatible), between the
    client and a real emulator."""
    with running_emulator(small_config(max_page_size=CAP)) as capped:
        owner = owner_of(capped)
        upstream = httpx2.Client(base_url=capped.url)

        def forward(request: httpx2.Request) -> httpx2.Response:
            answer = upstream.request(
                request.method,
                request.url.raw_path.decode(),
                headers=request.headers,
                content=request.content,
            )
            body = answer.json()
            if isinstance(body, dict) and "@odata.count" in body:
                body["@odata.count"] = str(body["@odata.count"])
            return httpx2.Response(answer.status_code, json=body)

        transport = httpx2.MockTransport(forward)
        with py3cx.Client("http://pbx.test", owner.client_id, owner.secret, transport=transport) as client:
            rows = client.paginate("CallHistoryView", page_size=50)
            ids = [row["SegmentId"] for row in rows]
        upstream.close()
    assert rows.count == len(ids) == len(set(ids)) > 50
