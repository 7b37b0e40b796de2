"""A PBX that caps its page size or ignores ``$orderby``: reports and exports still hold every row once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from py3cx import AsyncClient
from py3cx.reports import parse_period

from .conftest import OWNER, Pbx


def _call_log_ids(rows: list[dict[str, Any]]) -> list[int]:
    return sorted(int(row["SegmentId"]) for row in rows)


def test_report_rows_read_past_pages_shorter_than_asked(capped_pbx: Pbx) -> None:
    first, last = capped_pbx.days(10)
    with capped_pbx.client() as client:
        rows = list(client.reports.rows("call-log", start=first, end=last, tz="UTC", page_size=100))
    expected = capped_pbx.segment_ids(*_utc_bounds(capped_pbx, 10))
    assert len(expected) > 100 and _call_log_ids(rows) == expected


def test_async_report_rows_read_past_pages_shorter_than_asked(capped_pbx: Pbx) -> None:
    first, last = capped_pbx.days(10)

    async def fetch() -> list[dict[str, Any]]:
        async with AsyncClient(capped_pbx.url, OWNER.client_id, OWNER.secret, max_retries=0) as client:
            return [
                row
                async for row in client.reports.rows(
                    "call-log", start=first, end=last, tz="UTC", page_size=100
                )
            ]

    assert _call_log_ids(asyncio.run(fetch())) == capped_pbx.segment_ids(*_utc_bounds(capped_pbx, 10))


def _utc_bounds(pbx: Pbx, days: int) -> tuple[datetime, datetime]:
    period = parse_period(*pbx.days(days), timezone.utc)
    return period.start, period.end
