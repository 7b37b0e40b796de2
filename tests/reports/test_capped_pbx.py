"""A PBX that caps its page size or ignores ``$orderby``: reports and exports still hold every row once."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from py3cx import AsyncClient
from py3cx.reports import ExportOptions, ExportResult, parse_period

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


def _export_ids(
    pbx: Pbx, tmp_path: Path, days: int, options: ExportOptions
) -> tuple[ExportResult, list[int]]:
    first, last = pbx.days(days)
    with pbx.client() as client:
        result = client.reports.export(
            "call-history", tmp_path / "h.jsonl", start=first, end=last, tz="UTC", options=options
        )
    lines = (tmp_path / "h.jsonl").read_text(encoding="utf-8").splitlines()
    return result, [json.loads(line)["SegmentId"] for line in lines]


@pytest.mark.parametrize(
    "options",
    [
        ExportOptions(page_size=100, concurrency=3),
        ExportOptions(page_size=30, concurrency=2, window_rows=120),
        ExportOptions(page_size=100, window=timedelta(days=2), window_rows=60),
    ],
    ids=["page-cap", "slices", "windows"],
)
def test_a_history_export_from_a_view_that_ignores_orderby_holds_every_segment_once(
    capped_pbx: Pbx, tmp_path: Path, options: ExportOptions
) -> None:
    result, ids = _export_ids(capped_pbx, tmp_path, 30, options)
    expected = capped_pbx.segment_ids(*_utc_bounds(capped_pbx, 30))
    assert len(expected) > 300
    assert sorted(ids) == expected and len(ids) == len(set(ids))
    assert result.complete
